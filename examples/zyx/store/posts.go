package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/fedist/fedist/regions"
)

// AddPost stores post p of its author, who must live here, with the reference to it in the
// author's record, and returns the author as updated.
func (s *Store) AddPost(ctx context.Context, p Post) (User, error) {
	var u User
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.liveUser(ctx, tx, p.Author); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO posts(id, author, text, at) VALUES (?, ?, ?, ?)`,
			idText(p.ID), idText(p.Author), p.Text, nanos(p.At)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO post_refs(user_id, post_id, at) VALUES (?, ?, ?)`,
			idText(p.Author), idText(p.ID), nanos(p.At)); err != nil {
			return err
		}
		var err error
		u, err = s.user(ctx, tx, `id = ?`, idText(p.Author))
		return err
	})
	return u, err
}

// Post returns post id.
func (s *Store) Post(ctx context.Context, id regions.ID) (Post, error) {
	p := Post{ID: id}
	var author string
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT author, text, at FROM posts WHERE id = ?`, idText(id)).Scan(&author, &p.Text, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Post{}, fmt.Errorf("post %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Post{}, err
	}
	p.At = fromNanos(at)
	p.Author, err = regions.ParseID(author)
	return p, err
}

// recentRefs returns user id's latest post references, newest first.
func (s *Store) recentRefs(ctx context.Context, q querier, id regions.ID) ([]Ref, error) {
	rows, err := q.QueryContext(ctx, `SELECT post_id, at FROM post_refs WHERE user_id = ? ORDER BY at DESC, post_id DESC LIMIT ?`,
		idText(id), s.recent)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Ref
	for rows.Next() {
		var pid string
		var at int64
		if err := rows.Scan(&pid, &at); err != nil {
			return nil, err
		}
		r := Ref{At: fromNanos(at)}
		if r.ID, err = regions.ParseID(pid); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/fedist/fedist/regions"
)

// CreateUser stores a new user with the follows and post references it carries (a user moving
// in brings them). When local is not empty, the handle directory maps local to the user too, or
// the call fails with ErrHandleTaken.
func (s *Store) CreateUser(ctx context.Context, u User, local string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if local != "" {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM handles WHERE local = ?`, local).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("handle %q: %w", local, ErrHandleTaken)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO handles(local, user_id) VALUES (?, ?)`, local, idText(u.ID)); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO users(id, handle, name, created, origin) VALUES (?, ?, ?, ?, ?)`,
			idText(u.ID), u.Handle, u.Name, nanos(u.Created), idText(u.Origin)); err != nil {
			return err
		}
		return merge(ctx, tx, u.ID, u.Following, u.Recent, u.Created)
	})
}

// merge adds follows and post references to user id, skipping those it has.
func merge(ctx context.Context, tx *sql.Tx, id regions.ID, following []regions.ID, recent []Ref, now time.Time) error {
	for i, f := range following {
		// since keeps the given order: the i-th follow is i nanoseconds older than the next.
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO follows(follower, followee, since) VALUES (?, ?, ?)`,
			idText(id), idText(f), nanos(now)-int64(len(following)-i)); err != nil {
			return err
		}
	}
	for _, r := range recent {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO post_refs(user_id, post_id, at) VALUES (?, ?, ?)`,
			idText(id), idText(r.ID), nanos(r.At)); err != nil {
			return err
		}
	}
	return nil
}

// User returns user id with its follows and latest post references, moved or not.
func (s *Store) User(ctx context.Context, id regions.ID) (User, error) {
	return s.user(ctx, s.db, `id = ?`, idText(id))
}

// UserByOrigin returns the user who moved here from origin.
func (s *Store) UserByOrigin(ctx context.Context, origin regions.ID) (User, error) {
	return s.user(ctx, s.db, `origin = ?`, idText(origin))
}

func (s *Store) user(ctx context.Context, q querier, where string, arg any) (User, error) {
	var u User
	var id, origin, moved string
	var created int64
	err := q.QueryRowContext(ctx, `SELECT id, handle, name, created, origin, moved_to FROM users WHERE `+where, arg).
		Scan(&id, &u.Handle, &u.Name, &created, &origin, &moved)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %v: %w", arg, ErrNotFound)
	}
	if err != nil {
		return User{}, err
	}
	u.Created = fromNanos(created)
	if u.ID, err = regions.ParseID(id); err != nil {
		return User{}, err
	}
	if u.Origin, err = parseIDText(origin); err != nil {
		return User{}, err
	}
	if u.MovedTo, err = parseIDText(moved); err != nil {
		return User{}, err
	}
	if u.Following, err = s.following(ctx, q, u.ID); err != nil {
		return User{}, err
	}
	u.Recent, err = s.recentRefs(ctx, q, u.ID)
	return u, err
}

func (s *Store) following(ctx context.Context, q querier, id regions.ID) ([]regions.ID, error) {
	rows, err := q.QueryContext(ctx, `SELECT followee FROM follows WHERE follower = ? ORDER BY since, followee`, idText(id))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []regions.ID
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, err
		}
		fid, err := regions.ParseID(f)
		if err != nil {
			return nil, err
		}
		out = append(out, fid)
	}
	return out, rows.Err()
}

// HandleOwner returns the ID the directory maps the handle's local part to.
func (s *Store) HandleOwner(ctx context.Context, local string) (regions.ID, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT user_id FROM handles WHERE local = ?`, local).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("handle %q: %w", local, ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	return regions.ParseID(id)
}

// RepointHandle maps local to to, if it maps to from now (compare-and-set). A handle that maps to
// to already is left alone, so that a retried move succeeds.
func (s *Store) RepointHandle(ctx context.Context, local string, from, to regions.ID) error {
	res, err := s.db.ExecContext(ctx, `UPDATE handles SET user_id = ? WHERE local = ? AND user_id IN (?, ?)`,
		idText(to), local, idText(from), idText(to))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("handle %q does not map to %s: %w", local, from, ErrConflict)
	}
	return nil
}

// Follow makes follower follow followee, at most max users in all, and returns the follower.
// Following someone twice is not an error.
func (s *Store) Follow(ctx context.Context, follower, followee regions.ID, max int, now time.Time) (User, error) {
	var u User
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = s.liveUser(ctx, tx, follower); err != nil {
			return err
		}
		if len(u.Following) >= max && !contains(u.Following, followee) {
			return fmt.Errorf("user %s follows %d users: %w", follower, len(u.Following), ErrTooMany)
		}
		if err := merge(ctx, tx, follower, []regions.ID{followee}, nil, now); err != nil {
			return err
		}
		u, err = s.user(ctx, tx, `id = ?`, idText(follower))
		return err
	})
	return u, err
}

// liveUser returns user id, or a MovedError if the user moved away.
func (s *Store) liveUser(ctx context.Context, q querier, id regions.ID) (User, error) {
	u, err := s.user(ctx, q, `id = ?`, idText(id))
	if err == nil && u.MovedTo != 0 {
		return User{}, &MovedError{To: u.MovedTo}
	}
	return u, err
}

// MarkMoved records that user old now lives as to and returns its final state: the follows and
// post references as of the move. A user marked moved to to already is returned as is (a retried
// move); one moved elsewhere gives ErrConflict.
func (s *Store) MarkMoved(ctx context.Context, old, to regions.ID) (User, error) {
	var u User
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = s.user(ctx, tx, `id = ?`, idText(old)); err != nil {
			return err
		}
		switch u.MovedTo {
		case to:
			return nil
		case 0:
			u.MovedTo = to
			_, err = tx.ExecContext(ctx, `UPDATE users SET moved_to = ? WHERE id = ?`, idText(to), idText(old))
			return err
		default:
			return fmt.Errorf("user %s moved to %s already: %w", old, u.MovedTo, ErrConflict)
		}
	})
	return u, err
}

// Merge adds follows and post references to user id (the final state of a user who moved here)
// and returns the user.
func (s *Store) Merge(ctx context.Context, id regions.ID, following []regions.ID, recent []Ref, now time.Time) (User, error) {
	var u User
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := merge(ctx, tx, id, following, recent, now); err != nil {
			return err
		}
		var err error
		u, err = s.user(ctx, tx, `id = ?`, idText(id))
		return err
	})
	return u, err
}

func contains(ids []regions.ID, id regions.ID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

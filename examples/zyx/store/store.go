package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/fedist/fedist/regions"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver, "sqlite"
)

// Errors a caller can test with errors.Is.
var (
	ErrNotFound    = errors.New("not found")
	ErrHandleTaken = errors.New("handle is taken")
	ErrMoved       = errors.New("user moved away")
	ErrConflict    = errors.New("conflicting change")
	ErrTooMany     = errors.New("limit reached")
)

// MovedError is returned for a write to a user who moved away; it wraps ErrMoved.
type MovedError struct{ To regions.ID }

func (e *MovedError) Error() string { return "user moved to " + e.To.String() }
func (e *MovedError) Unwrap() error { return ErrMoved }

// Store is one instance's SQLite database.
type Store struct {
	db     *sql.DB
	recent int
}

const schema = `
CREATE TABLE IF NOT EXISTS users (
	id       TEXT PRIMARY KEY,
	handle   TEXT NOT NULL,
	name     TEXT NOT NULL,
	created  INTEGER NOT NULL,
	origin   TEXT NOT NULL DEFAULT '',
	moved_to TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS users_origin ON users(origin) WHERE origin <> '';
CREATE TABLE IF NOT EXISTS handles (
	local   TEXT PRIMARY KEY,
	user_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS follows (
	follower TEXT NOT NULL REFERENCES users(id),
	followee TEXT NOT NULL,
	since    INTEGER NOT NULL,
	PRIMARY KEY (follower, followee)
);
CREATE TABLE IF NOT EXISTS posts (
	id     TEXT PRIMARY KEY,
	author TEXT NOT NULL,
	text   TEXT NOT NULL,
	at     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS post_refs (
	user_id TEXT NOT NULL REFERENCES users(id),
	post_id TEXT NOT NULL,
	at      INTEGER NOT NULL,
	PRIMARY KEY (user_id, post_id)
);
CREATE INDEX IF NOT EXISTS post_refs_recent ON post_refs(user_id, at DESC);
`

// Open opens (or creates) the database at path. Each user record carries references to its
// author's latest recent posts (recent > 0).
func Open(path string, recent int) (*Store, error) {
	if recent <= 0 {
		return nil, fmt.Errorf("open %s: recent posts per user must be positive, got %d", path, recent)
	}
	q := url.Values{"_pragma": {"busy_timeout(5000)", "foreign_keys(1)", "journal_mode(WAL)"}}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer anyway; one connection also keeps reads from seeing a lock
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: schema: %w", path, err)
	}
	return &Store{db: db, recent: recent}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// tx runs fn in a transaction and commits it when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func idText(id regions.ID) string {
	if id == 0 {
		return ""
	}
	return id.String()
}

func parseIDText(s string) (regions.ID, error) {
	if s == "" {
		return 0, nil
	}
	return regions.ParseID(s)
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

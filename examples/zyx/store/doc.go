// Package store keeps one Zyx instance's records in SQLite: the users, posts and follows of the
// instance's own region, and the directory of the handles created in that region.
//
// IDs are FeDist record IDs, stored as their 16 hex digits. Every write that a reader could see
// half done runs in one transaction: a post and the reference to it in its author's record, a
// move and the snapshot it returns. A user who moved away keeps its row, with MovedTo set, so that
// its old ID forwards; such a user takes no more writes (ErrMoved).
//
// The store knows nothing of other regions: records of other regions are looked up through FeDist
// by the caller. It serialises all access on one connection, which is plenty for an example and
// leaves SQLite no lock to contend on.
package store

package regions

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrBadHighWater is returned when a high-water file does not hold one decimal uint64.
var ErrBadHighWater = errors.New("high-water file is corrupt")

// HighWater is a durable high-water mark: a uint64 kept in a file, which only ever rises. A node
// keeps the end of its latest ID block in one, passes Load as GeneratorConfig.Floor when it starts,
// and raises it from GeneratorConfig.Commit, so that a counter lost with an unsynced JetStream
// cannot make it hand out an ID twice. HighWater is safe for concurrent use. It does not lock the
// file against other processes: one process owns one path.
type HighWater struct {
	path string
	v    atomic.Uint64 // the value on disk; raised only while holding mu, after the file is synced
	mu   sync.Mutex    // guards the file and its temporary file
}

// OpenHighWater reads the mark in path. A missing file reads as 0 and is created by the first
// Raise; a file that does not hold a decimal uint64 (followed by at most one newline) is an error
// wrapping ErrBadHighWater, since reading it as 0 would lower the mark.
func OpenHighWater(path string) (*HighWater, error) {
	h := &HighWater{path: path}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open high-water mark: %w", err)
	}
	v, err := strconv.ParseUint(strings.TrimSuffix(string(data), "\n"), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("open high-water mark %s: holds %q, want a decimal uint64; "+
			"put the highest value it ever held (or a larger one) there: %w", path, truncate(data, 32), ErrBadHighWater)
	}
	h.v.Store(v)
	return h, nil
}

// Load returns the mark: the largest value Raise has made durable, or the value read at open.
func (h *HighWater) Load() uint64 { return h.v.Load() }

// Raise makes v the mark if it is above the current one, and does nothing otherwise. When it
// returns nil, v (or a larger value) is on disk and survives a power loss: it writes a temporary
// file in the same directory, syncs it, renames it over the path and syncs the directory. On error
// the mark in memory is unchanged, and the file holds the old or the new value, never a mix.
func (h *HighWater) Raise(v uint64) error {
	if v <= h.v.Load() {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if v <= h.v.Load() {
		return nil // a concurrent Raise wrote as much while this one waited
	}
	if err := writeSynced(h.path, strconv.AppendUint(nil, v, 10)); err != nil {
		return fmt.Errorf("raise high-water mark to %d: %w", v, err)
	}
	h.v.Store(v)
	return nil
}

// writeSynced replaces path with data + "\n" durably: path+".tmp" is written, synced, renamed over
// path, and the directory synced. A crash leaves at most the temporary file, which the next call
// truncates.
func writeSynced(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory of %s: %w", path, err)
	}
	return nil
}

// truncate returns at most n bytes of b, for error messages.
func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

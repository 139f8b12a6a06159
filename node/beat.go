package node

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// SubjectBeat carries the root's word to every region: the registry's revision, every BeatEvery,
// sent by the elected writer and signed with its certificate. It crosses every FeDist leafnode
// link downward (childControlExports); a region that stops hearing it, or whose registry copy
// stays behind the revision it names, knows its registry is stale instead of showing old
// statuses as current. A region cut off from the root has no other way to tell: its mirror keeps
// the last statuses it saw, every region "active".
const SubjectBeat = "fdc.beat"

// Beat is the payload of SubjectBeat.
type Beat struct {
	Root     string `json:"root"`     // the root region
	Revision uint64 `json:"revision"` // the registry's revision at the writer
}

// RegistryState says whether this node's copy of the registry can be taken as current.
type RegistryState struct {
	Stale        bool    `json:"stale"`
	Reason       string  `json:"reason,omitempty"`
	Revision     uint64  `json:"revision"`      // of this node's copy
	RootRevision uint64  `json:"root_revision"` // named by the root's last beat (the root: its own)
	BeatAgeSec   float64 `json:"beat_age_seconds"`
}

// beats is the receiving side's state.
type beats struct {
	mu          sync.Mutex
	last        time.Time // last valid beat
	rev         uint64    // its revision
	behindSince time.Time // since when the copy has been behind rev; zero when caught up
	started     time.Time
	rewatch     context.CancelFunc // ends the current registry watch (superviseWatch)
	rewatched   time.Time
}

// rewatchAfter is how long the view may stay behind the beats before its watch is restarted, and
// rewatchEvery the least time between two restarts.
const (
	rewatchAfter = 2 * time.Second
	rewatchEvery = 10 * time.Second
)

// listenBeats records every valid beat. In secure mode only a node of the root region, as the
// registry names it, may send one.
func (n *Node) listenBeats() error {
	n.beat.started = time.Now()
	_, err := n.nc.Subscribe(SubjectBeat, func(m *nats.Msg) {
		var b Beat
		id, err := n.sec.open(SubjectBeat, m.Data, &b)
		if err != nil {
			n.log.Debug().Err(err).Msg("unreadable or unsigned registry beat ignored")
			return
		}
		if id != nil && (id.Region.String() != b.Root || !n.isRoot(id.Region)) {
			ev := n.log.Warn()
			if !n.view.CaughtUp() {
				ev = n.log.Debug() // the registry copy does not name the root yet
			}
			ev.Str("signer", id.String()).Str("root", b.Root).Msg("registry beat not signed by the root region; ignored")
			return
		}
		now := time.Now()
		rev := n.view.Revision()
		n.beat.mu.Lock()
		defer n.beat.mu.Unlock()
		n.beat.last, n.beat.rev = now, max(n.beat.rev, b.Revision)
		switch {
		case rev >= n.beat.rev:
			n.beat.behindSince = time.Time{}
		case n.beat.behindSince.IsZero():
			n.beat.behindSince = now
		case now.Sub(n.beat.behindSince) >= rewatchAfter && now.Sub(n.beat.rewatched) >= rewatchEvery && n.beat.rewatch != nil:
			n.log.Info().Uint64("view", rev).Uint64("root", n.beat.rev).Msg("registry view behind the root's beats; restarting its watch")
			n.beat.rewatched = now
			n.beat.rewatch()
		}
	})
	return err
}

// isRoot reports whether the registry names r as the root.
func (n *Node) isRoot(r regions.RegionID) bool {
	e, _ := n.view.Get(r)
	return e != nil && e.IsRoot()
}

// sendBeat publishes the writer's beat with the registry's revision rev.
func (n *Node) sendBeat(rev uint64) {
	data, err := n.sec.seal(SubjectBeat, &Beat{Root: n.Region().String(), Revision: rev})
	if err == nil {
		err = n.nc.Publish(SubjectBeat, data)
	}
	if err != nil {
		n.log.Debug().Err(err).Msg("registry beat")
	}
}

// RegistryState reports whether this node's registry copy is current. At the root it always is
// (the root holds the bucket itself); below it, the copy is stale when no beat came for StaleAfter,
// or when it has stayed behind the beat's revision for StaleAfter.
func (n *Node) RegistryState() RegistryState {
	rev := n.view.Revision()
	if n.cfg.IsRoot() {
		return RegistryState{Revision: rev, RootRevision: rev}
	}
	now := time.Now()
	b := &n.beat
	b.mu.Lock()
	defer b.mu.Unlock()
	st := RegistryState{Revision: rev, RootRevision: b.rev}
	// behindSince is kept by listenBeats as beats arrive; a copy that has caught up since is current.
	behind := rev < b.rev && !b.behindSince.IsZero()
	switch {
	case b.last.IsZero():
		st.BeatAgeSec = -1
		if now.Sub(b.started) >= n.cfg.StaleAfter {
			st.Stale, st.Reason = true, fmt.Sprintf("no word from the root since this node started %s ago: statuses may be out of date", now.Sub(b.started).Round(time.Second))
		}
	case now.Sub(b.last) >= n.cfg.StaleAfter:
		st.BeatAgeSec = now.Sub(b.last).Seconds()
		st.Stale, st.Reason = true, fmt.Sprintf("no word from the root for %s (cut off from it?): statuses may be out of date", now.Sub(b.last).Round(time.Second))
	default:
		st.BeatAgeSec = now.Sub(b.last).Seconds()
		if behind && now.Sub(b.behindSince) >= n.cfg.StaleAfter {
			st.Stale, st.Reason = true, fmt.Sprintf("registry copy at revision %d, the root's at %d, for %s (its mirror is catching up)", rev, b.rev, now.Sub(b.behindSince).Round(time.Second))
		}
	}
	return st
}

package overlay

import (
	"sync/atomic"
	"time"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// Replicas is what the relay needs from its region's replica store (package replication, run by
// package node). The relay asks it about every lookup one of its own region's clients sends into
// it on the local subject (fdl.<me>.<d>.get.<kind>.<id>, LocalSubject: only clients of region me
// may publish it, and no leafnode link carries it) and tells it every answer that came back. It
// never asks about anything else, so a replica answers its own region's clients only, and only
// they make demand: interest in a record never pulls other regions' traffic to a replica.
// Calls come from nats.go's delivery goroutines and must be fast and safe for concurrent use.
type Replicas interface {
	// Lookup counts one lookup and returns the replica's value when it may answer it. fresh is set
	// when the caller asked to bypass replicas (HeaderFresh): it is neither answered nor counted as
	// demand.
	Lookup(kind string, id regions.ID, fresh bool, now time.Time) ([]byte, bool)
	// Answered hands over the answer to a lookup the relay sent on at asked (any status).
	Answered(kind string, id regions.ID, asked time.Time, answer *nats.Msg)
}

// Headers of replication.
const (
	// HeaderFresh on a lookup asks the relay to bypass replicas and ask the home region.
	HeaderFresh = "Fd-Fresh"
	// HeaderReplica on an answer says a replica in the caller's region gave it.
	HeaderReplica = "Fd-Replica"
	// HeaderMoved on an answer says the record lives on under another ID (its value is the 16-hex
	// ID): a moved user's old record forwards to the new one.
	HeaderMoved = "Fd-Moved"
	// HeaderChangeKind, HeaderChangeID, HeaderChangeOp and HeaderCommit describe a change an
	// application reports on ChangesSubject: the record's kind and ID, the operation
	// (ChangePut or ChangeDelete) and when it committed (unix nanoseconds on its clock).
	HeaderChangeKind = "Fd-Kind"
	HeaderChangeID   = "Fd-Id"
	HeaderChangeOp   = "Fd-Op"
	HeaderCommit     = "Fd-Commit"
)

// Change operations.
const (
	ChangePut    = "put"
	ChangeDelete = "del"
)

// ChangesSubject returns fdo.<r>.changes, where region r's applications report changes to their
// own records (a request; a node of r answers once the change is on its way to every replica).
func ChangesSubject(r regions.RegionID) string { return RoutesPrefix + r.String() + ".changes" }

// lookupOf returns the kind and ID of a relayed lookup (rest is what follows fd.), or ok false.
func lookupOf(rest string) (kind string, id regions.ID, ok bool) {
	if len(rest) < 9 || rest[4:9] != "."+LookupToken+"." {
		return "", 0, false
	}
	kind, id, err := ParseLookup(PublicPrefix + rest)
	return kind, id, err == nil
}

// serveReplica answers a lookup of this region's client from a replica, and reports whether it
// did. Every other message passes through untouched.
func (r *Relay) serveReplica(m *nats.Msg, rest string, local bool, now time.Time) (kind string, id regions.ID, isLookup bool, served bool) {
	// Only a request of this region's client (fdl.<me>.…, which only they may publish).
	if r.reps == nil || !local || m.Reply == "" {
		return "", 0, false, false
	}
	kind, id, isLookup = lookupOf(rest)
	if !isLookup || id.Region() == r.me {
		return "", 0, false, false
	}
	fresh := m.Header != nil && m.Header.Get(HeaderFresh) != ""
	data, ok := r.reps.Lookup(kind, id, fresh, now)
	if !ok {
		return kind, id, true, false
	}
	out := &nats.Msg{Subject: m.Reply, Data: data, Header: nats.Header{}}
	out.Header.Set(HeaderReplica, r.me.String())
	out.Header.Set(HeaderPath, r.me.String()+":r")
	if err := r.nc.PublishMsg(out); err != nil {
		r.log.Warn().Err(err).Msg("replica answer")
		return kind, id, true, false
	}
	r.fromReplica.Add(1)
	return kind, id, true, true
}

// lookupOutcomes counts the answers to this region's clients' lookups the relay carried back, by
// their status (StatusReply's convention). Lookups answered by a replica are counted apart
// (Stats.FromReplica); lookups that timed out are not seen by the relay.
type lookupOutcomes struct {
	ok, notFound, noResponder, unreachable, failed atomic.Uint64
}

func (l *lookupOutcomes) count(status string) {
	switch status {
	case StatusOK:
		l.ok.Add(1)
	case StatusNotFound:
		l.notFound.Add(1)
	case StatusNoResponder:
		l.noResponder.Add(1)
	case StatusUnknownRegion, StatusRegionDown, StatusHopLimit:
		l.unreachable.Add(1)
	default:
		l.failed.Add(1)
	}
}

// LookupOutcomes is Stats.Lookups: answers by outcome.
type LookupOutcomes struct {
	OK, NotFound, NoResponder, Unreachable, Failed uint64
}

func (l *lookupOutcomes) load() LookupOutcomes {
	return LookupOutcomes{OK: l.ok.Load(), NotFound: l.notFound.Load(), NoResponder: l.noResponder.Load(),
		Unreachable: l.unreachable.Load(), Failed: l.failed.Load()}
}

// LocalPrefix is the namespace of the relay's own region's clients: fdl.<me>.<d>.<rest> is
// fd.<d>.<rest> sent through region me's relay, as fdh.<me>.… is, by a client of region me
// (AppPublish allows only its own region's; no leafnode link carries fdl.>). Only such requests
// may be answered by a replica, and only they count as the region's demand.
const LocalPrefix = "fdl."

// LocalSubject returns fdl.<me>.<d>.<rest> for a public subject fd.<d>.<rest>.
func LocalSubject(me regions.RegionID, public string) (string, error) {
	if _, _, err := ParseSubject(public); err != nil {
		return "", err
	}
	return LocalPrefix + me.String() + "." + public[len(PublicPrefix):], nil
}

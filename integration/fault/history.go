package fault

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Result is what a writer learnt about one operation, as in a Jepsen history.
type Result string

// The results of an operation.
const (
	// Ack: the system confirmed the write. It must be there afterwards.
	Ack Result = "ack"
	// Fail: the system said the write did not happen.
	Fail Result = "fail"
	// Unknown: no answer (a timeout, a connection lost mid-call). The write may or may not have
	// happened; the checker reports which but holds nothing against either.
	Unknown Result = "unknown"
)

// Op is one write in a History.
type Op struct {
	Kind   string // what was written: "join", "zyx-user", "zyx-post"
	Key    string // what the checker looks up: a region ID, a record ID
	Value  string // what it must find under Key ("" when presence is enough)
	Start  time.Time
	End    time.Time
	Result Result
	Err    string // why it failed or is unknown
}

// Mark is an event of the test (a fault injected, healed) placed in the history's timeline.
type Mark struct {
	At   time.Time
	What string
}

// History records the writes of a test, and the faults, with their times. It is safe for
// concurrent use.
type History struct {
	start time.Time

	mu    sync.Mutex // guards ops, marks
	ops   []Op
	marks []Mark
}

// NewHistory returns an empty history whose timeline starts now.
func NewHistory() *History { return &History{start: time.Now()} }

// Add records a finished operation.
func (h *History) Add(op Op) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, op)
}

// Mark records a test event at the current time.
func (h *History) Mark(what string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.marks = append(h.marks, Mark{At: time.Now(), What: what})
}

// Ops returns the operations recorded so far, in the order they finished.
func (h *History) Ops() []Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.ops)
}

// Count returns how many operations of kind ("" for any) ended with r.
func (h *History) Count(kind string, r Result) int {
	n := 0
	for _, op := range h.Ops() {
		if (kind == "" || op.Kind == kind) && op.Result == r {
			n++
		}
	}
	return n
}

// Verdict is the checker's finding.
type Verdict struct {
	Acked, Failed, Unknown int
	UnknownPresent         int  // unknown operations found to have happened
	Lost                   []Op // acknowledged operations missing afterwards; Err says why
}

// String is the verdict's greppable summary: acked=… failed=… unknown=… lost=….
func (v Verdict) String() string {
	return fmt.Sprintf("acked=%d failed=%d unknown=%d unknown_present=%d lost=%d",
		v.Acked, v.Failed, v.Unknown, v.UnknownPresent, len(v.Lost))
}

// Check looks for every acknowledged operation with present, which makes one attempt and returns
// nil when the write is there, else why not. It retries the missing ones every step until all are
// found or ctx ends (mirrors catch up, regions reconnect); what is still missing then is lost.
// Unknown operations are looked up in the same rounds, for the report only.
func (h *History) Check(ctx context.Context, step time.Duration, present func(context.Context, Op) error) Verdict {
	var v Verdict
	var acked, unknown []Op
	for _, op := range h.Ops() {
		switch op.Result {
		case Ack:
			acked = append(acked, op)
		case Fail:
			v.Failed++
		case Unknown:
			unknown = append(unknown, op)
		}
	}
	v.Acked, v.Unknown = len(acked), len(unknown)
	missing := map[int]error{}
	for i := range acked {
		missing[i] = fmt.Errorf("not checked")
	}
	foundUnknown := map[int]bool{}
	for {
		for i := range missing {
			if err := present(ctx, acked[i]); err != nil {
				missing[i] = err
			} else {
				delete(missing, i)
			}
		}
		for i, op := range unknown {
			if !foundUnknown[i] && present(ctx, op) == nil {
				foundUnknown[i] = true
			}
		}
		if len(missing) == 0 || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(step):
		}
	}
	v.UnknownPresent = len(foundUnknown)
	for i, err := range missing {
		op := acked[i]
		op.Err = err.Error()
		v.Lost = append(v.Lost, op)
	}
	sort.Slice(v.Lost, func(i, j int) bool { return v.Lost[i].Start.Before(v.Lost[j].Start) })
	return v
}

// Summary describes the history for a log: per kind the count of each result, then the timeline
// of the marks and of every operation that was not acknowledged (at most maxLines of them), with
// times in milliseconds from the history's start.
func (h *History) Summary(maxLines int) string {
	h.mu.Lock()
	ops, marks := slices.Clone(h.ops), slices.Clone(h.marks)
	h.mu.Unlock()
	counts := map[string]map[Result]int{}
	for _, op := range ops {
		if counts[op.Kind] == nil {
			counts[op.Kind] = map[Result]int{}
		}
		counts[op.Kind][op.Result]++
	}
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var b strings.Builder
	for _, k := range kinds {
		c := counts[k]
		fmt.Fprintf(&b, "  %-9s ack=%d fail=%d unknown=%d\n", k, c[Ack], c[Fail], c[Unknown])
	}
	type line struct {
		at  time.Time
		txt string
	}
	var lines []line
	for _, m := range marks {
		lines = append(lines, line{m.At, "=== " + m.What})
	}
	shown := 0
	for _, op := range ops {
		if op.Result == Ack {
			continue
		}
		if shown++; shown > maxLines {
			continue
		}
		lines = append(lines, line{op.Start, fmt.Sprintf("%s %s %s after %v: %s", op.Kind, op.Key, op.Result,
			op.End.Sub(op.Start).Round(time.Millisecond), op.Err)})
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at.Before(lines[j].at) })
	for _, l := range lines {
		fmt.Fprintf(&b, "  %+7dms %s\n", l.at.Sub(h.start).Milliseconds(), l.txt)
	}
	if shown > maxLines {
		fmt.Fprintf(&b, "  (%d more operations not acknowledged)\n", shown-maxLines)
	}
	return b.String()
}

package lab

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/integration/topo"
	"github.com/nats-io/nats.go"
)

// ThroughputResult is one pair's publish throughput.
type ThroughputResult struct {
	Sent, Received int
	MsgsPerSec     float64 // received messages over the time from the first to the last arrival
	Err            string
}

// throughputPairs picks n pairs spread evenly over the tree path RTTs, shortest to longest.
func throughputPairs(top *topo.Topology, pairs []Pair, n int) []Pair {
	if n <= 0 || len(pairs) == 0 {
		return nil
	}
	sorted := slices.Clone(pairs)
	slices.SortStableFunc(sorted, func(a, b Pair) int {
		ta, _ := top.TreeRTT(a.From.ID, a.To.ID)
		tb, _ := top.TreeRTT(b.From.ID, b.To.ID)
		return cmp.Compare(ta, tb)
	})
	if n >= len(sorted) {
		return sorted
	}
	out := make([]Pair, 0, n)
	for i := range n {
		idx := 0
		if n > 1 {
			idx = i * (len(sorted) - 1) / (n - 1)
		}
		out = append(out, sorted[idx])
	}
	return out
}

// measureThroughput publishes MsgSize-byte messages from p.From to a subscriber in p.To on the
// region subject fd.<to>.lab.tput, as fast as one publisher can, and counts what arrives.
func measureThroughput(ctx context.Context, f *fed.Federation, p Pair, cfg *Config) ThroughputResult {
	sub, err := f.Connect(p.To.ID)
	if err != nil {
		return ThroughputResult{Err: err.Error()}
	}
	defer sub.Close()
	pub, err := f.Connect(p.From.ID)
	if err != nil {
		return ThroughputResult{Err: err.Error()}
	}
	defer pub.Close()
	subject := fmt.Sprintf("fd.%s.lab.tput", p.To.ID)
	var received atomic.Int64
	var first, last atomic.Int64 // unix nanoseconds
	warm := make(chan struct{}, 1)
	s, err := sub.Subscribe(subject, func(m *nats.Msg) {
		if len(m.Data) == 0 { // a warm-up probe
			select {
			case warm <- struct{}{}:
			default:
			}
			return
		}
		now := time.Now().UnixNano()
		if received.Add(1) == 1 {
			first.Store(now)
		}
		last.Store(now)
	})
	if err != nil {
		return ThroughputResult{Err: err.Error()}
	}
	_ = s.SetPendingLimits(-1, -1) // count everything; a slow consumer here would be our own fault
	if err := sub.Flush(); err != nil {
		return ThroughputResult{Err: err.Error()}
	}
	// Publish empty probes until one arrives: the subscription's interest has then reached the
	// publisher's region and no timed message is dropped for lack of it.
	tree, _ := f.Topology().TreeRTT(p.From.ID, p.To.ID)
	probeEvery := max(10*time.Millisecond, topo.Ms(tree)/2)
	deadline := time.Now().Add(cfg.WarmupTimeout)
	for ready := false; !ready; {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return ThroughputResult{Err: "subscription interest never reached the publisher"}
		}
		_ = pub.Publish(subject, nil)
		select {
		case <-warm:
			ready = true
		case <-time.After(probeEvery):
		}
	}
	data := make([]byte, cfg.MsgSize)
	sent := 0
	stop := time.Now().Add(cfg.ThroughputTime)
	for sent < cfg.ThroughputMsgs && ctx.Err() == nil {
		if err := pub.Publish(subject, data); err != nil {
			break
		}
		sent++
		if sent%1024 == 0 && time.Now().After(stop) {
			break
		}
	}
	_ = pub.FlushTimeout(cfg.ThroughputTime + 5*time.Second)
	// Wait for the stragglers: until all arrived, or nothing arrived for a while.
	quiet := time.Second + 2*topo.Ms(tree)
	for {
		n := int(received.Load())
		if n >= sent || ctx.Err() != nil {
			break
		}
		lastAt := time.Unix(0, last.Load())
		if n > 0 && time.Since(lastAt) > quiet || n == 0 && time.Now().After(stop.Add(quiet)) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	r := ThroughputResult{Sent: sent, Received: int(received.Load())}
	if span := time.Duration(last.Load() - first.Load()); r.Received > 1 && span > 0 {
		r.MsgsPerSec = float64(r.Received-1) / span.Seconds()
	}
	return r
}

package lab

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
)

// replKind is the record kind of the replication workload: fd.<r>.get.replab.<id>.
const replKind = "replab"

// replWork is the replication workload on one federation: an owner app and a reader per region.
type replWork struct {
	cfg        *ReplicationConfig
	top        *topo.Topology
	staleAfter time.Duration
	phase      atomic.Int32 // index into replPhases
	owners     map[regions.RegionID]*replOwner
	readers    []*replReader // in topology order

	writes, writesFailed atomic.Int64
	lastWriteErr         atomic.Pointer[string]
}

// newReplWork ranks every region's first KeysPerRegion records once, in a seeded random order, and
// gives each reader that order without its own region's records, and each owner its WriteKeys
// records ranked highest.
func newReplWork(cfg *ReplicationConfig, top *topo.Topology, clients map[regions.RegionID]*client.Client, staleAfter time.Duration) *replWork {
	w := &replWork{cfg: cfg, top: top, staleAfter: staleAfter, owners: map[regions.RegionID]*replOwner{}}
	var all []regions.ID
	for _, r := range top.Regions() {
		for seq := range cfg.KeysPerRegion {
			all = append(all, regions.NewID(r.ID, uint64(seq)+1))
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0))
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for _, r := range top.Regions() {
		o := &replOwner{region: r.ID, c: clients[r.ID], size: cfg.ValueSize, commits: map[regions.ID][]time.Time{}}
		rd := &replReader{region: r, c: clients[r.ID], rank: map[regions.ID]int{}, seen: map[regions.ID]bool{},
			bound: map[regions.RegionID]time.Duration{}, phases: map[string]*phaseReads{}, answered: map[regions.RegionID]bool{},
			newest: map[regions.ID]int{}}
		for _, id := range all {
			switch {
			case id.Region() != r.ID:
				rd.keys = append(rd.keys, id)
				rd.rank[id] = len(rd.keys)
			case len(o.hot) < cfg.WriteKeys:
				o.hot = append(o.hot, id)
			}
		}
		for _, x := range top.Regions() {
			if x.ID != r.ID {
				rd.others = append(rd.others, x.ID)
				tree, _ := top.TreeRTT(x.ID, r.ID)
				rd.bound[x.ID] = staleAfter + topo.Ms(tree)
			}
		}
		rd.zipf = rand.NewZipf(rand.New(rand.NewPCG(cfg.Seed, uint64(r.ID)+1)), cfg.Zipf, 1, uint64(len(rd.keys)-1))
		for _, ph := range replPhases {
			rd.phases[ph] = &phaseReads{}
		}
		w.owners[r.ID], w.readers = o, append(w.readers, rd)
	}
	return w
}

func (w *replWork) phaseName() string { return replPhases[w.phase.Load()] }

// replValue is record id's value at version v, padded to size: "<id>:<v>:xxx…".
func replValue(id regions.ID, v, size int) []byte {
	b := make([]byte, 0, size)
	b = fmt.Appendf(b, "%s:%d:", id, v)
	for len(b) < size {
		b = append(b, 'x')
	}
	return b
}

// parseReplValue returns the record ID and version a value names.
func parseReplValue(data []byte) (regions.ID, int, bool) {
	parts := strings.SplitN(string(data), ":", 3)
	if len(parts) < 3 {
		return 0, 0, false
	}
	id, err := regions.ParseID(parts[0])
	v, err2 := strconv.Atoi(parts[1])
	return id, v, err == nil && err2 == nil
}

// replOwner is one region's application: it answers lookups of the region's records from a map
// of versions, writes its hot records and reports each write with Changed after committing it.
type replOwner struct {
	region  regions.RegionID
	c       *client.Client
	size    int
	hot     []regions.ID
	mu      sync.Mutex                 // guards commits
	commits map[regions.ID][]time.Time // commits[id][v-1]: when version v of id committed; version 0 is the initial one
}

func (o *replOwner) serve(_ context.Context, id regions.ID) ([]byte, error) {
	o.mu.Lock()
	v := len(o.commits[id])
	o.mu.Unlock()
	return replValue(id, v, o.size), nil
}

// write commits the next version of id, then reports it.
func (o *replOwner) write(ctx context.Context, id regions.ID) error {
	o.mu.Lock()
	o.commits[id] = append(o.commits[id], time.Now())
	v := len(o.commits[id])
	o.mu.Unlock()
	return o.c.Changed(ctx, replKind, id, replValue(id, v, o.size))
}

// supersededAt returns when the version after v of id committed, if one did, and the latest
// version.
func (o *replOwner) supersededAt(id regions.ID, v int) (time.Time, int, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	cs := o.commits[id]
	if v < 0 || v >= len(cs) {
		return time.Time{}, len(cs), false
	}
	return cs[v], len(cs), true
}

// runWriters writes, in every owner region, one of its hot records per 1/WritesPerSec,
// round-robin, until ctx ends, in goroutines wg waits for.
func (w *replWork) runWriters(ctx context.Context, wg *sync.WaitGroup) {
	if w.cfg.WritesPerSec <= 0 {
		return
	}
	every := time.Duration(float64(time.Second) / w.cfg.WritesPerSec)
	for _, o := range w.owners {
		wg.Go(func() {
			tick := time.NewTicker(every)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				// Not ctx: a write committed as the phase ends must still be reported, or its
				// replicas would rightly keep the version before it.
				wctx, cancel := context.WithTimeout(context.Background(), w.cfg.RequestTimeout)
				err := o.write(wctx, o.hot[i%len(o.hot)])
				cancel()
				w.writes.Add(1)
				if err != nil {
					w.writesFailed.Add(1)
					msg := err.Error()
					w.lastWriteErr.Store(&msg)
				}
			}
		})
	}
}

// replReader is one region's reading application.
type replReader struct {
	region topo.Region
	c      *client.Client
	keys   []regions.ID       // Zipf order: keys[0] is read most
	rank   map[regions.ID]int // from 1
	others []regions.RegionID
	bound  map[regions.RegionID]time.Duration // staleness bound per owner
	// zipf, seen and scanned belong to run's goroutine.
	zipf    *rand.Zipf
	seen    map[regions.ID]bool
	scanned int

	mu       sync.Mutex // guards phases, answered, newest, stale, lastErr
	phases   map[string]*phaseReads
	answered map[regions.RegionID]bool // owners a replica answered for
	newest   map[regions.ID]int        // the newest version a replica answered
	stale    []StaleRead               // the first maxStaleExamples
	lastErr  string
}

// maxStaleExamples bounds the stale answers each reader describes.
const maxStaleExamples = 10

// phaseReads is one reader's reads sent in one phase.
type phaseReads struct {
	reads, failed, skipped, replica, repeat, repeatReplica int
	stale, behind, wrong                                   int
	maxBehind                                              time.Duration
	lat, hot, hotRemote                                    []time.Duration
}

// next returns the record to read in phase ph and its rank (0 for a scanned key): a Zipf draw,
// or in the scan phase the next scan key, round-robin over the other regions, beyond every
// region's Zipf keys, each read repeat times in a row (enough to pass the detector's threshold,
// so that the scan reaches the store and tests its admission, not only the detector).
func (rd *replReader) next(ph string, keysPerRegion, repeat int) (regions.ID, int) {
	if ph == phaseScan {
		i := rd.scanned / max(repeat, 1)
		rd.scanned++
		owner := rd.others[i%len(rd.others)]
		return regions.NewID(owner, uint64(keysPerRegion+1+i/len(rd.others))), 0
	}
	k := int(rd.zipf.Uint64())
	return rd.keys[k], k + 1
}

// run sends a lookup per Every, without waiting for answers, until ctx ends, and waits for the
// lookups under way.
func (rd *replReader) run(ctx context.Context, w *replWork) {
	cfg := w.cfg
	slots := make(chan struct{}, cfg.MaxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(cfg.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ph := w.phaseName()
		id, rank := rd.next(ph, cfg.KeysPerRegion, cfg.ScanRepeat)
		repeat := rd.seen[id]
		rd.seen[id] = true
		select {
		case slots <- struct{}{}:
		default:
			rd.mu.Lock()
			rd.phases[ph].skipped++
			rd.mu.Unlock()
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			rd.read(ctx, w, ph, id, rank, repeat)
		})
	}
}

// read makes one lookup and files its outcome under phase ph.
func (rd *replReader) read(ctx context.Context, w *replWork, ph string, id regions.ID, rank int, repeat bool) {
	sent := time.Now()
	lctx, cancel := context.WithTimeout(ctx, w.cfg.RequestTimeout)
	m, err := rd.c.LookupMsg(lctx, replKind, id) // not Fresh: replicas may answer
	took := time.Since(sent)
	cancel()
	if ctx.Err() != nil {
		return // stopped: neither an answer nor a failure
	}
	var replica, wrong, stale, behind bool
	var late time.Duration
	var v, latest int
	if err == nil {
		replica = m.Header.Get(overlay.HeaderReplica) != ""
		var got regions.ID
		var ok bool
		got, v, ok = parseReplValue(m.Data)
		wrong = !ok || got != id
		if !wrong {
			var at time.Time
			if at, latest, ok = w.owners[id.Region()].supersededAt(id, v); ok && at.Before(sent) {
				late = sent.Sub(at)
				stale, behind = late > rd.bound[id.Region()], true
			}
		}
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	p := rd.phases[ph]
	p.reads++
	if err != nil {
		p.failed++
		rd.lastErr = err.Error()
		return
	}
	hot := rank > 0 && rank <= w.cfg.HotRanks
	p.lat = append(p.lat, took)
	if hot {
		p.hot = append(p.hot, took)
	}
	if stale && len(rd.stale) < maxStaleExamples {
		rd.stale = append(rd.stale, StaleRead{Reader: rd.region.Name, ID: id.String(), Phase: ph, Version: v, Latest: latest,
			BehindMs: *num(ms(late)), Regressed: rd.newest[id] > v})
	}
	if replica {
		p.replica++
		rd.answered[id.Region()] = true
		rd.newest[id] = max(rd.newest[id], v)
	} else if hot {
		p.hotRemote = append(p.hotRemote, took)
	}
	if repeat {
		p.repeat++
		if replica {
			p.repeatReplica++
		}
	}
	switch {
	case wrong:
		p.wrong++
	case stale:
		p.stale++
	case behind:
		p.behind++
	}
	p.maxBehind = max(p.maxBehind, late)
}

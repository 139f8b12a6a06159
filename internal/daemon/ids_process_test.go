package daemon

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fedist/fedist/internal/testutil"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// TestIDsSurviveKillAndLostStore hands out record IDs from a region while its process is killed with
// SIGKILL and restarted, once on its store and once on an empty one, and does the same to the root.
// No ID is handed out twice, every ID belongs to the region, and a node restarted on an empty store
// resumes above every ID it handed out before, because the root recorded each block's end first.
func TestIDsSurviveKillAndLostStore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemons")
	}
	root := newDaemonSpec(t, "fedist-root", "root", "-id", "0001", "-name", "root", "-node", "root-1")
	rp := root.start(t)
	rp.waitHealthy(t)
	child := newDaemonSpec(t, "fedist-node", "b", "-id", "00b0", "-name", "b", "-node", "b-1", "-parent", rp.leaf)
	cp := child.start(t)
	cp.waitHealthy(t)

	b := startTaking(t, cp.nats, 0x00b0)
	restart := func(what string, p *proc, spec *daemonSpec, tk *idTaker, loseStore bool) *proc {
		tk.waitFor(t, tk.count()+200) // the kill lands while ranges are being handed out
		p.kill9(t)
		mark, killed := tk.count(), time.Now()
		// Every ID handed out lies below the mark the node synced before handing out its block.
		hwm := hwmFile(t, spec.store, tk.region)
		if last := maxID(tk.spans(0, mark)); last.Seq() >= hwm {
			t.Errorf("%s: ID %v was handed out, but the synced high-water mark is %d", what, last, hwm)
		}
		if loseStore {
			if err := os.RemoveAll(spec.store); err != nil {
				t.Fatal(err)
			}
		}
		p = spec.start(t)
		p.waitHealthy(t)
		tk.waitFor(t, mark+1)
		resumed := time.Since(killed)
		tk.waitFor(t, mark+200)
		old, cur := tk.spans(0, mark), tk.spans(mark, tk.count())
		last, first := maxID(old), minID(cur)
		t.Logf("%s: %d ranges (%d IDs) before the kill, %d (%d IDs) after; first ID %v after SIGKILL; "+
			"synced high-water mark %d; first new ID %v − last old ID %v = %d",
			what, len(old), countIDs(old), len(cur), countIDs(cur), resumed.Round(time.Millisecond),
			hwm, first, last, int64(first)-int64(last))
		if loseStore && first <= last {
			t.Errorf("%s: first new ID %v is not above the last old ID %v", what, first, last)
		}
		return p
	}
	cp = restart("00b0 on its store", cp, child, b, false)
	restart("00b0 on an empty store", cp, child, b, true)
	b.stop()
	b.check(t)

	r := startTaking(t, rp.nats, 0x0001)
	restart("root on its store", rp, root, r, false)
	r.stop()
	r.check(t)
}

// daemonSpec starts a daemon, and starts it again, with the same flags and store. Its listeners take
// free ports at the first start and keep them afterwards, the way an operator's fixed ports do, so
// that clients and child regions reconnect to a restarted process.
type daemonSpec struct {
	bin, name, store   string
	args               []string // every flag but the listeners, -store and -log-json
	listen, leaf, http string   // host:port
}

func newDaemonSpec(t *testing.T, bin, name string, args ...string) *daemonSpec {
	return &daemonSpec{bin: bin, name: name, store: filepath.Join(t.TempDir(), "store"), args: args,
		listen: "127.0.0.1:-1", leaf: "127.0.0.1:-1", http: "127.0.0.1:0"}
}

// start runs the daemon and waits until it logs its listeners, as startProc does.
func (d *daemonSpec) start(t *testing.T) *proc {
	t.Helper()
	args := append(slices.Clone(d.args), "-listen", d.listen, "-leaf-listen", d.leaf, "-http", d.http,
		"-store", d.store, "-log-json")
	pr := launch(t, d.bin, d.name, args)
	d.listen, d.leaf, d.http = hostPort(t, pr.nats), hostPort(t, pr.leaf), hostPort(t, pr.http)
	return pr
}

// hwmFile reads the ID high-water mark a node of region r keeps in its store.
func hwmFile(t *testing.T, store string, r regions.RegionID) uint64 {
	t.Helper()
	hw, err := regions.OpenHighWater(filepath.Join(store, "fedist-ids-"+r.String()+".hwm"))
	if err != nil {
		t.Fatal(err)
	}
	return hw.Load()
}

func hostPort(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		t.Fatalf("listener URL %q: %v", u, err)
	}
	return p.Host
}

// kill9 kills the process with SIGKILL and waits until it is gone.
func (p *proc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatalf("%s still running 10 s after SIGKILL", p.name)
	}
}

// idSpan is a range of IDs a node handed out: first, first+1, …, first+n-1.
type idSpan struct {
	first regions.ID
	n     uint64
}

func (s idSpan) last() regions.ID { return s.first + regions.ID(s.n) - 1 }

// idTaker asks a region's node for ranges of 1024 IDs in a loop, as an application does, and
// records every range it is given. Its connection reconnects for ever to the same URL.
type idTaker struct {
	nc     *nats.Conn
	region regions.RegionID
	quit   chan struct{}
	wg     sync.WaitGroup // the request loop

	mu   sync.Mutex     // guards got, errs, bad
	got  []idSpan       // in the order the replies came
	errs map[string]int // failed requests by cause
	bad  []string       // replies that are not a range of the region
}

func startTaking(t *testing.T, url string, region regions.RegionID) *idTaker {
	t.Helper()
	nc := testutil.ConnectRegion(t, url, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	tk := &idTaker{nc: nc, region: region, quit: make(chan struct{}), errs: map[string]int{}}
	tk.wg.Add(1)
	go tk.run()
	t.Cleanup(tk.stop) // before the connection closes
	return tk
}

func (tk *idTaker) run() {
	defer tk.wg.Done()
	req, _ := json.Marshal(&overlay.IDRangeRequest{N: 1024})
	for {
		select {
		case <-tk.quit:
			return
		default:
		}
		if cause := tk.takeOnce(req); cause != "" {
			tk.mu.Lock()
			tk.errs[cause]++
			tk.mu.Unlock()
			select { // no node answers now: pace the retries instead of spinning
			case <-tk.quit:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

// takeOnce makes one request and returns why it failed, or "".
func (tk *idTaker) takeOnce(req []byte) string {
	m, err := tk.nc.Request(overlay.IDSubject(tk.region), req, 2*time.Second)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return "no responders"
	case errors.Is(err, nats.ErrTimeout):
		return "timeout"
	case err != nil:
		return err.Error()
	}
	var rep overlay.IDRangeReply
	if err := json.Unmarshal(m.Data, &rep); err != nil {
		return fmt.Sprintf("unreadable reply: %v", err)
	}
	if rep.Error != "" {
		return "node: " + rep.Error
	}
	first, err := regions.ParseID(rep.First)
	tk.mu.Lock()
	defer tk.mu.Unlock()
	if err != nil || first.Region() != tk.region || rep.N == 0 || rep.N > 1024 || first.Seq()+rep.N-1 > regions.MaxSeq {
		tk.bad = append(tk.bad, string(m.Data))
		return ""
	}
	tk.got = append(tk.got, idSpan{first, rep.N})
	return ""
}

// stop ends the loop and waits for it. It is idempotent.
func (tk *idTaker) stop() {
	select {
	case <-tk.quit:
	default:
		close(tk.quit)
	}
	tk.wg.Wait()
}

func (tk *idTaker) count() int {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return len(tk.got)
}

// spans returns the ranges received from the i-th to before the j-th.
func (tk *idTaker) spans(i, j int) []idSpan {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return slices.Clone(tk.got[i:j])
}

// waitFor waits until n ranges have been received.
func (tk *idTaker) waitFor(t *testing.T, n int) {
	t.Helper()
	checkFor(t, 30*time.Second, 10*time.Millisecond, func() error {
		if got := tk.count(); got < n {
			tk.mu.Lock()
			defer tk.mu.Unlock()
			return fmt.Errorf("region %s handed out %d ranges, want %d (failures: %v)", tk.region, got, n, tk.errs)
		}
		return nil
	})
}

// check asserts that every reply was a range of the region and that no two ranges overlap.
func (tk *idTaker) check(t *testing.T) {
	t.Helper()
	tk.mu.Lock()
	defer tk.mu.Unlock()
	for _, b := range tk.bad {
		t.Errorf("region %s: reply %s is not a range of the region", tk.region, b)
	}
	sorted := slices.SortedFunc(slices.Values(tk.got), func(a, b idSpan) int { return cmp.Compare(a.first, b.first) })
	repeats := 0
	for i := 1; i < len(sorted); i++ {
		if prev, cur := sorted[i-1], sorted[i]; cur.first <= prev.last() {
			if repeats++; repeats <= 5 {
				t.Errorf("region %s handed out %v..%v and %v..%v: they overlap", tk.region, prev.first, prev.last(), cur.first, cur.last())
			}
		}
	}
	t.Logf("region %s: %d ranges, %d IDs, %d repeated ranges; failed requests: %v",
		tk.region, len(tk.got), countIDs(tk.got), repeats, tk.errs)
}

func countIDs(spans []idSpan) (n uint64) {
	for _, s := range spans {
		n += s.n
	}
	return n
}

func maxID(spans []idSpan) (m regions.ID) {
	for _, s := range spans {
		m = max(m, s.last())
	}
	return m
}

func minID(spans []idSpan) regions.ID {
	m := ^regions.ID(0)
	for _, s := range spans {
		m = min(m, s.first)
	}
	return m
}

// Command mirrorprobe measures how long a child region's mirror of fedist-registry stalls when the
// parent's stream (or its leader) is lost, for a classic mirror (ephemeral direct consumer) and a
// "durable sourcing" mirror (StreamSource.Consumer, nats-server >= 2.14).
//
//	go run ./node/testdata/mirrorprobe            # all scenarios
//	go run ./node/testdata/mirrorprobe -only b,d  # selected scenarios
//	go run ./node/testdata/mirrorprobe -traps     # trap experiments
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	bucket     = "fedist-registry"
	stream     = "KV_" + bucket
	hubDomain  = "fd-0001"
	leafDomain = "fd-00b0"
	consName   = "mirror-" + leafDomain             // one durable per child
	deliverSub = "fd.mirror." + leafDomain + ".reg" // must not be under $JS.API.>, $KV.>, $OBJ.>
)

var (
	verbose   = flag.Bool("v", false, "log leaf/hub server warnings and mirror notices")
	only      = flag.String("only", "", "comma list of scenarios to run (a,b,c,d,c2,d2)")
	traps     = flag.Bool("traps", false, "run trap experiments instead of scenarios")
	reconnect = flag.Duration("leafreconnect", time.Second, "leafnode ReconnectInterval")
	permsOnly = flag.Bool("perms", false, "with -traps: run trap T8 (minimal leafnode permissions)")
	traceLink = flag.Bool("linktrace", false, "record subjects crossing the leafnode link (trap T7)")
	hardKill  = flag.Bool("hardkill", true, "run hubs as child processes and SIGKILL them (else graceful in-process Shutdown)")
	serve     = flag.String("serve", "", "internal: run one hub from this JSON spec until killed")
)

// hubSpec is what a child process needs to rebuild a hub's options.
type hubSpec struct {
	Node  hubNode
	Peers []int // route ports
	Debug bool
}

func serveHub(spec string) {
	var hs hubSpec
	if err := json.Unmarshal([]byte(spec), &hs); err != nil {
		panic(err)
	}
	o := hubOptions(&hs.Node, hs.Peers)
	o.Debug = hs.Debug
	if _, err := startServer(o, hs.Node.Name); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("READY")
	select {}
}

// durableConsumerConfig is the origin-side consumer backing one child's mirror.
func durableConsumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:        consName,
		DeliverSubject: deliverSub,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckFlowControlPolicy, // required: mirror refuses any other policy
		FlowControl:    true,                           // required by AckFlowControl
		IdleHeartbeat:  time.Second,                    // must be exactly 1s
		MaxAckPending:  10000,                          // must be > 0
		// AckWait / BackOff / MaxDeliver must stay unset. Replicas 0 = stream's replicas.
	}
}

// childPermissions is the parent's leafnode user for child fd-00b0 ("publish" = child->parent,
// "subscribe" = parent->child), enough for a durable-sourced mirror whose durable the parent creates.
func childPermissions() *server.Permissions {
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{
			"$JS." + hubDomain + ".API.CONSUMER.RESET." + stream + "." + consName, // reset request
			"$JS.FC." + stream + "." + consName + ".*",                            // flow-control replies (acks)
		}},
		Subscribe: &server.SubjectPermission{Allow: []string{
			deliverSub, // messages, idle heartbeats, flow-control requests
			"$JSC.R.*", // reset responses (reply subject of the reset request)
		}},
	}
}

func mirrorKVConfig(durable bool) jetstream.KeyValueConfig {
	src := &jetstream.StreamSource{Name: bucket, Domain: hubDomain}
	if durable {
		src.Consumer = &jetstream.StreamConsumerSource{Name: consName, DeliverSubject: deliverSub}
	}
	return jetstream.KeyValueConfig{Bucket: bucket, Mirror: src}
}

// ---------- servers ----------

type logger struct{ name string }

func (l logger) log(k, f string, a ...any) {
	m := fmt.Sprintf(f, a...)
	if *verbose {
		fmt.Printf("    [%s %s %s] %s\n", time.Now().Format("15:04:05.000"), l.name, k, m)
	}
}
func (l logger) Noticef(f string, a ...any) {
	if strings.Contains(f, "irror") || strings.Contains(f, "leader") {
		l.log("NTC", f, a...)
	}
}
func (l logger) Warnf(f string, a ...any)  { l.log("WRN", f, a...) }
func (l logger) Fatalf(f string, a ...any) { l.log("FTL", f, a...) }
func (l logger) Errorf(f string, a ...any) { l.log("ERR", f, a...) }
func (l logger) Debugf(f string, a ...any) {
	if strings.Contains(f, "irror") {
		l.log("DBG", f, a...)
	}
}
func (l logger) Tracef(f string, a ...any) {
	if l.name != "leaf" {
		return
	}
	m := fmt.Sprintf(f, a...)
	op := "LMSG "
	if strings.Contains(m, "HMSG ") {
		op = "HMSG "
	}
	if !strings.Contains(m, "lid:") || !strings.Contains(m, op) {
		return
	}
	dir := "hub->leaf"
	if strings.Contains(m, "->> ") {
		dir = "leaf->hub"
	}
	f2 := strings.Fields(strings.Trim(m[strings.Index(m, op)+5:], "[]"))
	n := 2 // fields after the subject without a reply: size (LMSG) or hdr+size (HMSG)
	if op == "HMSG " {
		n = 3
	}
	subj, reply := f2[0], ""
	if len(f2) > n {
		reply = " reply=" + f2[1]
	}
	subj = op + subj
	linkTrace.Lock()
	linkTrace.m[dir+" "+subj+reply]++
	linkTrace.Unlock()
}

// linkTrace collects the messages crossing the leaf's leafnode connection (with -linktrace).
var linkTrace = struct {
	sync.Mutex
	m map[string]int
}{m: map[string]int{}}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type hubNode struct {
	Name                      string
	Port, LeafPort, RoutePort int
	Dir                       string
	Perms                     bool // leafnode user with the minimal per-child permissions
	srv                       *server.Server
	cmd                       *exec.Cmd
}

type env struct {
	root  string
	hubs  []*hubNode
	leaf  *server.Server
	lport int
}

func hubOptions(h *hubNode, peers []int) *server.Options {
	o := &server.Options{
		ServerName: h.Name, Host: "127.0.0.1", Port: h.Port, NoSigs: true,
		JetStream: true, JetStreamDomain: hubDomain, StoreDir: h.Dir,
		Debug: *verbose,
	}
	o.LeafNode.Host, o.LeafNode.Port = "127.0.0.1", h.LeafPort
	if h.Perms {
		// Top-level users: a leafnode authorised through them gets the user's permissions
		// (LeafNode.Users ignores Permissions). FeDist's custom authenticator does the same.
		o.Users = []*server.User{
			{Username: "child-" + leafDomain, Password: "pw", Permissions: childPermissions()},
			{Username: "admin", Password: "pw"},
		}
	}
	if len(peers) > 1 {
		o.Cluster.Name = "fd-0001"
		o.Cluster.Host, o.Cluster.Port = "127.0.0.1", h.RoutePort
		for _, p := range peers {
			o.Routes = append(o.Routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", p)})
		}
	}
	return o
}

func (e *env) peers() (p []int) {
	for _, h := range e.hubs {
		p = append(p, h.RoutePort)
	}
	return p
}

func startServer(o *server.Options, name string) (*server.Server, error) {
	s, err := server.NewServer(o)
	if err != nil {
		return nil, err
	}
	s.SetLoggerV2(logger{name}, o.Debug, o.Trace, false)
	s.Start()
	if !s.ReadyForConnections(15 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("%s not ready", name)
	}
	return s, nil
}

func (e *env) startHub(h *hubNode) error {
	if !*hardKill {
		s, err := startServer(hubOptions(h, e.peers()), h.Name)
		h.srv = s
		return err
	}
	b, _ := json.Marshal(hubSpec{Node: *h, Peers: e.peers(), Debug: *verbose})
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-serve", string(b), "-v="+strconv.FormatBool(*verbose))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	h.cmd = cmd
	ready := make(chan error, 1)
	go func() {
		buf := make([]byte, 4096)
		var acc []byte
		for {
			n, err := out.Read(buf)
			if n > 0 {
				if *verbose {
					os.Stdout.Write(buf[:n])
				}
				acc = append(acc, buf[:n]...)
				if ready != nil && strings.Contains(string(acc), "READY") {
					ready <- nil
					ready = nil
				}
			}
			if err != nil {
				if ready != nil {
					ready <- fmt.Errorf("%s exited before ready", h.Name)
				}
				return
			}
		}
	}()
	select {
	case err := <-ready:
		return err
	case <-time.After(20 * time.Second):
		return fmt.Errorf("%s: not ready", h.Name)
	}
}

// stopHub kills the hub (SIGKILL on its child process) or shuts it down gracefully in-process.
func (h *hubNode) stop() {
	if h.cmd != nil {
		_ = h.cmd.Process.Kill()
		_ = h.cmd.Wait()
		h.cmd = nil
	}
	if h.srv != nil {
		h.srv.Shutdown()
		h.srv.WaitForShutdown()
		h.srv = nil
	}
}

// startLeaf starts the child; first is the index of the hub tried first (NoRandomize).
func (e *env) startLeaf(first int) error {
	o := &server.Options{
		ServerName: "leaf-b0", Host: "127.0.0.1", Port: e.lport, NoSigs: true,
		JetStream: true, JetStreamDomain: leafDomain, StoreDir: filepath.Join(e.root, "leaf"),
		Debug: *verbose,
	}
	o.LeafNode.ReconnectInterval = *reconnect
	r := &server.RemoteLeafOpts{NoRandomize: true}
	for i := range e.hubs {
		h := e.hubs[(first+i)%len(e.hubs)]
		u := &url.URL{Scheme: "nats-leaf", Host: fmt.Sprintf("127.0.0.1:%d", h.LeafPort)}
		if h.Perms {
			u.User = url.UserPassword("child-"+leafDomain, "pw")
		}
		r.URLs = append(r.URLs, u)
	}
	o.LeafNode.Remotes = []*server.RemoteLeafOpts{r}
	o.Trace = *traceLink
	s, err := startServer(o, "leaf")
	if err != nil {
		return err
	}
	e.leaf = s
	for deadline := time.Now().Add(10 * time.Second); s.NumLeafNodes() == 0; {
		if time.Now().After(deadline) {
			return errors.New("leafnode did not connect")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func newEnv(nhubs int, perms bool) (*env, error) {
	root, err := os.MkdirTemp("", "mirrorprobe-")
	if err != nil {
		return nil, err
	}
	e := &env{root: root, lport: freePort()}
	for i := 0; i < nhubs; i++ {
		e.hubs = append(e.hubs, &hubNode{Name: fmt.Sprintf("hub-%d", i), Port: freePort(), LeafPort: freePort(),
			RoutePort: freePort(), Dir: filepath.Join(root, fmt.Sprintf("hub-%d", i)), Perms: perms})
	}
	var wg sync.WaitGroup
	errs := make([]error, nhubs)
	for i, h := range e.hubs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = e.startHub(h) }()
	}
	wg.Wait()
	return e, errors.Join(errs...)
}

func (e *env) close() {
	if e.leaf != nil {
		e.leaf.Shutdown()
		e.leaf.WaitForShutdown()
	}
	for _, h := range e.hubs {
		h.stop()
	}
	os.RemoveAll(e.root)
}

func (e *env) hubURLs() string {
	var u []string
	for _, h := range e.hubs {
		cred := ""
		if h.Perms {
			cred = "admin:pw@"
		}
		u = append(u, fmt.Sprintf("nats://%s127.0.0.1:%d", cred, h.Port))
	}
	return strings.Join(u, ",")
}

func connect(urls string) (*nats.Conn, error) {
	return nats.Connect(urls, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.RetryOnFailedConnect(true), nats.Timeout(time.Second))
}

func retry(ctx context.Context, what string, f func(context.Context) error) error {
	var err error
	for ctx.Err() == nil {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		err = f(c)
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s: %w (last: %v)", what, ctx.Err(), err)
}

// ---------- measurement ----------

type write struct {
	rev uint64
	at  time.Time
}

type probe struct {
	mu     sync.Mutex
	writes []write
	seen   []write // (leaf last seq, first time observed)
	werr   int
	paused bool
}

func (p *probe) writer(ctx context.Context, kv jetstream.KeyValue) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		paused := p.paused
		p.mu.Unlock()
		if paused {
			continue
		}
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		rev, err := kv.Put(c, "tick", []byte(strconv.Itoa(n)))
		cancel()
		p.mu.Lock()
		if err == nil {
			p.writes = append(p.writes, write{rev, time.Now()})
		} else {
			p.werr++
		}
		p.mu.Unlock()
	}
}

func (p *probe) poller(ctx context.Context, ljs jetstream.JetStream) {
	var last uint64
	for ctx.Err() == nil {
		c, cancel := context.WithTimeout(ctx, time.Second)
		s, err := ljs.Stream(c, stream)
		if err == nil {
			if si := s.CachedInfo(); si.State.LastSeq != last {
				last = si.State.LastSeq
				p.mu.Lock()
				p.seen = append(p.seen, write{last, time.Now()})
				p.mu.Unlock()
			}
		}
		cancel()
		time.Sleep(10 * time.Millisecond)
	}
}

// waitNext waits for the first write acknowledged after t0 and for the leaf to have it.
func (p *probe) waitNext(ctx context.Context, t0 time.Time) (w write, leafAt time.Time, err error) {
	for ctx.Err() == nil {
		p.mu.Lock()
		if w.rev == 0 {
			for _, x := range p.writes {
				if x.at.After(t0) {
					w = x
					break
				}
			}
		}
		if w.rev != 0 {
			for _, s := range p.seen {
				if s.rev >= w.rev {
					leafAt = s.at
					break
				}
			}
		}
		p.mu.Unlock()
		if !leafAt.IsZero() {
			return w, leafAt, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return w, leafAt, ctx.Err()
}

func (p *probe) lastWrite() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.writes) == 0 {
		return 0
	}
	return p.writes[len(p.writes)-1].rev
}

type result struct {
	name, note               string
	downFor, write, leaf, lg time.Duration
	err                      error
	mirrorState              string
}

func stepDown(nc *nats.Conn, subj, preferred string) error {
	b, _ := json.Marshal(map[string]any{"placement": map[string]string{"preferred": preferred}})
	m, err := nc.Request(subj, b, 3*time.Second)
	if err != nil {
		return err
	}
	if strings.Contains(string(m.Data), `"error"`) {
		return fmt.Errorf("%s", m.Data)
	}
	return nil
}

// run executes one scenario. killLeafHub: in a cluster, the leaf connects first to the server that
// will be killed (the stream leader); otherwise to another one.
func run(name string, nhubs int, durable, killLeafHub bool, down time.Duration) (res result) {
	res.name = name
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	e, err := newEnv(nhubs, false)
	defer e.close()
	if err != nil {
		res.err = err
		return
	}
	nc, err := connect(e.hubURLs())
	if err != nil {
		res.err = err
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	var kv jetstream.KeyValue
	if err = retry(ctx, "create bucket", func(c context.Context) (err error) {
		kv, err = js.CreateOrUpdateKeyValue(c, jetstream.KeyValueConfig{Bucket: bucket, Replicas: nhubs})
		return err
	}); err != nil {
		res.err = err
		return
	}
	victim := 0
	if nhubs > 1 {
		// Put the stream leader on hub-0 (and the durable's leader too: the worst case).
		_ = retry(ctx, "stream stepdown", func(c context.Context) error {
			s, err := js.Stream(c, stream)
			if err != nil {
				return err
			}
			if s.CachedInfo().Cluster.Leader == "hub-0" {
				return nil
			}
			_ = stepDown(nc, "$JS.API.STREAM.LEADER.STEPDOWN."+stream, "hub-0")
			return errors.New("not yet")
		})
	}
	first := victim
	if !killLeafHub {
		first = 1
	}
	if err = e.startLeaf(first); err != nil {
		res.err = err
		return
	}
	lnc, err := connect(fmt.Sprintf("nats://127.0.0.1:%d", e.lport))
	if err != nil {
		res.err = err
		return
	}
	defer lnc.Close()
	ljs, _ := jetstream.New(lnc)
	if durable {
		// The child provisions its own consumer at the parent, across the leafnode link.
		pjs, _ := jetstream.NewWithDomain(lnc, hubDomain)
		if err = retry(ctx, "create durable", func(c context.Context) error {
			_, err := pjs.CreateOrUpdatePushConsumer(c, stream, durableConsumerConfig())
			return err
		}); err != nil {
			res.err = err
			return
		}
		if nhubs > 1 {
			_ = retry(ctx, "consumer stepdown", func(c context.Context) error {
				ci, err := js.PushConsumer(c, stream, consName)
				if err != nil {
					return err
				}
				if ci.CachedInfo().Cluster.Leader == "hub-0" {
					return nil
				}
				_ = stepDown(nc, "$JS.API.CONSUMER.LEADER.STEPDOWN."+stream+"."+consName, "hub-0")
				return errors.New("not yet")
			})
		}
	}
	if err = retry(ctx, "create mirror", func(c context.Context) error {
		_, err := ljs.CreateKeyValue(c, mirrorKVConfig(durable))
		return err
	}); err != nil {
		res.err = err
		return
	}

	p := &probe{}
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.writer(wctx, kv) }()
	go func() { defer wg.Done(); p.poller(wctx, ljs) }()
	defer wg.Wait()
	defer wcancel()

	// Warm up: 3 s of writes must reach the leaf.
	time.Sleep(3 * time.Second)
	if _, _, err = p.waitNext(ctx, time.Now().Add(-time.Second)); err != nil {
		res.err = fmt.Errorf("warm-up: %w", err)
		return
	}
	var leaderNote string
	if nhubs > 1 {
		si, _ := js.Stream(ctx, stream)
		leaderNote = "stream leader " + si.CachedInfo().Cluster.Leader
		if durable {
			ci, _ := js.PushConsumer(ctx, stream, consName)
			leaderNote += ", consumer leader " + ci.CachedInfo().Cluster.Leader
		}
	}
	lz, _ := e.leaf.Leafz(nil)
	if lz != nil && len(lz.Leafs) > 0 {
		leaderNote += ", leaf linked to " + lz.Leafs[0].Name
	}
	res.note = strings.TrimPrefix(leaderNote, ", ")

	h := e.hubs[victim]
	tKill := time.Now()
	h.stop()
	t0 := time.Now()
	res.downFor = t0.Sub(tKill)
	if nhubs == 1 {
		time.Sleep(down)
		t0 = time.Now()
		if err = e.startHub(h); err != nil {
			res.err = err
			return
		}
		res.downFor = t0.Sub(tKill)
	}
	w, leafAt, err := p.waitNext(ctx, t0)
	if err != nil {
		res.err = fmt.Errorf("next write never reached the leaf (write rev %d): %w", w.rev, err)
	} else {
		res.write, res.leaf, res.lg = w.at.Sub(t0), leafAt.Sub(t0), leafAt.Sub(w.at)
	}
	if s, err := ljs.Stream(ctx, stream); err == nil {
		m := s.CachedInfo().Mirror
		if m != nil {
			res.mirrorState = fmt.Sprintf("active %v lag %d", m.Active.Round(time.Millisecond), m.Lag)
			if m.Error != nil {
				res.mirrorState += " err=" + m.Error.Error()
			}
		}
	}
	return res
}

func main() {
	flag.Parse()
	if *serve != "" {
		serveHub(*serve)
		return
	}
	if *traps {
		runTraps()
		return
	}
	type sc struct {
		id      string
		nhubs   int
		durable bool
		kill    bool
		down    time.Duration
		desc    string
	}
	all := []sc{
		{"a", 1, false, true, 0, "classic mirror, R1 hub restart"},
		{"b", 1, true, true, 0, "durable mirror, R1 hub restart"},
		{"c", 3, false, true, 0, "classic mirror, R3, kill leader (leaf's hub)"},
		{"d", 3, true, true, 0, "durable R3 mirror, kill leader (leaf's hub)"},
		{"c2", 3, false, false, 0, "classic mirror, R3, kill leader (leaf elsewhere)"},
		{"d2", 3, true, false, 0, "durable R3 mirror, kill leader (leaf elsewhere)"},
		{"a15", 1, false, true, 15 * time.Second, "classic mirror, R1 hub down 15s"},
		{"b15", 1, true, true, 15 * time.Second, "durable mirror, R1 hub down 15s"},
		{"a40", 1, false, true, 40 * time.Second, "classic mirror, R1 hub down 40s"},
		{"b40", 1, true, true, 40 * time.Second, "durable mirror, R1 hub down 40s"},
	}
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s != "" {
			want[s] = true
		}
	}
	var rs []result
	for _, s := range all {
		if len(want) > 0 && !want[s.id] {
			continue
		}
		fmt.Printf("running %s: %s ...\n", s.id, s.desc)
		r := run(s.id+" "+s.desc, s.nhubs, s.durable, s.kill, s.down)
		fmt.Printf("  %+v\n", r)
		rs = append(rs, r)
	}
	fmt.Printf("\n%-50s %8s %10s %10s %8s  %s\n", "scenario", "down", "write ok", "leaf has", "lag", "notes")
	for _, r := range rs {
		if r.err != nil {
			fmt.Printf("%-50s ERROR %v\n", r.name, r.err)
			continue
		}
		fmt.Printf("%-50s %8s %10s %10s %8s  %s; %s\n", r.name, r.downFor.Round(time.Millisecond),
			r.write.Round(time.Millisecond), r.leaf.Round(time.Millisecond), r.lg.Round(time.Millisecond), r.note, r.mirrorState)
	}
}

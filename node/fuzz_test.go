package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/internal/pki"
	"github.com/fedist/fedist/regions"
)

// Fuzz targets for what the root reads from the network (control messages) and from the registry
// mirror (entries written by the root, but read back as untrusted bytes). Each target runs the same
// code the root runs, minus the NATS and JetStream plumbing around it.

// fuzzRequest is one kind of control request, with the subject it travels on.
type fuzzRequest struct {
	subject string
	fresh   func() any // a new zero request to decode into
}

var fuzzRequests = []fuzzRequest{
	{SubjectJoin, func() any { return new(JoinRequest) }},
	{SubjectLeave, func() any { return new(LeaveRequest) }},
	{SubjectLinks, func() any { return new(LinkReport) }},
	{SubjectHWM, func() any { return new(HWMRequest) }},
}

// fuzzPlainSeeds are unsigned control messages: valid ones of each kind and hostile ones.
func fuzzPlainSeeds() [][]byte {
	huge := strings.Repeat("x", 64<<10)
	s := []string{
		`{"id":"00a3","name":"edge","parent":"0002","node":"n1","client_url":"nats://h:4222","leaf_url":"nats://h:7422","peers":["fd-00a3-n2"],"instance":"NABC"}`,
		`{"id":"00a3","node":"n1","phase":"drain"}`,
		`{"id":"00a3","node":"n1","phase":"leave"}`,
		`{"reporter":"fd-0002-a","region":"0002","children":{"00a3":["n1","n2"],"0003":[]}}`,
		`{"id":"00a3","end":4096}`,
		`{"id":"00a3"}`,
		`{"id":"0000","parent":"ffff"}`, `{"id":"ffff","parent":"0000"}`, `{"id":"00A3"}`,
		`{"id":"ffff","end":18446744073709551615}`, `{"id":"ffff","end":18446744073709551616}`,
		`{"end":-1}`, `{"end":1e30}`, `{"end":"5"}`, `{"end":4.5}`,
		`{"id":1}`, `{"id":null}`, `{"id":["00a3"]}`, `{"peers":"fd-00a3-n1"}`, `{"peers":[1,2]}`,
		`{"children":[]}`, `{"children":{"00a3":"n1"}}`, `{"children":{"":null,"0000":["x"]}}`,
		`{"name":"r\u00e9gion \u0000 \ud800 ☃","node":"\u202e"}`, "{\"name\":\"\xff\xfe\"}",
		`{"id":"00a3","id":"0002"}`, `{"ID":"00a3","NODE":"n1"}`,
		`{"id":"00a3","name":"` + huge + `"}`,
		`{"reporter":"fd-00a3-` + huge + `"}`,
		``, ` `, `null`, `true`, `0`, `""`, `[]`, `{}`, `{`, `{"id":"00a3"`, `{"id":"00a3"} trailing`,
		strings.Repeat("[", 20000), strings.Repeat(`{"a":`, 5000),
	}
	out := make([][]byte, len(s))
	for i, v := range s {
		out[i] = []byte(v)
	}
	return out
}

// fuzzEnvelopeEdit decodes an envelope, lets edit change its fields, and encodes it again.
func fuzzEnvelopeEdit(tb testing.TB, env []byte, edit func(m map[string]any)) []byte {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(env, &m); err != nil {
		tb.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// fuzzNonce returns the nonce field of what looks like an envelope, as Verify would read it.
func fuzzNonce(data []byte) string {
	var env struct {
		Nonce []byte `json:"nonce"`
	}
	_ = json.Unmarshal(data, &env)
	return string(env.Nonce)
}

// FuzzControlOpen feeds arbitrary bytes to security.open as the root does, for all four request
// kinds, in insecure mode and with a verifier. It must never panic. Insecure mode must decode
// exactly what json.Unmarshal decodes and name no sender. With a verifier, only an envelope signed
// by the trusted node, for that subject, gets past the signature check (whatever the fuzzer does to
// the bytes), and the same envelope opened twice is a replay.
func FuzzControlOpen(f *testing.F) {
	dir := f.TempDir()
	trusted, other := filepath.Join(dir, "ca"), filepath.Join(dir, "other")
	for _, d := range []string{trusted, other} {
		if err := pki.InitCA(d, 24*time.Hour); err != nil {
			f.Fatal(err)
		}
	}
	files := func(issue func() (string, string, error)) pki.TLSFiles {
		cert, key, err := issue()
		if err != nil {
			f.Fatal(err)
		}
		return pki.TLSFiles{CA: filepath.Join(trusted, pki.CACertFile), Cert: cert, Key: key}
	}
	node := files(func() (string, string, error) { return pki.IssueNode(trusted, 0x00a3, "n1", nil, time.Hour) })
	sec, err := newSecurity(node)
	if err != nil {
		f.Fatal(err)
	}
	roots := sec.verifier.Roots
	// Envelopes that must never be accepted: a node of another CA, and a user of the trusted one.
	foreign := files(func() (string, string, error) { return pki.IssueNode(other, 0x00a3, "n1", nil, time.Hour) })
	user := files(func() (string, string, error) { return pki.IssueClient(trusted, 0x00a3, "alice", time.Hour) })
	var untrusted []*pki.Signer
	for _, fl := range []pki.TLSFiles{foreign, user} {
		s, err := pki.NewSigner(fl.Cert, fl.Key)
		if err != nil {
			f.Fatal(err)
		}
		untrusted = append(untrusted, s)
	}

	plain := fuzzPlainSeeds()
	signedFor := map[string]string{} // nonce → subject, for every envelope the trusted node signed
	sign := func(s *pki.Signer, subject string, payload []byte) []byte {
		env, err := s.Sign(subject, payload, time.Now())
		if err != nil {
			f.Fatal(err)
		}
		if s == sec.signer {
			signedFor[fuzzNonce(env)] = subject
		}
		return env
	}
	for _, p := range plain {
		f.Add(p)
	}
	for i, r := range fuzzRequests {
		payloads := [][]byte{plain[i], nil, []byte("null"), []byte("{"), []byte(`{"id":"00a3","name":"` + strings.Repeat("☃", 4096) + `"}`)}
		for _, p := range payloads {
			env := sign(sec.signer, r.subject, p)
			f.Add(env)
			f.Add(env[:len(env)/2])
			f.Add(append(bytes.Clone(env), ' ', '\n'))
			f.Add(append(bytes.Clone(env), env...))
		}
		env := sign(sec.signer, r.subject, plain[i])
		for _, edit := range []func(m map[string]any){
			func(m map[string]any) { m["payload"] = "eyJpZCI6IjAwMDIifQ==" }, // {"id":"0002"}: signature no longer covers it
			func(m map[string]any) { m["payload"] = nil },
			func(m map[string]any) { delete(m, "payload") },
			func(m map[string]any) { m["ts"] = m["ts"].(float64) + 1 },
			func(m map[string]any) { m["ts"] = 0 },
			func(m map[string]any) { m["v"] = 2 },
			func(m map[string]any) { m["extra"] = true },
			func(m map[string]any) { m["nonce"] = "AAAA" },
			func(m map[string]any) { m["sig"] = m["sig"].(string)[:8] },
			func(m map[string]any) { m["cert"] = "" },
			func(m map[string]any) { m["cert"] = 7 },
		} {
			f.Add(fuzzEnvelopeEdit(f, env, edit))
		}
		f.Add(fuzzEnvelopeEdit(f, env, func(map[string]any) {})) // re-encoded: field order changes
		for _, s := range untrusted {
			f.Add(sign(s, r.subject, plain[i]))
		}
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, r := range fuzzRequests {
			// Insecure: exactly json.Unmarshal, and no identity.
			got, want := r.fresh(), r.fresh()
			id, err := security{}.open(r.subject, data, got)
			wantErr := json.Unmarshal(data, want)
			if id != nil || (err == nil) != (wantErr == nil) {
				t.Fatalf("insecure open on %s = %v, %v; json.Unmarshal says %v", r.subject, id, err, wantErr)
			}
			if err == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("insecure open on %s decoded %+v, json.Unmarshal %+v", r.subject, got, want)
			}

			// With TLS. A fresh verifier per input, so that a seed is not refused as a replay of itself.
			tls := security{verifier: &pki.Verifier{Roots: roots}}
			id, err = tls.open(r.subject, data, r.fresh())
			if id == nil {
				if err == nil {
					t.Fatalf("TLS open on %s accepted %q without a signer", r.subject, data)
				}
				continue
			}
			if subject, ok := signedFor[fuzzNonce(data)]; !ok || subject != r.subject {
				t.Fatalf("TLS open on %s let through %q (signed for %q), as %s", r.subject, data, subject, id)
			}
			if *id != sec.signer.Identity() {
				t.Fatalf("TLS open on %s names %s, the envelope was signed by %s", r.subject, id, sec.signer.Identity())
			}
			if _, err := tls.open(r.subject, data, r.fresh()); !errors.Is(err, pki.ErrReplay) {
				t.Fatalf("TLS open of the same envelope on %s twice: %v, want %v", r.subject, err, pki.ErrReplay)
			}
		}
	})
}

// fuzzRegistry is a small registry with a region in every status, and the link state the root has
// for it: 0001 (root) ← 0002 (active) ← 00a3 (active), 0002 ← 0003 (down) ← ffff (joining),
// 0001 ← 0004 (draining).
func fuzzRegistry(tb testing.TB) (*regions.Tree, map[regions.RegionID]map[string]bool) {
	tb.Helper()
	nodes := func(names ...string) []regions.Node {
		var out []regions.Node
		for _, n := range names {
			out = append(out, regions.Node{Name: n, Instance: "I" + n})
		}
		return out
	}
	tree, err := regions.NewTree([]*regions.Entry{
		{ID: 0x0001, Name: "root", Status: regions.StatusActive, Nodes: nodes("root-n")},
		{ID: 0x0002, Name: "eu", Parent: 0x0001, Status: regions.StatusActive, Nodes: nodes("a", "b")},
		{ID: 0x00a3, Name: "edge", Parent: 0x0002, Status: regions.StatusActive, Nodes: nodes("n1", "n2")},
		{ID: 0x0003, Name: "eu-west", Parent: 0x0002, Status: regions.StatusDown, Nodes: nodes("w")},
		{ID: 0xffff, Name: "last", Parent: 0x0003, Status: regions.StatusJoining},
		{ID: 0x0004, Name: "us", Parent: 0x0001, Status: regions.StatusDraining, Nodes: nodes("x")},
	})
	if err != nil {
		tb.Fatal(err)
	}
	live := map[regions.RegionID]map[string]bool{
		0x0001: {"root-n": true}, 0x0002: {"a": true}, 0x00a3: {"n1": true}, 0x0004: {"x": true},
	}
	return tree, live
}

var fuzzRefusalCodes = []string{CodeReserved, CodeTaken, CodeNeedRoutes, CodeParentUnknown, CodeParentDown, CodeCycle,
	CodeBadRequest, CodeHasChildren, CodeInternal, CodeIdentity}

// FuzzJoinDecision runs the pure part of a join (the checks of rootService.join before the registry
// read, then admit) on a decoded JoinRequest against fuzzRegistry. mode picks the current entry
// admit sees: bits 0-1 are 0 for none, 1 for the tree's entry, 2 for a stale entry that disagrees
// with the tree (the tree is the view, the entry the bucket: they can differ), 3 for the tree's
// entry marked down; bit 2 makes all of that entry's nodes live. admit must never panic, must not
// change its inputs, must refuse with a known code, and when it admits, the entry join then writes
// must fit the tree.
func FuzzJoinDecision(f *testing.F) {
	for _, s := range []string{
		`{"id":"0005","name":"new","parent":"0002","node":"n1","client_url":"nats://h:4222","instance":"X"}`,
		`{"id":"00a3","name":"edge","parent":"0002","node":"n3","peers":["fd-00a3-n1"],"instance":"X"}`,
		`{"id":"00a3","name":"edge","parent":"0002","node":"n1","instance":"In1"}`,
		`{"id":"00a3","name":"edge","parent":"0001","node":"n1"}`,
		`{"id":"00a3","name":"other","parent":"0002","node":"n1"}`,
		`{"id":"0005","name":"x","parent":"0003","node":"n"}`,
		`{"id":"0005","name":"x","parent":"0004","node":"n"}`,
		`{"id":"0005","name":"x","parent":"ffff","node":"n"}`,
		`{"id":"0005","name":"x","parent":"0005","node":"n"}`,
		`{"id":"0002","name":"eu","parent":"00a3","node":"a"}`,
		`{"id":"0002","name":"eu","parent":"0002","node":"a"}`,
		`{"id":"0001","name":"root","parent":"0002","node":"root-n"}`,
		`{"id":"0003","name":"eu-west","parent":"0002","node":"w"}`,
		`{"id":"0004","name":"us","parent":"0001","node":"y","peers":["fd-0004-x"]}`,
		`{"id":"0000","name":"x","parent":"0001","node":"n"}`,
		`{"id":"ffff","name":"last","parent":"0003","node":"n"}`,
		`{"id":"ffff","name":"last","parent":"0001","node":"n"}`,
		`{"id":"00A3","name":"edge","parent":"0002","node":"n1"}`,
		`{"id":"0005","name":"x","parent":"0bad","node":"n"}`,
		`{"id":"0005","name":"","parent":"0002","node":"n"}`,
		`{"id":"0005","name":"☃ r\u00e9gion","parent":"0002","node":"\u0000"}`,
		`{"id":"0005","name":"x","parent":"0002","node":"n","peers":["fd-0005-n","fd-","fd-0005","fd-00a3-"]}`,
		`{"id":"0005","name":"` + strings.Repeat("x", 64<<10) + `","parent":"0002","node":"n"}`,
		`{"id":"0005","name":"x","parent":"0002"`, `{"id":5,"parent":2}`, `null`, `[]`, ``,
	} {
		for _, mode := range []uint8{0, 1, 2, 3, 5, 6} {
			f.Add([]byte(s), mode)
		}
	}
	tree, baseLive := fuzzRegistry(f)
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		var req JoinRequest
		if _, err := (security{}).open(SubjectJoin, data, &req); err != nil {
			return
		}
		// The checks join makes before it reads the registry.
		id, err := regions.ParseRegion(req.ID)
		if err != nil {
			return
		}
		parent, err := regions.ParseRegion(req.Parent)
		if err != nil || req.Name == "" || req.Node == "" || id == tree.Root() {
			return
		}
		var cur *regions.Entry
		switch mode & 3 {
		case 1, 3:
			if e := tree.Entry(id); e != nil {
				cur = e.Clone()
				if mode&3 == 3 {
					cur.Status = regions.StatusDown
				}
			}
		case 2:
			cur = &regions.Entry{ID: id, Name: req.Name, Parent: 0x0003, Status: regions.StatusDraining,
				Nodes: []regions.Node{{Name: "n1"}, {Name: "z", Instance: "Iz"}}}
		}
		live := map[regions.RegionID]map[string]bool{}
		for r, nodes := range baseLive {
			live[r] = map[string]bool{}
			for nd := range nodes {
				live[r][nd] = true
			}
		}
		if mode&4 != 0 && cur != nil {
			live[id] = map[string]bool{}
			for _, nd := range cur.Nodes {
				live[id][nd.Name] = true
			}
		}
		var curBefore *regions.Entry
		if cur != nil {
			curBefore = cur.Clone()
		}
		regionsBefore := tree.Regions()
		reqBefore := req
		reqBefore.Peers = slices.Clone(req.Peers)

		rep := admit(tree, live, cur, id, parent, &req)

		if !reflect.DeepEqual(cur, curBefore) || !reflect.DeepEqual(req, reqBefore) || !slices.Equal(tree.Regions(), regionsBefore) {
			t.Fatalf("admit changed its inputs: cur %+v → %+v, req %+v → %+v", curBefore, cur, reqBefore, req)
		}
		if !rep.OK {
			if !slices.Contains(fuzzRefusalCodes, rep.Code) || rep.Reason == "" {
				t.Fatalf("admit refused %+v with code %q, reason %q", req, rep.Code, rep.Reason)
			}
			return
		}
		if rep.Code != "" || rep.Reason != "" {
			t.Fatalf("admit accepted %+v with code %q, reason %q", req, rep.Code, rep.Reason)
		}
		if pe := tree.Entry(parent); pe == nil || pe.Status != regions.StatusActive || parent == id {
			t.Fatalf("admit accepted %s under %s, which is not an active other region", id, parent)
		}
		if cur != nil && cur.Name != req.Name {
			t.Fatalf("admit accepted %q as %s, which is %q", req.Name, id, cur.Name)
		}
		// The entry join writes when admit says yes (its update callback).
		next := &regions.Entry{ID: id}
		if cur != nil {
			next = cur.Clone()
		}
		if next.Status == regions.StatusDown {
			next.Nodes = slices.DeleteFunc(next.Nodes, func(nd regions.Node) bool { return nd.Name != req.Node })
		}
		next.Name, next.Parent, next.Status = req.Name, parent, regions.StatusActive
		upsertNode(next, regions.Node{Name: req.Node, ClientURL: req.ClientURL, LeafURL: req.LeafURL, Instance: req.Instance})
		after, err := tree.WithEntry(next)
		if err != nil {
			t.Fatalf("admit accepted %s under %s, but the tree with it does not validate: %v", id, parent, err)
		}
		if p, _ := after.Parent(id); p != parent || after.Root() != tree.Root() || next.Node(req.Node) == nil {
			t.Fatalf("after admitting %s under %s: parent %s, root %s → %s", id, parent, p, tree.Root(), after.Root())
		}
		dp, _ := after.Depth(parent)
		if d, _ := after.Depth(id); d != dp+1 {
			t.Fatalf("after admitting %s under %s: depth %d, parent's %d", id, parent, d, dp)
		}
	})
}

// FuzzLinkReport decodes a link report as onLinks does, turns it into the root's link state the way
// onLinks does, and runs liveNodes on it together with fixed reports over fuzzRegistry. Nothing may
// panic; names that parse must round-trip; every live node must be vouched for by a fresh report.
func FuzzLinkReport(f *testing.F) {
	for _, s := range []string{
		`{"reporter":"fd-0002-a","region":"0002","children":{"00a3":["n1","n2"],"0003":[]}}`,
		`{"reporter":"fd-0001-root-n","region":"0001","children":{"0002":["a"],"0004":["x"]}}`,
		`{"reporter":"fd-0001-other","region":"0001","children":{"00a3":["n9"],"ffff":["q"]}}`,
		`{"reporter":"fd-00a3-n1","region":"00a3","children":{"0001":["root-n"],"0002":["b"],"00a3":["n1"]}}`,
		`{"reporter":"fd-0003-w","children":{"ffff":["q"]}}`,
		`{"reporter":"fd-0002-","children":{"0003":["w"]}}`,
		`{"reporter":"fd-0002-a-b-c","children":{"0003":["w","w",""]}}`,
		`{"reporter":"fd-ffff-z","children":{"0005":["n"]}}`,
		`{"reporter":"fd-0000-a","children":{"0003":["w"]}}`,
		`{"reporter":"fd-00A3-n1"}`, `{"reporter":"fd-00a3"}`, `{"reporter":"fd-00a3n1"}`, `{"reporter":"nats-1"}`,
		`{"reporter":"fd-0002-a","children":{"0000":["x"],"FFFF":["x"],"fff":["x"],"":["x"],"0003 ":["w"]}}`,
		`{"reporter":"fd-0002-a","children":{"0003":null}}`,
		`{"reporter":"fd-0002-a","children":[]}`, `{"reporter":"fd-0002-a","children":{"0003":"w"}}`,
		`{"reporter":"fd-0002-☃","children":{"0003":["\u0000","\ud800"]}}`,
		`{"reporter":"fd-0002-` + strings.Repeat("a", 64<<10) + `"}`,
		`{"reporter":"fd-0002-a","children":{"0003":["` + strings.Repeat("w", 64<<10) + `"]}}`,
		`{"reporter":"fd-0002-a","children":{"0003":["w"]`, `{"reporter":7}`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	tree, _ := fuzzRegistry(f)
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	const ttl = 7 * time.Second
	fixed := map[string]linkState{
		"fd-0001-root-n": {region: 0x0001, node: "root-n", children: map[regions.RegionID][]string{0x0002: {"a"}}, at: now},
		// Stale: vouches for nothing.
		"fd-0001-old": {region: 0x0001, node: "old", children: map[regions.RegionID][]string{0x0004: {"x"}}, at: now.Add(-ttl)},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var rep LinkReport
		if _, err := (security{}).open(SubjectLinks, data, &rep); err != nil {
			return
		}
		// onLinks from here on.
		r, node, ok := broker.ParseServerName(rep.Reporter)
		if !ok {
			return
		}
		if !r.Valid() || regions.ServerName(r, node) != rep.Reporter {
			t.Fatalf("ParseServerName(%q) = %s, %q, which formats as %q", rep.Reporter, r, node, regions.ServerName(r, node))
		}
		st := linkState{region: r, node: node, children: map[regions.RegionID][]string{}, at: now}
		for k, nodes := range rep.Children {
			if c, err := regions.ParseRegion(k); err == nil {
				if c.String() != k {
					t.Fatalf("child key %q parses as %s", k, c)
				}
				st.children[c] = nodes
			}
		}
		s := &rootService{n: &Node{cfg: Config{ReportTTL: ttl}}, reports: map[string]linkState{}}
		s.n.cfg.Broker.Node = "root-n"
		for k, v := range fixed {
			s.reports[k] = v
		}
		s.reports[rep.Reporter] = st

		live := s.liveNodes(tree, now)

		if !live[tree.Root()]["root-n"] {
			t.Fatalf("liveNodes lost the root's own node: %v", live)
		}
		for lr, nodes := range live {
			if !tree.Has(lr) {
				t.Fatalf("liveNodes made %s live, which is not in the registry: %v", lr, live)
			}
			for nd := range nodes {
				if !fuzzVouched(s.reports, tree.Root(), s.n.cfg.Broker.Node, lr, nd, now, ttl) {
					t.Fatalf("liveNodes made node %q of %s live, and no fresh report says so: %v", nd, lr, live)
				}
			}
		}
	})
}

// fuzzVouched reports whether node nd of region r is the root's own node, or a fresh report names it.
func fuzzVouched(reports map[string]linkState, root regions.RegionID, self string, r regions.RegionID, nd string, now time.Time, ttl time.Duration) bool {
	if r == root && nd == self {
		return true
	}
	for _, st := range reports {
		if now.Sub(st.at) >= ttl {
			continue
		}
		_, partial := st.partial[r][nd]
		if (st.region == r && st.node == nd) || slices.Contains(st.children[r], nd) || partial {
			return true
		}
	}
	return false
}

// fuzzShapeEntry is the width of one compact entry in FuzzRegistryTree's shape argument: region ID
// (2 bytes), parent (2 bytes, 0000 for none), status (1 byte).
const fuzzShapeEntry = 5

var fuzzStatuses = []regions.Status{regions.StatusJoining, regions.StatusActive, regions.StatusDraining, regions.StatusDown}

// FuzzRegistryTree builds the region tree from hostile registry values, the way a node's view does:
// data is a JSON array of values, and shape adds compact entries (so the fuzzer can reach deep trees
// and cycles without spelling JSON), each marshalled and read back through regions.UnmarshalEntry.
// Entries that do not decode are skipped, as the view skips them. NewTree must never panic and must
// refuse with one of its sentinels; when it builds a tree, the tree must be one (checked by bounded
// walks before any tree method that loops), and Depth, PathToRoot, CommonAncestor and TreePath must
// agree with a brute-force computation for every pair of regions.
func FuzzRegistryTree(f *testing.F) {
	entry := func(id, parent, status string) string {
		return `{"id":"` + id + `","name":"r` + id + `","parent":"` + parent + `","status":"` + status + `","leaf_urls":[],"client_urls":[]}`
	}
	list := func(values ...string) string { return "[" + strings.Join(values, ",") + "]" }
	root := entry("0001", "", "active")
	valid := list(root, entry("0002", "0001", "active"), entry("00a3", "0002", "down"), entry("ffff", "0001", "draining"))
	for _, seed := range []struct{ data, shape string }{
		{valid, ""},
		{valid[:len(valid)/2], ""},
		{list(root, entry("0001", "", "down")), ""},                                        // duplicate
		{list(root, entry("0002", "", "active")), ""},                                      // two roots
		{list(entry("0002", "0003", "active"), entry("0003", "0002", "active")), ""},       // cycle, no root
		{list(root, entry("0002", "0003", "active"), entry("0003", "0002", "active")), ""}, // cycle beside a root
		{list(root, entry("0002", "0002", "active")), ""},                                  // own parent
		{list(root, entry("0002", "0bad", "active")), ""},                                  // unknown parent
		{list(entry("0000", "", "active"), entry("ffff", "0000", "active")), ""},           // reserved IDs
		{list(entry("0001", "", "gone"), entry("00A3", "0001", "active")), ""},             // bad status, upper case
		{`[{"id":"0001","status":"active","nodes":[{"name":"☃"},{"name":"` + strings.Repeat("n", 64<<10) + `"}]},` +
			`{"id":"0002","parent":"0001","status":"active","nodes":"x"}]`, ""},
		{`[null,1,"x",[],{},{"id":null},{"id":"0001","status":"active","parent":null}]`, ""},
		{`{"id":"0001","status":"active"}`, ""},
		{"", "\x00\x01\x00\x00\x01"},
		{"", "\x00\x01\x00\x00\x01\x00\x02\x00\x01\x01\x00\x03\x00\x02\x01\x00\x04\x00\x03\x03\xff\xff\x00\x04\x02"}, // chain
		{"", "\x00\x01\x00\x00\x01\x00\x02\x00\x03\x01\x00\x03\x00\x04\x01\x00\x04\x00\x02\x01"},                     // 3-cycle beside a root
		{"", "\x00\x01\x00\x00\x01\x00\x02\x00\x01\x01\x00\x02\x00\x01\x01"},                                         // duplicate
		{"", "\x00\x00\x00\x00\x01\xff\xff\x00\x00\x01"},                                                             // 0000 and ffff
		{list(root), "\x00\x02\x00\x01\x01\x00\x03\x00\x01\x01\x00\x04\x00\x02\x01"},
	} {
		f.Add([]byte(seed.data), []byte(seed.shape))
	}
	f.Fuzz(func(t *testing.T, data, shape []byte) {
		var values []json.RawMessage
		_ = json.Unmarshal(data, &values)
		for i := 0; i+fuzzShapeEntry <= len(shape) && i < 64*fuzzShapeEntry; i += fuzzShapeEntry {
			e := regions.Entry{
				ID:     regions.RegionID(shape[i])<<8 | regions.RegionID(shape[i+1]),
				Parent: regions.RegionID(shape[i+2])<<8 | regions.RegionID(shape[i+3]),
				Status: fuzzStatuses[shape[i+4]%4],
				Name:   "shape",
			}
			v, err := e.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			values = append(values, v)
		}
		var raw []*regions.Entry
		byID := map[regions.RegionID]*regions.Entry{} // the view: the last value of each region wins
		for _, v := range values {
			e, err := regions.UnmarshalEntry(v)
			if err != nil {
				continue
			}
			fuzzCheckRoundTrip(t, e)
			raw = append(raw, e)
			byID[e.ID] = e
		}
		view := make([]*regions.Entry, 0, len(byID))
		for _, e := range byID {
			view = append(view, e)
		}
		for _, entries := range [][]*regions.Entry{raw, view} {
			tree, err := regions.NewTree(entries)
			if err != nil {
				if !fuzzTreeErr(err) {
					t.Fatalf("NewTree error %v wraps none of the tree sentinels", err)
				}
				continue
			}
			fuzzCheckTree(t, tree, len(entries))
		}
	})
}

// fuzzCheckRoundTrip checks that an entry read from the registry reads the same once written back.
func fuzzCheckRoundTrip(t *testing.T, e *regions.Entry) {
	t.Helper()
	data, err := e.Marshal()
	if err != nil {
		t.Fatalf("Marshal of a decoded entry %+v: %v", e, err)
	}
	back, err := regions.UnmarshalEntry(data)
	if err != nil {
		t.Fatalf("UnmarshalEntry(Marshal(%+v)) = %v", e, err)
	}
	if back.ID != e.ID || back.Parent != e.Parent || back.Name != e.Name || back.Status != e.Status ||
		!slices.Equal(back.Nodes, e.Nodes) {
		t.Fatalf("entry %+v reads back as %+v", e, back)
	}
}

func fuzzTreeErr(err error) bool {
	for _, s := range []error{regions.ErrReservedRegion, regions.ErrDuplicate, regions.ErrNoRoot,
		regions.ErrParentUnknown, regions.ErrCycle} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// fuzzCheckTree checks a tree NewTree built from n entries against brute force.
func fuzzCheckTree(t *testing.T, tree *regions.Tree, n int) {
	t.Helper()
	all := tree.Regions()
	if tree.Len() != n || len(all) != n {
		t.Fatalf("tree of %d entries has Len %d and %d regions", n, tree.Len(), len(all))
	}
	// Walk every region up to the root in at most n steps, reading nothing but Parent, which does not
	// loop; a region that does not get there means NewTree accepted a cycle, and the tree methods
	// below would never return.
	paths := make(map[regions.RegionID][]regions.RegionID, n)
	kids := 0
	for _, r := range all {
		path := []regions.RegionID{r}
		for p, _ := tree.Parent(r); p != 0; p, _ = tree.Parent(p) {
			if !tree.Has(p) || len(path) > n {
				t.Fatalf("NewTree accepted %s, whose parent chain %v does not reach the root", r, path)
			}
			path = append(path, p)
		}
		if path[len(path)-1] != tree.Root() {
			t.Fatalf("%s's chain %v ends at %s, not at the root %s", r, path, path[len(path)-1], tree.Root())
		}
		paths[r] = path
		if d, err := tree.Depth(r); err != nil || d != len(path)-1 {
			t.Fatalf("Depth(%s) = %d, %v; want %d", r, d, err, len(path)-1)
		}
		if got, err := tree.PathToRoot(r); err != nil || !slices.Equal(got, path) {
			t.Fatalf("PathToRoot(%s) = %v, %v; want %v", r, got, err, path)
		}
		c := tree.Children(r)
		if !slices.IsSorted(c) {
			t.Fatalf("Children(%s) = %v, not sorted", r, c)
		}
		for _, k := range c {
			if p, _ := tree.Parent(k); p != r {
				t.Fatalf("Children(%s) holds %s, whose parent is %s", r, k, p)
			}
		}
		kids += len(c)
	}
	if kids != n-1 {
		t.Fatalf("%d regions but %d parent-child links", n, kids)
	}
	for _, bad := range []regions.RegionID{0, fuzzMissing(tree)} {
		if _, err := tree.PathToRoot(bad); !errors.Is(err, regions.ErrUnknownRegion) {
			t.Fatalf("PathToRoot(%s) = %v, want %v", bad, err, regions.ErrUnknownRegion)
		}
		if _, err := tree.CommonAncestor(bad, tree.Root()); !errors.Is(err, regions.ErrUnknownRegion) {
			t.Fatalf("CommonAncestor(%s, root) = %v, want %v", bad, err, regions.ErrUnknownRegion)
		}
	}
	if len(all) > 24 {
		all = all[:24]
	}
	for _, a := range all {
		for _, b := range all {
			fuzzCheckPair(t, tree, paths, a, b)
		}
	}
}

// fuzzCheckPair checks CommonAncestor and TreePath of a and b against their paths to the root.
func fuzzCheckPair(t *testing.T, tree *regions.Tree, paths map[regions.RegionID][]regions.RegionID, a, b regions.RegionID) {
	t.Helper()
	pa, pb := paths[a], paths[b]
	// The deepest common ancestor: walk both paths down from the root while they agree.
	var want regions.RegionID
	for i := 1; i <= len(pa) && i <= len(pb) && pa[len(pa)-i] == pb[len(pb)-i]; i++ {
		want = pa[len(pa)-i]
	}
	lca, err := tree.CommonAncestor(a, b)
	if err != nil || lca != want {
		t.Fatalf("CommonAncestor(%s, %s) = %s, %v; want %s", a, b, lca, err, want)
	}
	path, err := tree.TreePath(a, b)
	if err != nil {
		t.Fatalf("TreePath(%s, %s): %v", a, b, err)
	}
	dl := len(paths[lca]) - 1
	if len(path) != (len(pa)-1)+(len(pb)-1)-2*dl+1 || path[0] != a || path[len(path)-1] != b || !slices.Contains(path, lca) {
		t.Fatalf("TreePath(%s, %s) = %v (common ancestor %s)", a, b, path, lca)
	}
	for i := 1; i < len(path); i++ {
		p1, _ := tree.Parent(path[i-1])
		p2, _ := tree.Parent(path[i])
		if p1 != path[i] && p2 != path[i-1] {
			t.Fatalf("TreePath(%s, %s) = %v: %s and %s are not parent and child", a, b, path, path[i-1], path[i])
		}
	}
}

// fuzzMissing returns a valid region ID that is not in the tree.
func fuzzMissing(tree *regions.Tree) regions.RegionID {
	for r := regions.RegionID(0xffff); r > 0; r-- {
		if !tree.Has(r) {
			return r
		}
	}
	return 0 // every ID is taken; 0 is never in a tree either
}

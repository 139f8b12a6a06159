package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/regions"
)

// rawJoin sends a hand-made join request, as a foreign or broken node would.
func rawJoin(t *testing.T, via *Node, req JoinRequest) Reply {
	t.Helper()
	data, _ := json.Marshal(&req)
	msg, err := via.Conn().Request(SubjectJoin, data, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var rep Reply
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

func registrySnapshot(t *testing.T, n *Node) map[regions.RegionID]string {
	t.Helper()
	out := map[regions.RegionID]string{}
	for _, e := range n.View().Entries() {
		e.Updated = ""
		data, _ := e.Marshal()
		out[e.ID] = string(data)
	}
	return out
}

func TestJoinRefusals(t *testing.T) {
	f := startTree(t)
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error { return statusIs(f.a1.View(), bID, regions.StatusActive) })
	before := registrySnapshot(t, f.root)

	cases := []struct {
		name string
		req  JoinRequest
		code string
	}{
		{"reserved ID", JoinRequest{ID: "0000", Name: "zero", Parent: "0001", Node: "z"}, CodeReserved},
		{"malformed ID", JoinRequest{ID: "00B0", Name: "x", Parent: "0001", Node: "x"}, CodeBadRequest},
		{"root's ID", JoinRequest{ID: "0001", Name: "x", Parent: "00a0", Node: "x"}, CodeTaken},
		{"ID taken by another name", JoinRequest{ID: "00b0", Name: "impostor", Parent: "0001", Node: "x"}, CodeTaken},
		{"same name, not routed to the live node", JoinRequest{ID: "00b0", Name: "b", Parent: "0001", Node: "b9"}, CodeNeedRoutes},
		{"active region under another parent", JoinRequest{ID: "00b0", Name: "b", Parent: "00a0", Node: "b9"}, CodeTaken},
		{"unknown parent", JoinRequest{ID: "00e0", Name: "e", Parent: "0e0e", Node: "e1"}, CodeParentUnknown},
		// A's own process asking to move under its child A1.
		{"cycle", JoinRequest{ID: "00a0", Name: "a", Parent: "00a1", Node: "a1", Instance: f.a.Broker().Server().ID()}, CodeCycle},
		{"second process with a running node's name", JoinRequest{ID: "00a0", Name: "a", Parent: "0001", Node: "a1", Instance: "OTHER"}, CodeTaken},
		{"own parent", JoinRequest{ID: "00e0", Name: "e", Parent: "00e0", Node: "e1"}, CodeParentUnknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := rawJoin(t, f.a1, tc.req)
			if rep.OK || rep.Code != tc.code {
				t.Fatalf("reply %+v, want refusal %q", rep, tc.code)
			}
			if rep.Reason == "" {
				t.Fatal("refusal without a reason")
			}
			t.Logf("%s: %s", rep.Code, rep.Reason)
		})
	}

	// A real node claiming B's ID is refused and gives up with an error that names the code.
	cfg := fastConfig(t, bID, "b1", "b-two", f.a)
	n := startNode(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := n.WaitReady(ctx)
	var refused *RefusedError
	if !errors.As(err, &refused) || !errors.Is(err, ErrTaken) {
		t.Fatalf("second node with B's ID: %v, want a refusal wrapping ErrTaken", err)
	}
	if err := n.Health(); err == nil {
		t.Fatal("refused node reports healthy")
	}
	_ = n.Shutdown(context.Background())

	after := registrySnapshot(t, f.root)
	for id, v := range before {
		if after[id] != v {
			t.Errorf("registry entry %s changed by refused joins:\n before %s\n after  %s", id, v, after[id])
		}
	}
	if len(after) != len(before) {
		t.Errorf("registry has %d entries after refusals, want %d", len(after), len(before))
	}
}

func TestJoinRefusedUnderDownParent(t *testing.T) {
	f := startTree(t)
	if err := f.b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error { return statusIs(f.root.View(), bID, regions.StatusDown) })
	rep := rawJoin(t, f.a, JoinRequest{ID: "00b1", Name: "b-child", Parent: "00b0", Node: "x"})
	if rep.OK || rep.Code != CodeParentDown {
		t.Fatalf("join under a down parent: %+v", rep)
	}
}

// TestJoinTimeout: with JoinTimeout, a node whose parent URL nobody serves gives up with ErrNoParent
// and a reason that names the URL, instead of waiting for ever.
func TestJoinTimeout(t *testing.T) {
	c := fastConfig(t, 0x00a0, "a1", "a", nil)
	port, err := broker.PickPort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	c.Broker.ParentURLs = []string{fmt.Sprintf("nats-leaf://127.0.0.1:%d", port)}
	c.JoinTimeout = 500 * time.Millisecond
	n, err := Start(c)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = n.WaitReady(ctx)
	if !errors.Is(err, ErrNoParent) || !strings.Contains(err.Error(), c.Broker.ParentURLs[0]) {
		t.Fatalf("WaitReady: %v, want ErrNoParent naming the URL", err)
	}
}

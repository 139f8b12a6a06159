package node

import (
	"errors"
	"testing"

	"github.com/fedist/fedist/internal/pki"
	"github.com/fedist/fedist/regions"
)

// TestHoldAndPushRefusals: a region cannot hold replicas in another's name, push values for
// records it does not own, or speak on another node's stream; every such message is refused.
func TestHoldAndPushRefusals(t *testing.T) {
	const owner, reader, other regions.RegionID = 0x00b0, 0x00a1, 0x00c0
	ownKey := wireKey{Kind: "users", ID: regions.NewID(owner, 7)}
	node := func(r regions.RegionID, n string) *pki.Identity { return &pki.Identity{Region: r, Node: n} }
	goodHold := func() holdMsg { return holdMsg{Region: reader, Node: "n1", Add: []wireKey{ownKey}} }
	holds := []struct {
		name    string
		subject string
		edit    func(*holdMsg)
		signer  *pki.Identity
		ok      bool
	}{
		{"genuine", SubjectHold + owner.String(), nil, node(reader, "n1"), true},
		{"genuine, insecure mode", SubjectHold + owner.String(), nil, nil, true},
		{"signed by another region", SubjectHold + owner.String(), nil, node(other, "n1"), false},
		{"signed by another node", SubjectHold + owner.String(), nil, node(reader, "n2"), false},
		{"signed by a user", SubjectHold + owner.String(), nil, &pki.Identity{Region: reader, User: "app"}, false},
		{"sent to another owner", SubjectHold + other.String(), nil, node(reader, "n1"), false},
		{"a record of another region", SubjectHold + owner.String(), func(h *holdMsg) {
			h.Add = []wireKey{{Kind: "users", ID: regions.NewID(other, 7)}}
		}, node(reader, "n1"), false},
		{"a bad kind", SubjectHold + owner.String(), func(h *holdMsg) { h.Drop = []wireKey{{Kind: "a.>", ID: ownKey.ID}} }, node(reader, "n1"), false},
		{"the owner itself", SubjectHold + owner.String(), func(h *holdMsg) { h.Region = owner }, node(owner, "n1"), false},
		{"too many keys", SubjectHold + owner.String(), func(h *holdMsg) { h.Add = make([]wireKey, maxHoldKeys+1) }, node(reader, "n1"), false},
	}
	for _, tc := range holds {
		h := goodHold()
		if tc.edit != nil {
			tc.edit(&h)
		}
		err := checkHold(owner, tc.subject, &h, tc.signer)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrReplication)) {
			t.Errorf("hold %s: %v, want ok=%v", tc.name, err, tc.ok)
		}
	}

	goodPush := func() pushMsg {
		return pushMsg{Owner: owner, Node: "o1", Epoch: "e", Seq: 1, Op: pushPut, Keys: []wireKey{ownKey}, Value: []byte("v")}
	}
	mine := pushSubject(reader, "n1")
	pushes := []struct {
		name    string
		subject string
		edit    func(*pushMsg)
		signer  *pki.Identity
		ok      bool
	}{
		{"genuine", mine, nil, node(owner, "o1"), true},
		{"heartbeat", mine, func(p *pushMsg) { p.Op, p.Keys, p.Value = pushBeat, nil, nil }, node(owner, "o1"), true},
		{"signed by another region", mine, nil, node(other, "o1"), false},
		{"signed by another node of the owner", mine, nil, node(owner, "o2"), false},
		{"a record of another region", mine, func(p *pushMsg) {
			p.Keys = []wireKey{{Kind: "users", ID: regions.NewID(other, 7)}}
		}, node(owner, "o1"), false},
		{"claims to be from the reader's own region", mine, func(p *pushMsg) { p.Owner = reader }, node(reader, "o1"), false},
		{"for another node's stream", pushSubject(reader, "n2"), nil, node(owner, "o1"), false},
		{"a put of two keys", mine, func(p *pushMsg) { p.Keys = append(p.Keys, ownKey) }, node(owner, "o1"), false},
		{"an unknown operation", mine, func(p *pushMsg) { p.Op = "drop-all" }, node(owner, "o1"), false},
		{"no epoch", mine, func(p *pushMsg) { p.Epoch = "" }, node(owner, "o1"), false},
	}
	for _, tc := range pushes {
		p := goodPush()
		if tc.edit != nil {
			tc.edit(&p)
		}
		err := checkPush(reader, "n1", tc.subject, &p, tc.signer)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrReplication)) {
			t.Errorf("push %s: %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

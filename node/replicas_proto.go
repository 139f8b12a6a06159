package node

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fedist/fedist/internal/pki"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/fedist/fedist/replication"
)

// The replication protocol between nodes, in FeDist's account (both subjects cross every tree
// link, childControlExports). With TLS every message is signed by the node that sends it and
// checked against the region and node it speaks for, so a region can neither hold replicas in
// another's name (and so drop them) nor push values for records it does not own.
//
//	fdc.rh.<owner>           holdMsg: a reader node takes up or drops replicas of owner's records,
//	                         or renews all it holds. Every node of owner takes it.
//	fdc.rp.<reader>.<node>   pushMsg: an owner node sends a change, an acknowledgement of holds, or
//	                         a heartbeat to one reader node.
const (
	SubjectHold = "fdc.rh."
	SubjectPush = "fdc.rp."
)

// maxHoldKeys bounds the keys one hold message carries; a reader sends more in several.
const maxHoldKeys = 256

// holdMsg is a reader node's hold request to the nodes of the records' home region.
type holdMsg struct {
	Region regions.RegionID `json:"region"`
	Node   string           `json:"node"`
	Add    []wireKey        `json:"add,omitempty"`
	Drop   []wireKey        `json:"drop,omitempty"`
}

// wireKey is a replication.Key on the wire.
type wireKey struct {
	Kind string     `json:"k"`
	ID   regions.ID `json:"i"`
}

func (k wireKey) key() replication.Key { return replication.Key{Kind: k.Kind, ID: k.ID} }

func toWire(k replication.Key) wireKey { return wireKey{Kind: k.Kind, ID: k.ID} }

// Push operations.
const (
	pushBeat       = "beat"  // heartbeat: nothing changed, Seq is the stream's current number
	pushAck        = "ack"   // the holds in Keys are registered
	pushPut        = "put"   // Key now holds Value
	pushDelete     = "del"   // Key is gone
	pushInvalidate = "inval" // Key changed, but the value does not fit the owner's push budget: drop the replica
	pushResync     = "sync"  // the owner node does not know this reader's holds (it started after them): send them again
	pushRefuse     = "no"    // the owner node keeps no more holds (MaxHolds): release the keys
)

// maxPushValue bounds a value pushed to replicas: past it (with the envelope's base64, near NATS's
// 1 MiB payload limit) a change goes out as an invalidation.
const maxPushValue = 256 << 10

// pushMsg is one message of an owner node's stream to one reader node. Seq numbers the stream's
// changes (put, del, inval), so a reader notices one it missed; Epoch names the owner node's
// process, whose restart starts a new stream.
type pushMsg struct {
	Owner  regions.RegionID `json:"owner"`
	Node   string           `json:"node"`
	Epoch  string           `json:"epoch"`
	Seq    uint64           `json:"seq"`
	Op     string           `json:"op"`
	Keys   []wireKey        `json:"keys,omitempty"`
	Value  []byte           `json:"value,omitempty"`
	Commit int64            `json:"commit,omitempty"` // unix ns on the owner's clock
	Sent   int64            `json:"sent,omitempty"`   // unix ns on the owner's clock
}

// Errors of the replication protocol.
var ErrReplication = errors.New("replication message refused")

// checkHold checks a hold received on subject: it names the owner region of the subject, every
// key is one of that region's records, and (with TLS) the signer is the reader node it names.
func checkHold(me regions.RegionID, subject string, h *holdMsg, signer *pki.Identity) error {
	if subject != SubjectHold+me.String() {
		return fmt.Errorf("%w: hold on %s", ErrReplication, subject)
	}
	if !h.Region.Valid() || h.Region == me || h.Node == "" || len(h.Add)+len(h.Drop) > maxHoldKeys {
		return fmt.Errorf("%w: hold from %s/%q with %d keys", ErrReplication, h.Region, h.Node, len(h.Add)+len(h.Drop))
	}
	if signer != nil && (!signer.IsNode() || signer.Region != h.Region || signer.Node != h.Node) {
		return fmt.Errorf("%w: hold for %s/%s signed by %s", ErrReplication, h.Region, h.Node, signer)
	}
	return checkKeys(me, append(h.Add, h.Drop...))
}

// checkPush checks a push received by node me/myNode: its keys are records of the owner it names,
// and (with TLS) the signer is that owner's node.
func checkPush(me regions.RegionID, myNode, subject string, p *pushMsg, signer *pki.Identity) error {
	if subject != pushSubject(me, myNode) {
		return fmt.Errorf("%w: push on %s", ErrReplication, subject)
	}
	if !p.Owner.Valid() || p.Owner == me || p.Node == "" || p.Epoch == "" || len(p.Keys) > maxHoldKeys {
		return fmt.Errorf("%w: push from %s/%q", ErrReplication, p.Owner, p.Node)
	}
	if signer != nil && (!signer.IsNode() || signer.Region != p.Owner || signer.Node != p.Node) {
		return fmt.Errorf("%w: push of %s/%s signed by %s", ErrReplication, p.Owner, p.Node, signer)
	}
	switch p.Op {
	case pushBeat, pushAck, pushResync, pushRefuse:
	case pushPut, pushDelete, pushInvalidate:
		if len(p.Keys) != 1 {
			return fmt.Errorf("%w: %s of %d keys", ErrReplication, p.Op, len(p.Keys))
		}
	default:
		return fmt.Errorf("%w: operation %q", ErrReplication, p.Op)
	}
	return checkKeys(p.Owner, p.Keys)
}

func checkKeys(owner regions.RegionID, keys []wireKey) error {
	for _, k := range keys {
		if err := overlay.CheckKind(k.Kind); err != nil {
			return fmt.Errorf("%w: %v", ErrReplication, err)
		}
		if !k.ID.Valid() || k.ID.Region() != owner {
			return fmt.Errorf("%w: record %s is not one of %s's", ErrReplication, k.ID, owner)
		}
	}
	return nil
}

func pushSubject(reader regions.RegionID, node string) string {
	return SubjectPush + reader.String() + "." + node
}

// nodeToken reports whether a node name can be one subject token.
func nodeToken(node string) bool {
	return node != "" && !strings.ContainsAny(node, ".*> \t\r\n")
}

package regions

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Bucket is the name of the registry KV bucket, at the root and in every region's mirror.
const Bucket = "fedist-registry"

// KeyPrefix prefixes every registry key: region.<rrrr>.
const KeyPrefix = "region."

// Status is a region's state in the registry.
type Status string

// The statuses a region moves through. A region is joining until the root accepts it, active while
// its parent sees its leafnode link, down while that link is gone, and draining while it leaves.
const (
	StatusJoining  Status = "joining"
	StatusActive   Status = "active"
	StatusDraining Status = "draining"
	StatusDown     Status = "down"
)

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusJoining, StatusActive, StatusDraining, StatusDown:
		return true
	}
	return false
}

// Node is one server of a region.
type Node struct {
	Name      string `json:"name"`
	ClientURL string `json:"client_url,omitempty"`
	LeafURL   string `json:"leaf_url,omitempty"`
	// Instance identifies the running process (its nats-server ID), so that a second process
	// claiming the same node name can be told apart from a restart.
	Instance string `json:"instance,omitempty"`
}

// Entry is one region's registry value, stored as JSON under Key(ID). Parent is empty for the root.
// LeafURLs and ClientURLs are the union over the region's nodes, for tools that read the registry.
type Entry struct {
	ID         RegionID `json:"-"`
	IDText     string   `json:"id"`
	Name       string   `json:"name"`
	ParentText string   `json:"parent"`
	Parent     RegionID `json:"-"`
	Status     Status   `json:"status"`
	LeafURLs   []string `json:"leaf_urls"`
	ClientURLs []string `json:"client_urls"`
	Nodes      []Node   `json:"nodes,omitempty"`
	// Reason says why the status last changed, for operators (e.g. "leafnode link to 0001 lost").
	Reason string `json:"reason,omitempty"`
	// Updated is the root's wall clock at the last write, RFC 3339.
	Updated string `json:"updated,omitempty"`
}

// Key returns the registry key of region r.
func Key(r RegionID) string { return KeyPrefix + r.String() }

// ParseKey returns the region named by a registry key.
func ParseKey(key string) (RegionID, error) {
	s, ok := strings.CutPrefix(key, KeyPrefix)
	if !ok {
		return 0, fmt.Errorf("registry key %q: want %s<rrrr>", key, KeyPrefix)
	}
	return ParseRegion(s)
}

// IsRoot reports whether the entry is the root region (no parent).
func (e *Entry) IsRoot() bool { return e.Parent == 0 }

// Marshal encodes the entry as JSON, filling the text fields and the URL unions from the typed ones.
func (e *Entry) Marshal() ([]byte, error) {
	c := *e
	c.IDText = e.ID.String()
	c.ParentText = ""
	if e.Parent != 0 {
		c.ParentText = e.Parent.String()
	}
	if len(c.Nodes) > 0 {
		c.LeafURLs, c.ClientURLs = nil, nil
		for _, n := range c.Nodes {
			if n.LeafURL != "" {
				c.LeafURLs = append(c.LeafURLs, n.LeafURL)
			}
			if n.ClientURL != "" {
				c.ClientURLs = append(c.ClientURLs, n.ClientURL)
			}
		}
	}
	if c.LeafURLs == nil {
		c.LeafURLs = []string{}
	}
	if c.ClientURLs == nil {
		c.ClientURLs = []string{}
	}
	return json.Marshal(&c)
}

// UnmarshalEntry decodes and checks a registry value.
func UnmarshalEntry(data []byte) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("registry entry: %w", err)
	}
	id, err := ParseRegion(e.IDText)
	if err != nil {
		return nil, fmt.Errorf("registry entry: id: %w", err)
	}
	e.ID = id
	if e.ParentText != "" {
		p, err := ParseRegion(e.ParentText)
		if err != nil {
			return nil, fmt.Errorf("registry entry %s: parent: %w", id, err)
		}
		e.Parent = p
	}
	if !e.Status.Valid() {
		return nil, fmt.Errorf("registry entry %s: unknown status %q", id, e.Status)
	}
	return &e, nil
}

// Clone returns a deep copy.
func (e *Entry) Clone() *Entry {
	c := *e
	c.LeafURLs = append([]string(nil), e.LeafURLs...)
	c.ClientURLs = append([]string(nil), e.ClientURLs...)
	c.Nodes = append([]Node(nil), e.Nodes...)
	return &c
}

// Node returns the named node of the region, or nil.
func (e *Entry) Node(name string) *Node {
	for i := range e.Nodes {
		if e.Nodes[i].Name == name {
			return &e.Nodes[i]
		}
	}
	return nil
}

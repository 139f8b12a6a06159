package node

import (
	"errors"
	"fmt"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/regions"
)

// Control subjects. They cross every leafnode link, so a request from any node reaches the root.
const (
	SubjectJoin  = "fdc.root.join"  // JoinRequest → Reply
	SubjectLeave = "fdc.root.leave" // LeaveRequest → Reply
	SubjectLinks = "fdc.root.links" // LinkReport, no reply
	SubjectHWM   = "fdc.root.hwm"   // HWMRequest → HWMReply
	// SubjectInstance prefixes the subject every node process answers on (fdc.inst.<server ID>),
	// so the root can ask whether the process behind a registered node is still running.
	SubjectInstance = "fdc.inst."
)

// JoinRequest asks the root to admit one node of a region.
type JoinRequest struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Parent    string   `json:"parent"`
	Node      string   `json:"node"`
	ClientURL string   `json:"client_url"`
	LeafURL   string   `json:"leaf_url,omitempty"`
	Peers     []string `json:"peers,omitempty"` // server names this node has cluster routes to
	Instance  string   `json:"instance"`        // this process's nats-server ID
}

// LeaveRequest asks the root to drain (Phase "drain") or remove (Phase "leave") one node.
type LeaveRequest struct {
	ID    string `json:"id"`
	Node  string `json:"node"`
	Phase string `json:"phase"`
}

// Reply answers a join or leave. Code is one of the Code* constants when OK is false.
type Reply struct {
	OK     bool   `json:"ok"`
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// LinkReport says which child regions' nodes hold leafnode links to the reporting node.
type LinkReport struct {
	Reporter string              `json:"reporter"` // server name, fd-<rrrr>-<node>
	Region   string              `json:"region"`
	Children map[string][]string `json:"children"` // child region → its nodes with both links here
	// Partial lists child nodes with only one of their two links here (1: FeDist's account, 2:
	// the applications'), the other on another node of this region: the root adds them up.
	Partial map[string]map[string]uint8 `json:"partial,omitempty"`
}

// Refusal codes, stable for scripts.
const (
	CodeReserved      = "reserved"
	CodeTaken         = "taken"
	CodeParentUnknown = "parent-unknown"
	CodeParentDown    = "parent-not-active"
	CodeCycle         = "cycle"
	CodeBadRequest    = "bad-request"
	CodeHasChildren   = "has-children"
	CodeInternal      = "internal"
	CodeIdentity      = "identity" // the request is not signed by a node of the region it names
	// CodeNeedRoutes refuses a new node of an active region that has no cluster route to its nodes
	// yet. It wraps ErrTaken; a node configured with routes retries it for JoinPatience, since its
	// routes may come up just after it asked.
	CodeNeedRoutes = "need-routes"
)

// Errors a join or leave can end with. A *RefusedError wraps one of them.
var (
	ErrRefused      = errors.New("refused by the root")
	ErrTaken        = errors.New("region ID is taken")
	ErrParentDown   = errors.New("parent region is not active")
	ErrHasChildren  = errors.New("region still has child regions")
	ErrBadRequest   = errors.New("malformed request")
	ErrNotJoined    = errors.New("node has not joined yet")
	ErrRootMismatch = errors.New("registry has a different root")
	ErrInternalRoot = errors.New("root failed to write the registry")
	ErrIdentity     = errors.New("request not signed by a node of the region it names")
	ErrNoParent     = errors.New("parent not reachable")
)

// RefusedError is a join or leave the root refused. Its message is the root's reason.
type RefusedError struct {
	Code   string
	Reason string
}

func (e *RefusedError) Error() string { return "refused by the root: " + e.Reason }

// Unwrap lets errors.Is match the sentinel of the code (regions.ErrReservedRegion, ErrTaken, ...).
func (e *RefusedError) Unwrap() []error { return []error{ErrRefused, codeErr(e.Code)} }

func codeErr(code string) error {
	switch code {
	case CodeReserved:
		return regions.ErrReservedRegion
	case CodeTaken, CodeNeedRoutes:
		return ErrTaken
	case CodeParentUnknown:
		return regions.ErrParentUnknown
	case CodeParentDown:
		return ErrParentDown
	case CodeCycle:
		return regions.ErrCycle
	case CodeHasChildren:
		return ErrHasChildren
	case CodeBadRequest:
		return ErrBadRequest
	case CodeInternal:
		return ErrInternalRoot
	case CodeIdentity:
		return ErrIdentity
	}
	return fmt.Errorf("unknown refusal code %q", code)
}

func refuse(code, format string, a ...any) Reply {
	return Reply{Code: code, Reason: fmt.Sprintf(format, a...)}
}

// childControlExports lists the subjects every child region's FeDist link may carry toward its
// parent, as messages and as interest: requests to the root (signed with TLS) and the root's
// questions to node processes, the root's beats, link-state adverts and replication holds and
// pushes (signed with TLS), inboxes, JetStream API replies, and nats-server's loop detection; each
// child adds its own registry feed (childMirrorExports). Nothing else reaches the
// parent's FeDist account, so a child node, even one whose code was changed, cannot write a bucket
// there or reach another region's JetStream through its parent.
//
// nats-server sends the list to the child, which applies it too; a mirror's request arrives here as
// $JS.<this domain>.API.…, which is mapped to $JS.API.… before the parent checks it, so both forms
// are listed.
func childControlExports(me regions.RegionID) []string {
	return []string{"fdc.root.>", SubjectBeat, SubjectInstance + ">", SubjectAdverts + ">", SubjectHold + ">", SubjectPush + ">", "_INBOX.>", "$JSC.>", "$LDS.>"}
}

// childMirrorExports lists what child's registry mirror needs from this node (me), on top of
// childControlExports: managing its own durable feed on this node's registry (create, look up,
// delete, reset) and acknowledging it (flow control). Another child's feed is out of reach.
func childMirrorExports(me, child regions.RegionID) []string {
	d := mirrorDurable(child)
	out := []string{mirrorDeliver(child), "$JS.FC." + registryStream + "." + d + ".>"}
	for _, api := range []string{"$JS.API", "$JS." + broker.Domain(me) + ".API"} {
		for _, op := range []string{"CONSUMER.CREATE", "CONSUMER.DURABLE.CREATE", "CONSUMER.INFO", "CONSUMER.DELETE", "CONSUMER.RESET"} {
			out = append(out, api+"."+op+"."+registryStream+"."+d)
		}
	}
	return out
}

// registryStream is the JetStream stream behind the registry bucket.
const registryStream = "KV_" + regions.Bucket

package node

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/fedist/fedist/internal/pki"
	"github.com/nats-io/nats.go"
)

// Control messages (joins, leaves, link reports, ID high-water marks) cross several leafnode hops
// to the root, so the link a message arrived on says nothing about who sent it. With TLS, a node
// signs each one with its certificate's key (pki.Signer) and the root checks the signature and the
// identity it names (pki.Verifier) before it reads the message: a node of region A cannot join,
// leave, report links or record IDs as B. In insecure mode messages go unsigned and the root takes
// them as they come.

// security is the node's signing and checking state; both are nil in insecure mode.
type security struct {
	signer   *pki.Signer
	verifier *pki.Verifier // used at the root
}

func newSecurity(f pki.TLSFiles) (security, error) {
	if f.CA == "" {
		return security{}, nil
	}
	signer, err := pki.NewSigner(f.Cert, f.Key)
	if err != nil {
		return security{}, fmt.Errorf("node credential: %w", err)
	}
	roots, err := pki.LoadCA(f.CA)
	if err != nil {
		return security{}, fmt.Errorf("federation CA: %w", err)
	}
	return security{signer: signer, verifier: &pki.Verifier{Roots: roots}}, nil
}

// seal turns a control payload into what goes on the wire for subject.
func (s security) seal(subject string, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil || s.signer == nil {
		return data, err
	}
	return s.signer.Sign(subject, data, time.Now())
}

// open checks a control message received on subject and decodes its payload into v. id is the
// sender's verified identity, or nil in insecure mode.
func (s security) open(subject string, data []byte, v any) (id *pki.Identity, err error) {
	if s.verifier != nil {
		who, payload, err := s.verifier.Verify(subject, data, time.Now())
		if err != nil {
			return nil, err
		}
		id, data = &who, payload
	}
	if err := json.Unmarshal(data, v); err != nil {
		return id, fmt.Errorf("not valid JSON: %w", err)
	}
	return id, nil
}

// request sends a sealed control request and decodes the root's Reply.
func (n *Node) request(ctx context.Context, subject string, v any) (Reply, error) {
	data, err := n.sec.seal(subject, v)
	if err != nil {
		return Reply{}, err
	}
	msg, err := n.nc.RequestWithContext(ctx, subject, data)
	if err != nil {
		return Reply{}, err
	}
	var rep Reply
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		return Reply{}, fmt.Errorf("unreadable reply from the root: %w", err)
	}
	return rep, nil
}

// requestTimeout is request with a timeout instead of a context.
func (n *Node) requestTimeout(subject string, v any, d time.Duration) (Reply, error) {
	ctx, cancel := context.WithTimeout(n.ctx, d)
	defer cancel()
	rep, err := n.request(ctx, subject, v)
	if err == context.DeadlineExceeded {
		err = nats.ErrTimeout
	}
	return rep, err
}

package overlay

import "github.com/nats-io/nats.go"

// The reply-status convention. A reply may carry HeaderStatus; a reply without it is a normal answer
// ("ok"). Replies saying that nobody will answer (no-responder, unknown-region, region-down,
// hop-limit) have an empty body and also carry nats.go's "Status: 503" header, so a plain nats.go
// client (and the nats CLI) sees them as "no responders" without knowing FeDist. not-found and error
// come from a responder and carry no 503.
const (
	HeaderStatus = "Fd-Status" // one of the Status* values
	HeaderError  = "Fd-Error"  // a human-readable reason for a failure status
	HeaderHops   = "Fd-Hops"   // forwarders crossed so far; see Config.MaxHops
	// HeaderProbe marks a readiness probe (client.WaitInterest): a subscriber answers it with an
	// empty reply and does not hand it to the application.
	HeaderProbe = "Fd-Probe"

	StatusOK            = "ok"
	StatusNotFound      = "not-found"      // the owner answered: no such record
	StatusNoResponder   = "no-responder"   // the region is up but nothing serves this lookup
	StatusUnknownRegion = "unknown-region" // the region is not in the registry
	StatusRegionDown    = "region-down"    // the region is in the registry but down
	StatusHopLimit      = "hop-limit"      // the message crossed too many forwarders and was dropped
	StatusError         = "error"          // the responder failed; see HeaderError
)

// natsStatus is the header nats.go parses from a status line; "503" with an empty body is read as
// nats.ErrNoResponders by every nats.go request call.
const natsStatus = "Status"

// StatusReply builds a failure reply for subject with the FeDist status and reason.
func StatusReply(subject, status, reason string) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(HeaderStatus, status)
	if reason != "" {
		m.Header.Set(HeaderError, reason)
	}
	switch status {
	case StatusNoResponder, StatusUnknownRegion, StatusRegionDown, StatusHopLimit:
		// Nobody will answer: plain nats.go clients read this as "no responders".
		m.Header.Set(natsStatus, "503")
	}
	return m
}

// ReplyStatus returns the FeDist status of a reply: HeaderStatus if present, "no-responder" for
// nats-server's own 503, else "ok".
func ReplyStatus(m *nats.Msg) string {
	if m.Header != nil {
		if s := m.Header.Get(HeaderStatus); s != "" {
			return s
		}
		if m.Header.Get(natsStatus) == "503" && len(m.Data) == 0 {
			return StatusNoResponder
		}
	}
	return StatusOK
}

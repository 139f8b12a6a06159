package overlay

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrStreamRefused is returned for a stream an application may not create.
var ErrStreamRefused = errors.New("stream refused")

// reserved are the namespaces no application stream may capture or republish into: FeDist's own,
// every inbox, and the server's and JetStream's internal subjects.
var reserved = []string{
	RelayPrefix + ">", ReplyPrefix + ">", ControlPrefix + ">", IDPrefix + ">", JSGatewayPrefix + ">",
	InboxRoot + ">", "$KV." + regions.Bucket + ".>",
	"$JS.>", "$JSC.>", "$SYS.>", "$SRV.>", "$NRG.>", "$MQTT.>",
}

// CheckStream decides whether an application of region me may create (or update) the stream a
// JetStream STREAM.CREATE or STREAM.UPDATE request describes. A stream's subjects are interest like
// a subscription's, so a stream over another region's subjects would pull that region's traffic to
// this one; the rules match what a client may subscribe and publish to:
//   - subjects: its own region's fd.<me>.…, or a bucket's $KV.<b>.… or $O.<b>.… (not FeDist's);
//     "fd.*.>", "fd.>", ">" and anything outside these are refused;
//   - mirrors and sources only of this region's own streams (no other domain or account);
//   - republishing only to subjects an application may publish to.
func CheckStream(me regions.RegionID, req []byte) error {
	var cfg jetstream.StreamConfig
	if err := json.Unmarshal(req, &cfg); err != nil {
		return fmt.Errorf("%w: unreadable stream config: %v", ErrStreamRefused, err)
	}
	if cfg.Name == "KV_"+regions.Bucket {
		return fmt.Errorf("%w: %s is FeDist's registry copy", ErrStreamRefused, cfg.Name)
	}
	for _, s := range cfg.Subjects {
		if err := streamSubject(me, s); err != nil {
			return err
		}
	}
	sources := cfg.Sources
	if cfg.Mirror != nil {
		sources = append(sources, cfg.Mirror)
	}
	for _, src := range sources {
		if src.External != nil || src.Domain != "" {
			return fmt.Errorf("%w: source %q is in another domain or account; an application's streams may only source this region's own", ErrStreamRefused, src.Name)
		}
	}
	if rp := cfg.RePublish; rp != nil {
		if tokens := strings.Split(rp.Destination, "."); tokens[0] != "fd" {
			for _, r := range reserved {
				if SubjectsCollide(rp.Destination, r) {
					return fmt.Errorf("%w: republish destination %q is in %s", ErrStreamRefused, rp.Destination, r)
				}
			}
		}
	}
	return nil
}

func streamSubject(me regions.RegionID, s string) error {
	tokens := strings.Split(s, ".")
	own := len(tokens) >= 3 && tokens[0] == "fd" && tokens[1] == me.String()
	bucket := len(tokens) >= 3 && (tokens[0] == "$KV" || tokens[0] == "$O") && !strings.ContainsAny(tokens[1], "*>") &&
		!strings.HasPrefix(tokens[1], "fedist-")
	if !own && !bucket {
		return fmt.Errorf("%w: subject %q: an application's streams hold its own region's subjects (fd.%s.…) or its buckets' ($KV.<bucket>.…, $O.<bucket>.…)",
			ErrStreamRefused, s, me)
	}
	for _, tok := range tokens {
		if tok == "" {
			return fmt.Errorf("%w: subject %q has an empty token", ErrStreamRefused, s)
		}
	}
	return nil
}

// SubjectsCollide reports whether some subject matches both patterns a and b (NATS wildcards: * is
// one token, > is one or more trailing tokens).
func SubjectsCollide(a, b string) bool {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; ; i++ {
		switch {
		case i == len(at) && i == len(bt):
			return true
		case i == len(at) || i == len(bt):
			return false
		case at[i] == ">" || bt[i] == ">":
			return true
		case at[i] == "*" || bt[i] == "*" || at[i] == bt[i]:
			continue
		default:
			return false
		}
	}
}

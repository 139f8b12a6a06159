package node

import (
	"encoding/json"
	"strings"

	"github.com/fedist/fedist/overlay"
	"github.com/nats-io/nats.go"
)

// The JetStream gateway: applications create and change streams through it, because nats-server
// cannot check a stream's subjects against a user's permissions, and a stream over another
// region's subjects would pull that region's traffic here. It takes fdjs.<me>.API.<call>, checks
// STREAM.CREATE and STREAM.UPDATE with overlay.CheckStream, refuses STREAM.RESTORE, and passes
// every other call on unchanged ($JS.API.<call>, or $KV.… and $O.… for bucket writes), so a client
// pointed at the gateway's API prefix works as with plain JetStream. Answers go from JetStream to
// the caller's inbox directly; the gateway forwards only requests whose reply is an inbox, and
// never a call an application could not make itself.

const jsGatewayQueue = "fedist-jsgate"

// gatewayDeny is overlay.GatewayDeny, computed once: the gateway checks it on every call.
var gatewayDeny = overlay.GatewayDeny()

func (n *Node) startJSGateway() error {
	prefix := overlay.JSGatewayAPI(n.Region()) + "."
	_, err := n.anc.QueueSubscribe(prefix+">", jsGatewayQueue, func(m *nats.Msg) {
		n.jsGateway(m, strings.TrimPrefix(m.Subject, prefix))
	})
	return err
}

func (n *Node) jsGateway(m *nats.Msg, call string) {
	if m.Reply != "" && !overlay.ValidReply(m.Reply) {
		n.log.Warn().Str("reply", m.Reply).Msg("JetStream gateway: refusing a call whose reply is not an inbox")
		return
	}
	var target string
	switch {
	case strings.HasPrefix(call, "$KV.") || strings.HasPrefix(call, "$O."):
		target = call
	case strings.HasPrefix(call, "STREAM.CREATE.") || strings.HasPrefix(call, "STREAM.UPDATE."):
		if err := overlay.CheckStream(n.Region(), m.Data); err != nil {
			n.log.Warn().Err(err).Str("call", call).Msg("JetStream gateway: stream refused")
			n.jsRefuse(m, err.Error())
			return
		}
		target = "$JS.API." + call
	case strings.HasPrefix(call, "STREAM.RESTORE."):
		n.jsRefuse(m, "restoring a stream is not offered to applications: its snapshot's configuration cannot be checked")
		return
	default:
		target = "$JS.API." + call
	}
	for _, deny := range gatewayDeny {
		if overlay.SubjectsCollide(target, deny) {
			n.jsRefuse(m, "permissions violation: "+target+" is refused to applications")
			return
		}
	}
	if err := n.anc.PublishMsg(&nats.Msg{Subject: target, Reply: m.Reply, Header: m.Header, Data: m.Data}); err != nil {
		n.log.Warn().Err(err).Str("call", call).Msg("JetStream gateway forward")
	}
}

// jsRefuse answers with a JetStream API error, which nats.go and the nats CLI print as such.
func (n *Node) jsRefuse(m *nats.Msg, why string) {
	if m.Reply == "" {
		return
	}
	data, _ := json.Marshal(map[string]any{
		"type":  "io.nats.jetstream.api.v1.error",
		"error": map[string]any{"code": 403, "err_code": 10403, "description": "fedist: " + why},
	})
	_ = n.anc.Publish(m.Reply, data)
}

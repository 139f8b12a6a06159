package node

import (
	"time"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats-server/v2/server"
)

// replyWindow is how long an application may answer a request it received (allow_responses). It
// matches client.DefaultTimeout's order: no caller waits longer for an answer.
const replyWindow = 2 * time.Minute

// appPermissions returns the permissions of every application user of region me: the allow lists
// of package overlay, and one reply to each request received.
func appPermissions(me regions.RegionID) func(user string) *server.Permissions {
	pub, deny, sub := overlay.AppPublish(me), overlay.AppPublishDeny(), overlay.AppSubscribe(me)
	return func(string) *server.Permissions {
		return &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: pub, Deny: deny},
			Subscribe: &server.SubjectPermission{Allow: sub},
			Response:  &server.ResponsePermission{MaxMsgs: 1, Expires: replyWindow},
		}
	}
}

package overlay

import "github.com/fedist/fedist/regions"

// AppSubscribe lists what a client of region me may subscribe to: its own region's subjects, its
// inboxes, relay replies, and the NATS service-discovery subjects. Everything else, including another
// region's fd.<r>.> and wildcards spanning regions, is refused with the normal permissions error.
func AppSubscribe(me regions.RegionID) []string {
	return []string{OwnRegionWildcard(me), "_INBOX.>", "$SRV.>"}
}

// AppPublishDeny lists what a client may not publish to: FeDist's control subjects.
func AppPublishDeny() []string { return []string{ControlPrefix + ">"} }

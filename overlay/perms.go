package overlay

import "github.com/fedist/fedist/regions"

// AppSubscribe lists what a client of region me may subscribe to: its own region's subjects, its
// inboxes, relay replies, and the NATS service-discovery subjects. Everything else, including another
// region's fd.<r>.> and wildcards spanning regions, is refused with the normal permissions error.
func AppSubscribe(me regions.RegionID) []string {
	return []string{OwnRegionWildcard(me), "_INBOX.>", "$SRV.>"}
}

// AppPublishDeny lists what a client may not publish to: FeDist's control subjects, direct writes to
// the registry, and the JetStream calls that would change, purge or delete FeDist's two buckets, in
// this region's domain or any other. Reading and watching the registry and claiming ID blocks stay
// allowed; applications keep full use of JetStream for their own streams.
func AppPublishDeny() []string {
	deny := []string{ControlPrefix + ">", "$KV." + regions.Bucket + ".>"}
	for _, stream := range []string{"KV_" + regions.Bucket, "KV_" + regions.IDBucket} {
		for _, api := range []string{"$JS.API", "$JS.*.API"} {
			for _, op := range []string{"STREAM.UPDATE", "STREAM.DELETE", "STREAM.PURGE", "STREAM.MSG.DELETE",
				"STREAM.RESTORE", "STREAM.PEER.REMOVE", "STREAM.LEADER.STEPDOWN"} {
				deny = append(deny, api+"."+op+"."+stream)
			}
		}
	}
	return deny
}

package overlay

import "github.com/fedist/fedist/regions"

// Namespaces of the application account that only FeDist serves.
const (
	// IDPrefix is where a region's nodes hand out ranges of record IDs: fdi.<r>.range. Clients of r
	// may publish only to their own region's.
	IDPrefix = "fdi."
	// JSGatewayPrefix is where a region's nodes take JetStream API calls from applications:
	// fdjs.<r>.API.<call>. Creating or changing a stream goes only through it (see CheckStream);
	// every other call is passed on unchanged. Point a client at it with
	// jetstream.NewWithAPIPrefix(nc, JSGatewayAPI(r)) or `nats --js-api-prefix fdjs.<r>.API`.
	JSGatewayPrefix = "fdjs."
	// InboxRoot starts every application inbox: _INBOX.<r>.<…>; see InboxPrefix.
	InboxRoot = "_INBOX."
)

// InboxPrefix returns the inbox prefix a client of region r must use (nats.CustomInboxPrefix, or
// the nats CLI's --inbox-prefix): _INBOX.<r>. A client may subscribe only to its own region's
// inboxes, so nobody else's replies reach it.
func InboxPrefix(r regions.RegionID) string { return InboxRoot + r.String() }

// IDSubject returns fdi.<r>.range, where region r's nodes hand out ID ranges.
func IDSubject(r regions.RegionID) string { return IDPrefix + r.String() + ".range" }

// IDRangeRequest asks a node of the region for up to N consecutive IDs on IDSubject.
type IDRangeRequest struct {
	N uint64 `json:"n"`
}

// IDRangeReply is N consecutive IDs from First (16 hex digits), or an Error.
type IDRangeReply struct {
	First string `json:"first,omitempty"`
	N     uint64 `json:"n,omitempty"`
	Error string `json:"error,omitempty"`
}

// JSGatewayAPI returns fdjs.<r>.API, the JetStream API prefix of region r's gateway.
func JSGatewayAPI(r regions.RegionID) string { return JSGatewayPrefix + r.String() + ".API" }

// AppSubscribe lists what a client of region me may subscribe to: its own region's subjects, its
// region's inboxes, its nodes' route hints (RoutesSubject), and the NATS service-discovery subjects. Everything else, including another
// region's fd.<r>.> and every wildcard spanning regions, is refused with the normal permissions
// error.
func AppSubscribe(me regions.RegionID) []string {
	return []string{OwnRegionWildcard(me), InboxPrefix(me) + ".>", RoutesSubject(me), "$SRV.>"}
}

// AppPublish lists what a client of region me may publish to. Replies to requests it received are
// allowed besides (nats-server's allow_responses), whatever their subject.
//
//   - fd.> and fdh.>: any region subject, directly or through a relay (another region's relay
//     carries WaitInterest's probes);
//   - fdl.<me>.>: any region subject through its own region's relay as one of the region's own
//     clients: lookups a replica may answer, counted as the region's demand (LocalSubject);
//   - fdi.<me>.> and fdjs.<me>.>: its own region's ID ranges and JetStream gateway;
//   - fdo.<me>.traffic: traffic reports to its own region's cost engine (TrafficSubject);
//   - fdo.<me>.changes: changes to its own region's records, pushed to their replicas
//     (ChangesSubject);
//   - its own JetStream in its own region: $JS.API.> (less AppPublishDeny), acks, flow control,
//     and KV and object-store writes. Another region's domain ($JS.<domain>.API.>) is not listed,
//     so it is refused.
//   - $SRV.>: NATS service discovery.
func AppPublish(me regions.RegionID) []string {
	return []string{
		PublicPrefix + ">", RelayPrefix + ">", LocalPrefix + me.String() + ".>",
		IDPrefix + me.String() + ".>", JSGatewayPrefix + me.String() + ".>", TrafficSubject(me), ChangesSubject(me),
		"$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "$KV.>", "$O.>",
		"$SRV.>",
	}
}

// AppLeafDeny lists what never crosses a region's link to its parent in the applications' account:
// JetStream of every kind (an application's streams, buckets and acks are its own region's), the ID
// ranges, the JetStream gateway, and fdo.> (route hints, traffic reports and changes are for the
// region's own nodes: no other region's node may report a change of its records). Applications cannot publish most of it, but JetStream itself
// can (a consumer delivers wherever it is told), and this keeps such deliveries in their region.
func AppLeafDeny() []string {
	return []string{"$JS.>", "$JSC.>", "$KV.>", "$O.>", IDPrefix + ">", JSGatewayPrefix + ">", RoutesPrefix + ">", LocalPrefix + ">"}
}

// AppLinkExports lists what a child region's application link may send to its parent: region
// subjects, relays and their replies, link probes, inboxes, and service discovery. Shortcut
// namespaces (fdq.…) and route hints (fdo.…) are not listed: they stay on the server where they
// are published. The parent enforces it, so a
// child node cannot lift AppLeafDeny for its region.
func AppLinkExports() []string {
	return []string{PublicPrefix + ">", RelayPrefix + ">", ReplyPrefix + ">", ProbePrefix + "*", InboxRoot + ">", "$SRV.>", "$LDS.>"}
}

// AppPublishDeny lists the exceptions to AppPublish: creating, changing or restoring a stream
// directly (a stream's subjects could capture another region's traffic, so those calls go through
// the gateway, which checks them), and GatewayDeny.
func AppPublishDeny() []string {
	deny := GatewayDeny()
	for _, op := range []string{"CREATE", "UPDATE", "RESTORE"} {
		deny = append(deny, "$JS.API.STREAM."+op+".*")
	}
	return deny
}

// GatewayDeny lists what neither an application nor the JetStream gateway on its behalf may do:
// write the applications' registry copy, or delete, purge or move its stream.
func GatewayDeny() []string {
	deny := []string{"$KV." + regions.Bucket + ".>"}
	for _, op := range []string{"DELETE", "PURGE", "MSG.DELETE", "LEADER.STEPDOWN", "PEER.REMOVE"} {
		deny = append(deny, "$JS.API.STREAM."+op+".KV_"+regions.Bucket)
	}
	return deny
}

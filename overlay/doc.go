// Package overlay carries application traffic between regions: the subject namespaces, the relay
// endpoint that shortcuts will use, hop limits, the reply-status convention, and the client
// permissions that keep each region's subjects to itself (allow lists, AppPublish and AppSubscribe),
// and what a child's application link may carry (AppLinkExports, AppLeafDeny).
//
// Namespaces (r is a region's 4-hex ID):
//
//	fd.<r>.…                public; what applications publish and subscribe to. On the tree it is
//	                        routed by plain NATS interest: a subscription in region r makes its
//	                        subject known up and down the leafnode tree, and NATS forwards each
//	                        message once along the unique tree path, keeping queue-group and
//	                        no-responder semantics. No subject mapping is involved.
//	fd.<r>.get.<kind>.<id>  a lookup of record <id> (16 hex) of type <kind>, answered in region r.
//	fdh.<via>.<d>.…         relay: carried to region via's relay (by interest, like any subject),
//	                        which sends it on toward d by its own route table (Engine): on the
//	                        tree as fd.<d>.…, to another relay, or over a shortcut; once, with the
//	                        hop count raised. Shortcut connections publish into it.
//	fdr.<r>.<node>.<token>  the reply subject a relay puts on a request it republishes; the relay
//	                        forwards answers only to replies it recorded under such tokens.
//	fdp.<r>                 link probes, answered by region r's relays with T2 and T3 headers.
//	fdq.<o>.<node>.<p>.…    the namespace of the shortcut node of region o opened to a node of p,
//	                        on p's server: .r.<token> wrapped replies, .h.<d>.… traffic p sends
//	                        back over it, .p probes from p, .i the connection's own inbox. Only
//	                        that connection may subscribe, and it crosses no leafnode link.
//	fdl.<r>.<d>.…           like fdh.<r>.<d>.…, but only region r's own clients may publish it and
//	                        no leafnode link carries it: the lookups replicas answer and count as
//	                        the region's demand (Replicas, LocalSubject).
//	fdo.<r>.routes          which destinations region r's nodes route off the tree (clients
//	                        read it); fdo.<r>.traffic: what r's clients sent over the tree, per
//	                        destination (clients write it); fdo.<r>.changes: changes r's clients
//	                        report to their own records, pushed to replicas (ChangesSubject).
//	                        fdo.> never crosses a leafnode link.
//	fdc.…                   FeDist control (joins, link reports, adverts, replication holds
//	                        fdc.rh.<owner> and pushes fdc.rp.<reader>.<node>); only in FeDist's own
//	                        account, which no application user belongs to.
//	fdi.<r>.range           record-ID ranges handed out by region r's nodes; clients of r only.
//	fdjs.<r>.API.…          region r's JetStream gateway; applications create streams through it
//	                        (CheckStream), every other call is passed on.
//	_INBOX.<r>.…            the inboxes of region r's clients (InboxPrefix); only they may
//	                        subscribe to them.
//
// ARCHITECTURE.md proposed making fd.> node-local and routing over a transit namespace with subject
// mappings. Measured here, that design breaks in regions of several nodes: a parent sends transit to
// every child node that advertises the egress mapping, and each node hands the mapped message to its
// own member of every queue group (a two-node region delivered 6,000 copies of 3,000 messages to one
// queue group); installing the egress mapping on one node only starves the subscribers of the other
// nodes (0 of 3,000), because nats-server never forwards hub-originated leafnode messages over cluster
// routes. Plain interest routing has neither problem and costs nothing over plain NATS.
//
// The overlay does not measure links or choose shortcuts; that is the cost engine's job (package
// costs, run by package node). It forwards by the engine's table and reports the timestamps it
// carried (Engine).
package overlay

// Package overlay carries application traffic between regions: the subject namespaces, the ingress
// and egress subject mappings that route it over the region tree, the lookup egress that answers
// "no responder" fast, hop limits, and the reply-status convention.
//
// Namespaces (r is a region's 4-hex ID):
//
//	fd.<r>.…                 public; what applications publish and subscribe to. Never crosses a
//	                         leafnode link (denied on the child side of every link).
//	fd.<r>.get.<kind>.<id>   a lookup of record <id> (16 hex) of type <kind>, answered in region r.
//	fdt.<r>.…                transit; crosses leafnode links and is pulled toward region r by the
//	                         interest that r's egress mapping advertises.
//	fdh.<via>.<r>.…          relay; node-local, reserved for shortcut overrides (cost engine).
//	fdc.…                    FeDist control (joins, link reports); internal users only.
//
// Every node installs the same four mappings, in this order, after JetStream's own: own region
// identity, lookup-egress identity, egress fdt.<me>.> → fd.<me>.>, and the catch-all ingress
// fd.*.> → fdt.<r>.>. So a message published anywhere takes exactly one path: mapped to transit at
// the publisher's node, carried by NATS interest over the tree, mapped back to public at the
// destination. The count is constant whatever the number of regions.
//
// Lookups do not use the egress mapping: an in-process component (Egress) takes fdt.<me>.get.>,
// checks the hop limit, and republishes to fd.<me>.get.… only when a local responder exists;
// otherwise it answers at once with a 503 status, so every NATS client fails fast. It never
// rewrites reply subjects, so the answer travels straight back to the requester.
//
// The overlay does not measure links or choose shortcuts; that is the cost engine's job.
package overlay

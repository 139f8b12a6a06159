package overlay

import (
	"fmt"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats-server/v2/server"
)

// Mapping is one subject mapping, source → destination.
type Mapping struct {
	Src, Dest string
}

// Mappings returns the tree-routing mappings of a node of region me, in the order they must be
// installed. nats-server tries mappings in list order and the first match wins.
//
//  1. fd.<me>.> → fd.<me>.>          own-region traffic stays public and local
//  2. fdt.<me>.get.> → fdt.<me>.get.> lookups reach the Egress component untouched
//  3. fdt.<me>.> → fd.<me>.>         egress: transit for this region becomes public here
//  4. fd.*.> → fdt.<r>.>             ingress: everything for another region becomes transit
//  5. fdr.*.> → >                    a reply to a lookup goes straight back to the requester
//
// A mapping's source is advertised as interest on leafnode links. Sources 1 and 4 are in fd.>, which
// is denied on every link, so they pull nothing; sources 2 and 3 pull this region's transit traffic
// toward it, which is how messages find their way over the tree.
func Mappings(me regions.RegionID) []Mapping {
	r := me.String()
	return []Mapping{
		{PublicPrefix + r + ".>", PublicPrefix + r + ".>"},
		{TransitPrefix + r + "." + LookupToken + ".>", TransitPrefix + r + "." + LookupToken + ".>"},
		{TransitPrefix + r + ".>", PublicPrefix + r + ".>"},
		{PublicPrefix + "*.>", TransitPrefix + "{{wildcard(1)}}.>"},
		{ReplyPrefix + "*.>", ">"},
	}
}

// LeafDeny lists the subjects that never cross a leafnode link, in either direction: the public and
// relay namespaces, which are node-local by design.
func LeafDeny() []string {
	return []string{PublicPrefix + ">", RelayPrefix + ">", ReplyPrefix + ">"}
}

// AppSubscribe lists what a client of region me may subscribe to: its own region's subjects, its
// inboxes, and the NATS service-discovery subjects.
func AppSubscribe(me regions.RegionID) []string {
	return []string{OwnRegionWildcard(me), "_INBOX.>", "$SRV.>"}
}

// AppPublishDeny lists the internal namespaces a client may not publish to. Transit and relay
// subjects cannot be denied: nats-server checks publish permissions after applying mappings, so a
// client's fd.<r>.… publish is judged as the fdt.<r>.… it becomes. Publishing transit directly
// gains a client nothing it could not do with the public subject.
func AppPublishDeny() []string {
	return []string{ControlPrefix + ">"}
}

// install adds the mappings to acc. Mappings go through the API, not the config file: the config
// parser reads them from a Go map and loses their order.
func install(acc *server.Account, ms []Mapping) error {
	for _, m := range ms {
		if err := acc.AddMapping(m.Src, m.Dest); err != nil {
			return fmt.Errorf("mapping %s → %s: %w", m.Src, m.Dest, err)
		}
	}
	return nil
}

func uninstall(acc *server.Account, ms []Mapping) {
	for _, m := range ms {
		acc.RemoveMapping(m.Src)
	}
}

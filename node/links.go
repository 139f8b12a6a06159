package node

import (
	"maps"
	"slices"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/regions"
)

// reportLinks polls this node's leafnode links and tells the root which child regions hold them: at
// once when the set changes, and every ReportEvery otherwise. It returns when the node stops.
func (n *Node) reportLinks() {
	var last map[string][]string
	var lastPartial map[string]map[string]uint8
	var sent time.Time
	parentWasUp := true
	for {
		relinked := false // reports sent while the link was down were lost: send one at once
		if !n.cfg.IsRoot() {
			p, _, up := n.b.Parent()
			switch {
			case parentWasUp && !up:
				n.log.Warn().Strs("parent_urls", n.cfg.Broker.ParentURLs).Msg("leafnode link to the parent lost; reconnecting (the root will mark this region down)")
			case !parentWasUp && up:
				n.log.Info().Str("parent", p.String()).Msg("leafnode link to the parent restored")
				relinked = true
			}
			parentWasUp = up
		}
		now, partial := childReport(n.b.ChildLinks())
		changed := !maps.EqualFunc(now, last, slices.Equal[[]string]) ||
			!maps.EqualFunc(partial, lastPartial, maps.Equal[map[string]uint8])
		if changed || relinked || time.Since(sent) >= n.cfg.ReportEvery {
			data, err := n.sec.seal(SubjectLinks, &LinkReport{Reporter: n.b.Name(), Region: n.Region().String(), Children: now, Partial: partial})
			if err == nil {
				err = n.nc.Publish(SubjectLinks, data)
			}
			if err != nil {
				n.log.Warn().Err(err).Msg("link report")
			}
			if changed {
				n.log.Info().Any("children", now).Msg("child links changed")
			}
			last, lastPartial, sent = now, partial, time.Now()
		}
		if !n.sleep(n.cfg.PollEvery) {
			return
		}
	}
}

// childReport splits the child links of this node into the nodes with both links here and those
// with one (nil when none).
func childReport(links map[regions.RegionID]map[string]broker.LinkAccounts) (map[string][]string, map[string]map[string]uint8) {
	both := map[string][]string{}
	var partial map[string]map[string]uint8
	for r, nodes := range links {
		for nd, acc := range nodes {
			if acc == broker.LinkBoth {
				both[r.String()] = append(both[r.String()], nd)
				continue
			}
			if partial == nil {
				partial = map[string]map[string]uint8{}
			}
			if partial[r.String()] == nil {
				partial[r.String()] = map[string]uint8{}
			}
			partial[r.String()][nd] = uint8(acc)
		}
	}
	for _, nodes := range both {
		slices.Sort(nodes)
	}
	return both, partial
}

package node

import (
	"maps"
	"slices"
	"time"
)

// reportLinks polls this node's leafnode links and tells the root which child regions hold them: at
// once when the set changes, and every ReportEvery otherwise. It returns when the node stops.
func (n *Node) reportLinks() {
	var last map[string][]string
	var sent time.Time
	parentWasUp := true
	for {
		if !n.cfg.IsRoot() {
			p, _, up := n.b.Parent()
			switch {
			case parentWasUp && !up:
				n.log.Warn().Strs("parent_urls", n.cfg.Broker.ParentURLs).Msg("leafnode link to the parent lost; reconnecting (the root will mark this region down)")
			case !parentWasUp && up:
				n.log.Info().Str("parent", p.String()).Msg("leafnode link to the parent restored")
			}
			parentWasUp = up
		}
		now := map[string][]string{}
		for r, nodes := range n.b.Children() {
			slices.Sort(nodes)
			now[r.String()] = nodes
		}
		changed := !maps.EqualFunc(now, last, slices.Equal[[]string])
		if changed || time.Since(sent) >= n.cfg.ReportEvery {
			data, err := n.sec.seal(SubjectLinks, &LinkReport{Reporter: n.b.Name(), Region: n.Region().String(), Children: now})
			if err == nil {
				err = n.nc.Publish(SubjectLinks, data)
			}
			if err != nil {
				n.log.Warn().Err(err).Msg("link report")
			}
			if changed {
				n.log.Info().Any("children", now).Msg("child links changed")
			}
			last, sent = now, time.Now()
		}
		if !n.sleep(n.cfg.PollEvery) {
			return
		}
	}
}

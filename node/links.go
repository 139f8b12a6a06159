package node

import (
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// reportLinks polls this node's leafnode links and tells the root which child regions hold them: at
// once when the set changes, and every ReportEvery otherwise. It returns when the node stops.
func (n *Node) reportLinks() {
	var last map[string][]string
	var sent time.Time
	for {
		now := map[string][]string{}
		for r, nodes := range n.b.Children() {
			slices.Sort(nodes)
			now[r.String()] = nodes
		}
		changed := !maps.EqualFunc(now, last, slices.Equal[[]string])
		if changed || time.Since(sent) >= n.cfg.ReportEvery {
			data, _ := json.Marshal(&LinkReport{Reporter: n.b.Name(), Region: n.Region().String(), Children: now})
			if err := n.nc.Publish(SubjectLinks, data); err != nil {
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

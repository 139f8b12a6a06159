package costs

import (
	"math"
	"time"
)

// Cost is the one cost of a link, in milliseconds of equivalent round-trip delay, as the region at
// its near end sees it. far is the load the node at the far end reported in its last advert: that
// node relays whatever the link brings it, so its backlog delays every message sent over the link:
// each message queued ahead waits its service time, once that is above ServiceKnee (a stalled or
// overloaded relay); below it, QueueWeight per queued message.
//
//	cost = rtt_ms
//	     + service_ms × (1 + far.RelayQueue)   when service_ms = far.Service / 1000 > ServiceKnee,
//	       else QueueWeight × far.RelayQueue
//	     + PendingWeight × far.PendingBytes / 1 MiB
//	     + SlowWeight    × far.SlowConsumers         (since its previous advert)
//	     + CPUWeight     × max(0, far.CPU − CPUKnee) / (1 − CPUKnee)
//
// The relay cost of a shortcut (Config.RelayHop) is added by the router, once per relay a path
// crosses, not here. A link with no RTT yet has no cost: it is not routed over until measured.
func Cost(cfg *Config, rtt time.Duration, far Load) float64 {
	c := float64(rtt) / float64(time.Millisecond)
	queue := float64(max(far.RelayQueue, 0))
	if service := float64(max(far.Service, 0)) / 1000; service > cfg.ServiceKnee { // ms per message at the far relay
		c += service + service*queue
	} else {
		c += cfg.QueueWeight * queue
	}
	c += cfg.PendingWeight * float64(max(far.PendingBytes, 0)) / (1 << 20)
	c += cfg.SlowWeight * float64(max(far.SlowConsumers, 0))
	if cpu := far.CPU; cpu > cfg.CPUKnee && !math.IsNaN(cpu) {
		c += cfg.CPUWeight * (min(cpu, 1) - cfg.CPUKnee) / (1 - cfg.CPUKnee)
	}
	return c
}

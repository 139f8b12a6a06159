// Package shortcutsim runs the cost engine's shortcut choice (costs.Select) offline, on a topology
// file's tree and RTT matrix, with every region sending to every other at the same rate and every
// estimate exact. Each round every region, in turn, runs Select on the link-state graph of the
// moment and its choice is applied (a peer that is full by then refuses); rounds go on until one
// changes nothing. What it reports is what the choice alone can reach, without the lab's
// measurement noise, arrival order and per-lookup overhead: pairs whose route cost (costs.Compute)
// is within 1.10 × the oracle, shortcuts per region, rounds to settle.
//
// It exists to compare shortcut policies in seconds where the lab needs minutes and moves a few
// percent between runs of the same code; the lab remains the measure of the running system.
package shortcutsim

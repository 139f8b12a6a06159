// Package shortcutsim runs the cost engine's shortcut choice offline, on a topology file's tree
// and RTT matrix, with every region sending to every other at the same rate and every estimate
// exact unless Options say otherwise. With Options.Plan, each round applies costs.Plan (what the
// node follows); otherwise each region runs its own costs.Select on the link-state graph of the
// moment, in turn or all at once, and its choice is applied (a peer that is full by then
// refuses). Rounds go on until one changes nothing. What it reports is what the choice alone can reach, without the lab's
// measurement noise, arrival order and per-lookup overhead: pairs whose route cost (costs.Compute)
// is within 1.10 × the oracle, shortcuts per region, rounds to settle.
//
// It exists to compare shortcut policies in seconds where the lab needs minutes and moves a few
// percent between runs of the same code; the lab remains the measure of the running system.
package shortcutsim

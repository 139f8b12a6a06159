// Package node runs one FeDist region node: its embedded broker, the registry (written at the root,
// mirrored everywhere else), the join protocol, and down detection.
//
// A child node connects to its parent as a leafnode, asks the root to join over the control subjects
// (Subject*), and is Ready only once its own registry mirror shows its region active. Every node
// reports which child regions hold leafnode links to it; the root turns those reports into
// active/down transitions. Only the root writes the registry.
//
// The daemons in cmd/ and the federation builder in integration/ both assemble regions from this
// package, so it holds the wiring they share. It does not route application traffic; that is the
// overlay's job.
package node

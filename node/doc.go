// Package node runs one FeDist region node: its embedded broker, the registry (written at the root,
// mirrored everywhere else), the join protocol, and down detection.
//
// A child node connects to its parent as a leafnode, asks the root to join over the control subjects
// (Subject*), and is Ready only once its own registry mirror shows its region active. Every node
// reports which child regions hold leafnode links to it; the root turns those reports into
// active/down transitions. Only the root writes the registry: on a root of several clustered nodes,
// the one that leads the registry stream (rootlead.go), deciding from a consistent snapshot and
// writing with an expected last sequence (registry_write.go). Each region's mirror is fed by a
// durable consumer it keeps at its parent (mirror.go), and the root's beats tell every region
// whether its copy is current (beat.go).
//
// The daemons in cmd/ and the federation builder in integration/ both assemble regions from this
// package, so it holds the wiring they share. It does not route application traffic; that is the
// overlay's job.
package node

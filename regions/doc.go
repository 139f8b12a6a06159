// Package regions assigns region IDs and record IDs, and models the region tree and its registry.
//
// A region ID is a uint16 written as 4 lowercase hex digits; 0000 is reserved. A record ID is
// region<<48 | seq, written as 16 lowercase hex digits, so any reference names the region that owns
// the record. The Generator hands out sequences from blocks claimed with compare-and-set in the
// region's own JetStream; a sequence is never handed out twice, across restarts and across the
// nodes of one region.
//
// The region tree is rebuilt from registry entries; it is never edited in place. The registry itself
// is the JetStream KV bucket fedist-registry: the root writes it, every region mirrors it, and
// Registry reads and watches a mirror. This package imports no other FeDist package.
package regions

// Command fedist-node runs one node of a FeDist region under its parent region.
package main

import "github.com/fedist/fedist/internal/daemon"

func main() { daemon.Main(daemon.Child, "fedist-node") }

// Command fedist-root runs the root region node of a FeDist federation: it owns the region registry
// and admits regions. With -demo it runs a whole demo federation in one process.
package main

import "github.com/fedist/fedist/internal/daemon"

func main() { daemon.Main(daemon.Root, "fedist-root") }

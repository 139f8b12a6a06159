// Command fedist-root runs the root region node of a FeDist federation: it owns the region registry
// and admits regions. With -demo it runs a whole demo federation in one process. 'fedist-root
// certs' manages the federation's certificates (see internal/pki).
package main

import (
	"os"

	"github.com/fedist/fedist/internal/daemon"
	"github.com/fedist/fedist/internal/pki"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "certs" {
		os.Exit(pki.Main(os.Args[2:], os.Stdout, os.Stderr))
	}
	daemon.Main(daemon.Root, "fedist-root")
}

// Command fedist-lab builds a federation from a topology file, measures lookup round trips between
// every ordered pair of regions (and publish throughput on a few pairs) for FeDist and for plain
// NATS, and writes report.md, report.json and report.png. With -scale it runs the scale smoke
// instead: a federation of many regions, its start-up time, peak RSS and registry convergence.
// fedist-lab -h says more; the measuring is package lab's.
//
//	go run ./integration/cmd/fedist-lab -topo integration/testdata/world.json -mode both -out out/lab
//	go run ./integration/cmd/fedist-lab -scale 100 -mode fedist
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/integration/lab"
	"github.com/fedist/fedist/integration/topo"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fedist-lab:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const about = `fedist-lab measures FeDist on an emulated WAN, in one process.

It builds a federation from a topology file (regions, their tree, and an RTT matrix), with every
connection between two regions passing through a user-space link emulator that delays each
direction by half the matrix RTT. For every ordered pair of regions it times lookups (a request to
fd.<to>.get.lab.<id>, answered by a client in <to>) and sets their p50 and p99 beside the tree path
RTT and the oracle (the shortest path over the allowed links). It also times publish throughput on a
few pairs, then sets every link's delay to 0 and times the lookups again, to show how much of the
overhead over the matrix is the emulator's. It writes report.md (read this first), report.json (one
object per pair) and report.png (the two charts) into -out.

Modes (-mode):
  fedist  FeDist region nodes: broker, registry mirror and join.
  nats    the baseline: plain NATS leafnodes on the same tree, with the same JetStream domains,
          through the same emulator, and nothing of FeDist.
  both    nats, then fedist, each on a federation of its own (the default).

With -scale N it runs the scale smoke instead: N regions, start-up time, peak RSS and registry
convergence, printed to stdout.

Usage:
  fedist-lab -topo FILE -out DIR [flags]
  fedist-lab -scale N [-mode fedist|nats|both] [flags]

Examples:
  go run ./integration/cmd/fedist-lab -topo integration/testdata/world.json -mode both -out out/lab
  go run ./integration/cmd/fedist-lab -topo integration/testdata/small.json -concurrency 4 -out /tmp/lab-small

Flags:
`

func run() error {
	d := lab.DefaultConfig(nil)
	topoPath := flag.String("topo", "", "topology file (JSON; see integration/topo and integration/testdata)")
	mode := flag.String("mode", "both", "fedist, nats or both (see Modes above)")
	out := flag.String("out", "", "folder for report.md, report.json and report.png; created if missing")
	flag.IntVar(&d.Samples, "samples", d.Samples, "timed lookups per ordered pair")
	flag.IntVar(&d.Concurrency, "concurrency", d.Concurrency, "pairs measured at once; more is faster but adds emulator overhead on few CPUs")
	flag.IntVar(&d.ThroughputPairs, "tput-pairs", d.ThroughputPairs, "pairs that get a publish throughput figure (0: none)")
	flag.IntVar(&d.ThroughputMsgs, "tput-msgs", d.ThroughputMsgs, "messages per throughput run")
	flag.DurationVar(&d.ThroughputTime, "tput-time", d.ThroughputTime, "time limit per throughput run")
	flag.IntVar(&d.MsgSize, "msg-size", d.MsgSize, "throughput message size in bytes")
	flag.BoolVar(&d.ZeroDelayControl, "zero-delay", d.ZeroDelayControl, "afterwards, time the lookups again with every link's delay at 0, to split the overhead in report.md (-zero-delay=false skips it)")
	jitter := flag.Duration("jitter", 0, "jitter of every emulated link (± per chunk)")
	scale := flag.Int("scale", 0, "run the scale smoke with this many regions instead of the lab")
	scaleRTT := flag.Duration("scale-rtt", 0, "scale smoke: RTT of every tree link")
	scaleWrites := flag.Int("scale-writes", 50, "scale smoke: registry writes timed for convergence")
	timeout := flag.Duration("timeout", 30*time.Minute, "give up after this long")
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), about)
		flag.PrintDefaults()
	}
	flag.Parse()

	modes, err := parseModes(*mode)
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, *timeout)
	defer cancelT()

	if *scale > 0 {
		sc := lab.DefaultScaleConfig(*scale)
		sc.RTT, sc.Writes, sc.Progress = *scaleRTT, *scaleWrites, os.Stderr
		for _, m := range modes {
			sc.Mode = m
			res, err := lab.RunScale(ctx, sc)
			if err != nil {
				return err
			}
			fmt.Println(res)
		}
		return nil
	}
	if *topoPath == "" || *out == "" {
		flag.Usage()
		return fmt.Errorf("%w: -topo and -out are required", errUsage)
	}
	top, err := topo.Load(*topoPath)
	if err != nil {
		return err
	}
	d.Topology, d.Modes, d.Progress = top, modes, os.Stderr
	base := d.Federation
	d.Federation = func(t *topo.Topology, m fed.Mode) fed.Config {
		c := base(t, m)
		c.Link.Jitter = *jitter
		return c
	}
	rep, err := lab.Run(ctx, d)
	if err != nil {
		return err
	}
	if err := rep.WriteFiles(*out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s/report.md, report.json and report.png\n", *out)
	return nil
}

func parseModes(s string) ([]fed.Mode, error) {
	switch s {
	case "both":
		return []fed.Mode{fed.ModeNATS, fed.ModeFeDist}, nil
	case string(fed.ModeNATS), string(fed.ModeFeDist):
		return []fed.Mode{fed.Mode(s)}, nil
	}
	return nil, fmt.Errorf("%w: -mode %q: want fedist, nats or both", errUsage, s)
}

// Command fedist-lab builds a federation from a topology file, measures lookup round trips between
// every ordered pair of regions (and publish throughput on a few pairs) for FeDist and for plain
// NATS, and writes report.md, report.json and report.png, with links.json for FeDist's cost engine
// and failover.json, load.json or replication.json for the scenarios. With -scale it runs the scale smoke instead: a
// federation of many regions, its start-up time, peak RSS and registry convergence. fedist-lab -h
// says more; the measuring is package lab's.
//
//	go run ./integration/cmd/fedist-lab -topo integration/testdata/world.json -mode both -skew 200 -out out/lab
//	go run ./integration/cmd/fedist-lab -topo integration/testdata/small.json -scenario failover -out /tmp/lab-small
//	go run ./integration/cmd/fedist-lab -topo integration/testdata/world.json -mode fedist -scenario replication -out out/lab
//	go run ./integration/cmd/fedist-lab -scale 100 -mode fedist
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/integration/lab"
	"github.com/fedist/fedist/integration/topo"
	"github.com/rs/zerolog"
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
overhead over the matrix is the emulator's. It writes report.md (read this first), report.json (the
settings, the cost engine's figures per region and one object per pair, with the path FeDist's
lookups took) and report.png (the two charts) into -out; with fedist also links.json (every link
the cost engine measured: its RTT and clock-offset estimates beside the emulator's truth, probes).

Modes (-mode):
  fedist  FeDist region nodes: broker, registry mirror, join, relays and the cost engine. Lookups
          go through FeDist's application client (client.Client), which follows the engine's
          route hints; before they are timed, a routing warm-up sends lookups from every pair until
          the routes of all nodes stop changing (-routing-warmup).
  nats    the baseline: plain NATS leafnodes on the same tree, with the same JetStream domains,
          through the same emulator, and nothing of FeDist. Lookups use plain nats.go.
  both    nats, then fedist, each on a federation of its own (the default).

Scenarios (-scenario, comma-separated; load and failover after fedist's timed lookups, load first):
  load      slow down (-slowdown per message) the relay that sits between sender and destination
            on the most of the engine's routes, while the pairs on it send a lookup every 20 ms,
            and record their paths and p50 before, during and after, and whether the engine
            routed around it. Writes load.json and a section of report.md.
  failover  cut, one at a time, up to 2 tree links (-failover-tree) that pairs' routes cross and
            the engine can route around, then the shortcut under up to 4 pairs (-failover-shortcuts),
            while those pairs send a lookup every 20 ms; time the reroute and, after the heal, the
            return to the path before. The tree-link cuts are repeated on plain NATS. Writes
            failover.json and a section of report.md.
  replication  after the modes, on a FeDist federation of its own whose nodes get a small replica
            budget: every region reads other regions' records (Zipf 1.1) through four phases of
            -repl-phase each: cold, warm (owners write their hot records), scan (new keys read 4 times,
            for half as long), after; records hit ratio, store use against the budget, lag and
            stale reads. Writes replication.json, replication.png and a section of report.md.

With -scale N it runs the scale smoke instead: N regions, start-up time, peak RSS and registry
convergence, printed to stdout.

Usage:
  fedist-lab -topo FILE -out DIR [flags]
  fedist-lab -scale N [-mode fedist|nats|both] [flags]

Examples:
  go run ./integration/cmd/fedist-lab -topo integration/testdata/world.json -mode both -skew 200 -out out/lab
  go run ./integration/cmd/fedist-lab -topo integration/testdata/small.json -concurrency 4 -out /tmp/lab-small
  go run ./integration/cmd/fedist-lab -topo integration/testdata/world.json -scenario failover,load -out out/lab

Flags:
`

func run() error {
	d := lab.DefaultConfig(nil)
	topoPath := flag.String("topo", "", "topology file (JSON; see integration/topo and integration/testdata)")
	mode := flag.String("mode", "both", "fedist, nats or both (see Modes above)")
	out := flag.String("out", "", "folder for report.md, report.json, report.png and links.json, failover.json or load.json; created if missing")
	flag.IntVar(&d.Samples, "samples", d.Samples, "timed lookups per ordered pair")
	flag.IntVar(&d.Concurrency, "concurrency", d.Concurrency, "pairs measured at once; more is faster but adds emulator overhead on few CPUs")
	flag.IntVar(&d.ThroughputPairs, "tput-pairs", d.ThroughputPairs, "pairs that get a publish throughput figure (0: none)")
	flag.IntVar(&d.ThroughputMsgs, "tput-msgs", d.ThroughputMsgs, "messages per throughput run")
	flag.DurationVar(&d.ThroughputTime, "tput-time", d.ThroughputTime, "time limit per throughput run")
	flag.IntVar(&d.MsgSize, "msg-size", d.MsgSize, "throughput message size in bytes")
	flag.BoolVar(&d.ZeroDelayControl, "zero-delay", d.ZeroDelayControl, "afterwards, time the lookups again with every link's delay at 0, to split the overhead in report.md (-zero-delay=false skips it)")
	flag.DurationVar(&d.BackgroundEvery, "background", d.BackgroundEvery, "while lookups are timed, every pair also sends one lookup this often, both modes (0: none)")
	flag.DurationVar(&d.RoutingWarmup, "routing-warmup", d.RoutingWarmup, "fedist: longest routing warm-up before the timed lookups (0: none)")
	flag.DurationVar(&d.RoutingStable, "routing-stable", d.RoutingStable, "fedist: the warm-up ends once no node's routes changed for this long")
	skew := flag.Int("skew", 0, "fedist: give each region's clock a random offset within ± this many ms (seeded by -skew-seed, printed in report.md)")
	flag.Int64Var(&d.SkewSeed, "skew-seed", d.SkewSeed, "seed of -skew's offsets")
	scenarios := flag.String("scenario", "", "run these scenarios: load, failover, replication, comma-separated (see Scenarios above)")
	logFile := flag.String("log", "", "write FeDist's and nats-server's logs (JSON lines, info level and up) to this file; by default they are discarded")
	flag.DurationVar(&d.Load.Slowdown, "slowdown", d.Load.Slowdown, "load scenario: the slowed relay waits this long per message")
	flag.IntVar(&d.Failover.ShortcutPairs, "failover-shortcuts", d.Failover.ShortcutPairs, "failover scenario: pairs whose shortcut is cut")
	flag.IntVar(&d.Failover.TreePairs, "failover-tree", d.Failover.TreePairs, "failover scenario: pairs whose tree link is cut")
	replPhase := flag.Duration("repl-phase", d.Replication.Warm, "replication scenario: length of the cold, warm and after phases; the scan takes three quarters")
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
	d.Skew = time.Duration(*skew) * time.Millisecond
	if d.Scenarios, err = parseScenarios(*scenarios); err != nil {
		return err
	}
	d.Replication.Cold, d.Replication.Warm, d.Replication.Scan, d.Replication.After = *replPhase, *replPhase, *replPhase*3/4, *replPhase
	var logs *zerolog.Logger
	if *logFile != "" {
		f, err := os.Create(*logFile)
		if err != nil {
			return fmt.Errorf("-log: %w", err)
		}
		defer f.Close()
		l := zerolog.New(f).Level(zerolog.InfoLevel).With().Timestamp().Logger()
		logs = &l
	}
	base := d.Federation
	d.Federation = func(t *topo.Topology, m fed.Mode) fed.Config {
		c := base(t, m)
		c.Link.Jitter = *jitter
		if logs != nil {
			c.Log = logs.With().Str("mode", string(m)).Logger()
		}
		return c
	}
	rep, err := lab.Run(ctx, d)
	if err != nil {
		return err
	}
	if err := rep.WriteFiles(*out); err != nil {
		return err
	}
	files := "report.md, report.json, report.png"
	for name, ok := range map[string]bool{"links.json": rep.Links != nil, "failover.json": rep.Failover != nil, "load.json": rep.Load != nil,
		"replication.json, replication.png": rep.Replication != nil} {
		if ok {
			files += ", " + name
		}
	}
	fmt.Fprintf(os.Stderr, "wrote %s into %s\n", files, *out)
	return nil
}

func parseScenarios(s string) ([]lab.Scenario, error) {
	var out []lab.Scenario
	for _, name := range strings.Split(s, ",") {
		switch sc := lab.Scenario(strings.TrimSpace(name)); sc {
		case "":
		case lab.ScenarioFailover, lab.ScenarioLoad, lab.ScenarioReplication:
			out = append(out, sc)
		default:
			return nil, fmt.Errorf("%w: -scenario %q: want failover, load, replication, or several comma-separated", errUsage, name)
		}
	}
	return out, nil
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

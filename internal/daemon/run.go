package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/overlay"
	"github.com/rs/zerolog"
)

// ErrRefused marks an exit caused by the root refusing the join; the daemon exits with code 2.
var ErrRefused = errors.New("join refused")

// Main runs a daemon with os.Args and exits with its status: 0 after a clean stop, 2 when the join
// was refused or the flags are wrong, 1 on any other failure.
func Main(kind Kind, name string) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, kind, name, os.Args[1:], os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, ErrRefused), errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// Run runs one daemon until ctx ends (a signal). args are the command-line flags.
func Run(ctx context.Context, kind Kind, name string, args []string, logOut io.Writer) error {
	if kind == Root && len(args) > 0 && (args[0] == "-demo" || args[0] == "--demo") {
		return RunDemo(ctx, args[1:], logOut)
	}
	o, err := Parse(name, kind, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	log, err := NewLogger(logOut, o.LogLevel, o.LogJSON)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, err := o.NodeConfig(kind, log)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	_, statErr := os.Stat(cfg.Broker.StoreDir)
	newStore := errors.Is(statErr, os.ErrNotExist)
	n, err := node.Start(cfg)
	if errors.Is(err, broker.ErrConfig) || errors.Is(err, node.ErrConfig) {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err != nil {
		return err
	}
	var mon *Monitor
	if o.HTTP != "" {
		if mon, err = StartMonitor(o.HTTP, n, log); err != nil {
			_ = n.Shutdown(context.Background())
			return fmt.Errorf("-http %s: %w", o.HTTP, err)
		}
	}
	err = serve(ctx, n, log, o.LeaveOnExit)
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if mon != nil {
		_ = mon.Shutdown(sctx)
	}
	if serr := n.Shutdown(sctx); err == nil {
		err = serr
	}
	if errors.Is(err, ErrRefused) && newStore {
		// A refused join leaves nothing behind that the next attempt, with other flags, would trip on.
		if rerr := os.RemoveAll(cfg.Broker.StoreDir); rerr == nil {
			log.Info().Str("store", cfg.Broker.StoreDir).Msg("removed the store this refused join created")
		}
	}
	return err
}

// serve waits for the node to join, then for ctx to end.
func serve(ctx context.Context, n *node.Node, log zerolog.Logger, leave bool) error {
	select {
	case <-n.Ready():
		b := n.Broker()
		try := fmt.Sprintf("nats --server %s --inbox-prefix %s", b.ClientURL(), overlay.InboxPrefix(n.Region()))
		if cfg := b.Config(); cfg.ClientTLS {
			try += " --tlsca " + cfg.TLS.CA + " --user <user> --password <password>"
		}
		log.Info().Str("client", b.ClientURL()).Str("leaf", b.LeafURL()).
			Str("try", try+" kv watch fedist-registry").
			Msgf("region %s (%s) joined", n.Region(), n.Name())
	case <-n.Failed():
		var refused *node.RefusedError
		if errors.As(n.Err(), &refused) {
			return fmt.Errorf("%w: %s", ErrRefused, refused.Reason)
		}
		return n.Err()
	case <-ctx.Done():
		log.Info().Msg("stopping before the join finished")
		return nil
	}
	<-ctx.Done()
	log.Info().Msg("signal received, shutting down")
	if leave {
		lctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := n.Leave(lctx); err != nil {
			log.Error().Err(err).Msg("leave failed; once this node stops the root marks the region down")
		} else {
			log.Info().Msg("left the federation")
		}
	}
	return nil
}

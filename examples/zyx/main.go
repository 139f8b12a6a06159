package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/examples/zyx/app"
	"github.com/fedist/fedist/examples/zyx/store"
	"github.com/rs/zerolog"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "zyx:", err)
		os.Exit(1)
	}
}

func run() error {
	natsURL := flag.String("nats", "nats://127.0.0.1:4222", "client URL(s) of the region's FeDist node, comma-separated")
	addr := flag.String("http", "127.0.0.1:8081", "HTTP API listen address")
	dbPath := flag.String("db", "zyx.db", "SQLite database file of this region's records")
	level := flag.String("log-level", "info", "log level: debug, info, warn, error")
	flag.Parse()
	lvl, err := zerolog.ParseLevel(*level)
	if err != nil {
		return fmt.Errorf("-log-level %q: %w", *level, err)
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly}).Level(lvl).With().Timestamp().Logger()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := client.Connect(cctx, *natsURL)
	if err != nil {
		return err
	}
	defer c.Close()
	cfg := app.DefaultConfig(log)
	st, err := store.Open(*dbPath, cfg.RecentPosts)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := app.New(c, st, cfg)
	if err != nil {
		return err
	}
	defer a.Shutdown()
	if err := a.WaitReady(cctx); err != nil {
		log.Warn().Err(err).Msg("not every region reaches this instance yet; serving anyway")
	}

	srv := &http.Server{Addr: *addr, Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info().Str("region", c.Region().String()).Str("http", *addr).Str("db", *dbPath).Msg("zyx serving")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

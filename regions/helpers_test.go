package regions

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// RunJetStream starts an embedded nats-server with JetStream on 127.0.0.1 and a free port, keeping
// its store in storeDir (a new t.TempDir() if empty, so a test can restart on the same one). It
// waits until the server takes connections and shuts it down in t.Cleanup; calling shutdownServer
// earlier is fine.
func RunJetStream(tb testing.TB, storeDir string) *server.Server {
	tb.Helper()
	if storeDir == "" {
		storeDir = tb.TempDir()
	}
	s, err := server.NewServer(&server.Options{
		Host:            "127.0.0.1",
		Port:            -1,
		JetStream:       true,
		StoreDir:        storeDir,
		JetStreamDomain: "fd-0001",
		NoLog:           true,
		NoSigs:          true,
	})
	if err != nil {
		tb.Fatalf("new server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		shutdownServer(s)
		tb.Fatal("nats-server not ready for connections within 10s")
	}
	tb.Cleanup(func() { shutdownServer(s) })
	return s
}

// shutdownServer stops s and waits until its goroutines are gone. It is idempotent.
func shutdownServer(s *server.Server) {
	s.Shutdown()
	s.WaitForShutdown()
}

// IDBucketKV connects to s and returns the IDBucket, created if missing. The connection closes in
// t.Cleanup, or earlier through the returned close function.
func IDBucketKV(tb testing.TB, s *server.Server) (jetstream.KeyValue, func()) {
	tb.Helper()
	nc, err := nats.Connect(s.ClientURL(), nats.NoReconnect())
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatalf("jetstream: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.CreateOrUpdateKeyValue(ctx, IDBucketConfig())
	if err != nil {
		tb.Fatalf("create bucket %s: %v", IDBucket, err)
	}
	return kv, nc.Close
}

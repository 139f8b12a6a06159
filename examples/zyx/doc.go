// Command zyx runs one instance of Zyx, FeDist's reference application (package app), for the
// region of the node it connects to:
//
//	go run ./examples/zyx -nats nats://127.0.0.1:4242 -http 127.0.0.1:8081 -db zyx-a1.db
//
// It keeps its region's records in the SQLite file -db and serves the HTTP API of app.Handler on
// -http. Run one instance per region (several per region may share one database file only if they
// run on one machine; the example runs one).
package main

// Package daemon is the shared body of cmd/fedist-root and cmd/fedist-node: flags and config file,
// logging, the monitoring HTTP server, signal handling, and the in-process demo federation.
//
// Flags override the config file, which overrides the defaults. The config file is JSON whose keys
// are the flag names ({"id":"00a0","parent":"nats-leaf://10.0.0.1:7422"}). The daemons stay thin:
// everything they do is here so both share one code path.
package daemon

// Package compose checks the top-level docker-compose.yml: a four-region federation in FROM-scratch
// containers on one Docker engine. The check itself is check.sh, a bash script that starts the
// federation with deploy/up.sh (binaries, the image built once, a wait for health), and verifies the
// single image, joins, the client URLs the registry advertises, TLS clients, down detection and return.
//
// TestCompose runs check.sh and is skipped unless FEDIST_COMPOSE=1, because it needs a Docker
// engine with Compose, publishes ports on 127.0.0.1 and takes tens of seconds. This package has no
// code of its own.
package compose

package broker

import (
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// nats-server gives every account of a server with a JetStream domain nine subject mappings
// ($JS.<domain>.API.… → $JS.API.…), at start and again at every leafnode connection in that
// account. The server then matches every message a client or leafnode publishes in the account
// against all nine, tokenising each mapping's source again for every message. In the
// applications' account nothing uses them: applications may publish $JS.API.> only
// (overlay.AppPublish) and FeDist's own JetStream calls are in its own account. Measured with
// `go test -run '^$' -bench RelayThroughput -benchtime 1x -count 3 ./client/` (DESIGN.md,
// "Application traffic and JetStream domain mappings"), the matching took 27 % of the CPU of a
// relayed stream, and removing the mappings raised relayed throughput from 0.53-0.64 to 0.70-0.77 ×
// plain NATS.
//
// So the broker removes them from the applications' account at start and then every
// appMappingSweep, which catches the copies a new leafnode connection adds back. Until a sweep
// they only cost time: a domain-prefixed call is refused either way, mapped (the deny list
// applies to the mapped subject) or not (not in the allow list).

// appMappingSweep is how often the applications' account is cleared of the domain mappings.
const appMappingSweep = 500 * time.Millisecond

// jsDomainMappingSuffixes are what nats-server maps under $JS.<domain>.API. (its
// generateJSMappingTable).
var jsDomainMappingSuffixes = []string{"INFO", "STREAM.>", "CONSUMER.>", "DIRECT.>", "META.>", "SERVER.>", "ACCOUNT.>", "$KV.>", "$OBJ.>"}

// removeDomainMappings removes the JetStream domain mappings from acc, returning how many there were.
func removeDomainMappings(acc *server.Account, domain string) int {
	n := 0
	for _, s := range jsDomainMappingSuffixes {
		if acc.RemoveMapping(fmt.Sprintf("$JS.%s.API.%s", domain, s)) {
			n++
		}
	}
	return n
}

// sweepAppMappings clears the applications' account now and then every appMappingSweep until
// stop closes.
func (b *Broker) sweepAppMappings(acc *server.Account, stop <-chan struct{}) {
	domain := Domain(b.cfg.Region)
	removeDomainMappings(acc, domain)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(appMappingSweep)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				removeDomainMappings(acc, domain)
			}
		}
	}()
}

package broker

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// domainMappings returns the sources of the JetStream domain mappings account acc holds.
func domainMappings(t *testing.T, b *Broker, acc string) []string {
	t.Helper()
	az, err := b.Server().Accountz(&server.AccountzOptions{Account: acc})
	if err != nil || az.Account == nil {
		t.Fatalf("accountz %s: %v", acc, err)
	}
	var out []string
	for src := range az.Account.Mappings {
		if strings.HasPrefix(src, "$JS.") && strings.Contains(src, ".API.") {
			out = append(out, src)
		}
	}
	return out
}

// TestAppAccountLosesDomainMappings: nats-server gives both accounts its JetStream domain
// mappings, and adds them again at every leafnode connection; the applications' account loses
// them within a sweep of the link coming up, while FeDist's own account, whose registry mirrors
// are sourced by domain, keeps them.
func TestAppAccountLosesDomainMappings(t *testing.T) {
	parent, child := parentAndChild(t)
	deadline := time.Now().Add(10 * time.Second)
	for parent.ChildLinks()[0x00a0]["c"] != LinkBoth {
		if time.Now().After(deadline) {
			t.Fatal("the child's links did not come up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, b := range []*Broker{parent, child} {
		if got := domainMappings(t, b, FedistAccount); len(got) != len(jsDomainMappingSuffixes) {
			t.Errorf("%s: FeDist's account holds %d domain mappings, want %d: %v", b.Name(), len(got), len(jsDomainMappingSuffixes), got)
		}
		deadline := time.Now().Add(5 * appMappingSweep)
		for {
			got := domainMappings(t, b, AppAccount)
			if len(got) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the applications' account still holds %v", b.Name(), got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

package broker

import (
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
)

// Port range PickPort draws from: below Linux's default ephemeral range (32768-60999), so that the
// kernel does not hand the port to an outgoing connection between PickPort and the server's bind.
const (
	pickLow  = 20000
	pickHigh = 32000
)

// PickPort returns a TCP port on host that is free now, for configs that must name a port before any
// server starts: the routes of a JetStream cluster are configured on every node up front.
func PickPort(host string) (int, error) {
	for range 50 {
		p := pickLow + rand.IntN(pickHigh-pickLow)
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			continue
		}
		if err := l.Close(); err != nil {
			return 0, err
		}
		return p, nil
	}
	return 0, errors.New("no free port found in 50 tries")
}

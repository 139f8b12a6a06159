package linkemu

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// BenchmarkThroughput copies 1 MiB per op to a sink: directly, through a transparent link, and
// through a link with 50 ms of delay. The MB/s column shows the proxy's overhead, and that delay
// does not cap throughput. The timer stops only when the sink has read every byte, so bytes still
// in the delay line or in socket buffers are not counted as delivered.
//
//	go test -run '^$' -bench Throughput -benchtime 2s ./integration/linkemu/
func BenchmarkThroughput(b *testing.B) {
	const size = 1 << 20
	tests := []struct {
		name string
		cfg  *Config // nil: dial the sink directly
	}{
		{"direct", nil},
		{"link", &Config{}},
		{"link-50ms", &Config{Delay: 50 * time.Millisecond}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			got := make(chan int64, 1)
			target := startServer(b, func(c net.Conn) {
				n, _ := io.Copy(io.Discard, c)
				got <- n
			})
			addr := target
			if tt.cfg != nil {
				addr = newLink(b, target, *tt.cfg).Addr()
			}
			c := dial(b, addr)
			_ = c.SetDeadline(time.Now().Add(time.Minute))
			block := bytes.Repeat([]byte("linkemu!"), size/8)
			b.SetBytes(size)
			b.ResetTimer()
			for range b.N {
				if _, err := c.Write(block); err != nil {
					b.Fatal(err)
				}
			}
			if err := c.CloseWrite(); err != nil {
				b.Fatal(err)
			}
			if n := <-got; n != int64(b.N)*size {
				b.Fatalf("sink read %d bytes, want %d", n, int64(b.N)*size)
			}
			b.StopTimer()
		})
	}
}

package lab

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress prints lines to w (nil is silent), prefixed with the time since the run started.
type progress struct {
	w     io.Writer
	start time.Time
	mu    sync.Mutex // guards writes to w and the counters of a step
	step  string
	total int
	done  int
	last  time.Time
}

func newProgress(w io.Writer) *progress { return &progress{w: w, start: time.Now()} }

func (p *progress) printf(format string, a ...any) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printfLocked(format, a...)
}

func (p *progress) printfLocked(format string, a ...any) {
	fmt.Fprintf(p.w, "[%6.1fs] %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, a...))
}

// begin starts a counted step of total items.
func (p *progress) begin(step string, total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.step, p.total, p.done, p.last = step, total, 0, time.Now()
	p.mu.Unlock()
	p.printf("%s: 0/%d", step, total)
}

// tick counts one item done and prints at most every two seconds, and at the end.
func (p *progress) tick() { p.add(1) }

// add counts n items done.
func (p *progress) add(n int) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if p.done == p.total || time.Since(p.last) >= 2*time.Second {
		p.last = time.Now()
		p.printfLocked("%s: %d/%d", p.step, p.done, p.total)
	}
}

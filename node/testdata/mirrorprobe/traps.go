package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// rig is a single hub with a bucket, a writer, and a leaf (no mirror yet).
type rig struct {
	e        *env
	nc, lnc  *nats.Conn
	js, ljs  jetstream.JetStream
	pjs      jetstream.JetStream // parent's API seen from the leaf connection
	p        *probe
	stop     func()
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	t0       time.Time
	closeAll []func()
}

func newRig(perms bool) (*rig, error) {
	r := &rig{p: &probe{}, t0: time.Now()}
	r.ctx, r.cancel = context.WithTimeout(context.Background(), 90*time.Second)
	var err error
	if r.e, err = newEnv(1, perms); err != nil {
		return r, err
	}
	if r.nc, err = connect(r.e.hubURLs()); err != nil {
		return r, err
	}
	r.js, _ = jetstream.New(r.nc)
	var kv jetstream.KeyValue
	if err = retry(r.ctx, "bucket", func(c context.Context) (err error) {
		kv, err = r.js.CreateOrUpdateKeyValue(c, jetstream.KeyValueConfig{Bucket: bucket})
		return err
	}); err != nil {
		return r, err
	}
	if err = r.e.startLeaf(0); err != nil {
		return r, err
	}
	if r.lnc, err = connect(fmt.Sprintf("nats://127.0.0.1:%d", r.e.lport)); err != nil {
		return r, err
	}
	r.ljs, _ = jetstream.New(r.lnc)
	r.pjs, _ = jetstream.NewWithDomain(r.lnc, hubDomain)
	wctx, wcancel := context.WithCancel(r.ctx)
	r.stop = wcancel
	r.wg.Add(2)
	go func() { defer r.wg.Done(); r.p.writer(wctx, kv) }()
	go func() { defer r.wg.Done(); r.p.poller(wctx, r.ljs) }()
	return r, nil
}

func (r *rig) close() {
	if r.stop != nil {
		r.stop()
	}
	r.wg.Wait()
	if r.lnc != nil {
		r.lnc.Close()
	}
	if r.nc != nil {
		r.nc.Close()
	}
	if r.e != nil {
		r.e.close()
	}
	r.cancel()
}

func (r *rig) mirrorState() string {
	c, cancel := context.WithTimeout(r.ctx, 2*time.Second)
	defer cancel()
	s, err := r.ljs.Stream(c, stream)
	if err != nil {
		return "stream info: " + err.Error()
	}
	si := s.CachedInfo()
	m := si.Mirror
	if m == nil {
		return "no mirror info"
	}
	st := fmt.Sprintf("leaf last=%d hub last=%d active=%v lag=%d", si.State.LastSeq, r.p.lastWrite(),
		m.Active.Round(time.Millisecond), m.Lag)
	if m.Error != nil {
		st += " err=" + m.Error.Error()
	}
	return st
}

// catchUp: time from now until the leaf has the newest write acknowledged after now.
func (r *rig) catchUp(limit time.Duration) string {
	t := time.Now()
	c, cancel := context.WithTimeout(r.ctx, limit)
	defer cancel()
	_, at, err := r.p.waitNext(c, t)
	if err != nil {
		return fmt.Sprintf("NOT caught up within %v (%s)", limit, r.mirrorState())
	}
	return fmt.Sprintf("leaf has next write after %v", at.Sub(t).Round(time.Millisecond))
}

func (r *rig) consumerExists() string {
	c, cancel := context.WithTimeout(r.ctx, 2*time.Second)
	defer cancel()
	_, err := r.js.PushConsumer(c, stream, consName)
	if err != nil {
		return "consumer: " + err.Error()
	}
	return "consumer exists"
}

func trap(name string, f func(r *rig) []string) { trapP(name, false, f) }

func trapP(name string, perms bool, f func(r *rig) []string) {
	fmt.Printf("== %s\n", name)
	r, err := newRig(perms)
	defer r.close()
	if err != nil {
		fmt.Println("   setup:", err)
		return
	}
	for _, l := range f(r) {
		fmt.Println("   " + l)
	}
}

func runTraps() {
	if *permsOnly {
		trapP("T8 durable mirror through a leafnode user with only childPermissions()", true, func(r *rig) (out []string) {
			_, err := r.js.CreateOrUpdatePushConsumer(r.ctx, stream, durableConsumerConfig())
			out = append(out, fmt.Sprintf("durable created by the parent: err=%v", err))
			_, err = r.ljs.CreateKeyValue(r.ctx, mirrorKVConfig(true))
			out = append(out, fmt.Sprintf("mirror: err=%v", err))
			out = append(out, "initial: "+r.catchUp(15*time.Second))
			h := r.e.hubs[0]
			h.stop()
			_ = r.e.startHub(h)
			out = append(out, "after quick restart: "+r.catchUp(30*time.Second))
			h.stop()
			time.Sleep(12 * time.Second) // forces stall -> RESET request through the permissions
			_ = r.e.startHub(h)
			out = append(out, "after 12s outage: "+r.catchUp(30*time.Second))
			r.p.mu.Lock()
			r.p.paused = true
			r.p.mu.Unlock()
			time.Sleep(4 * time.Second)
			c, err := r.js.PushConsumer(r.ctx, stream, consName)
			if err == nil {
				i := c.CachedInfo()
				out = append(out, fmt.Sprintf("idle 4s: ack floor %d, delivered %d (flow-control acks cross the link)",
					i.AckFloor.Stream, i.Delivered.Stream))
			}
			pjs := r.pjs
			_, err = pjs.CreateOrUpdatePushConsumer(r.ctx, stream, durableConsumerConfig())
			out = append(out, fmt.Sprintf("child creating its own durable (not allowed): err=%v", err))
			m, err := r.lnc.Request("$JS."+hubDomain+".API.CONSUMER.INFO."+stream+"."+consName, nil, 2*time.Second)
			if err == nil {
				out = append(out, fmt.Sprintf("child CONSUMER.INFO raw: %.120s", m.Data))
			} else {
				out = append(out, fmt.Sprintf("child CONSUMER.INFO raw: err=%v", err))
			}
			sub, _ := r.nc.SubscribeSync("probe.foo")
			_ = r.nc.Flush()
			time.Sleep(200 * time.Millisecond)
			_ = r.lnc.Publish("probe.foo", []byte("x"))
			_, err = sub.NextMsg(time.Second)
			out = append(out, fmt.Sprintf("child publish probe.foo reaches parent: %v", err == nil))
			return
		})
		return
	}
	if *traceLink {
		trap("T7 subjects on the leafnode link (durable mirror, one hub restart)", func(r *rig) (out []string) {
			_, _ = r.pjs.CreateOrUpdatePushConsumer(r.ctx, stream, durableConsumerConfig())
			_, _ = r.ljs.CreateKeyValue(r.ctx, mirrorKVConfig(true))
			out = append(out, "initial: "+r.catchUp(10*time.Second))
			time.Sleep(2 * time.Second)
			r.p.mu.Lock()
			r.p.paused = true // idle: heartbeats and flow control only
			r.p.mu.Unlock()
			time.Sleep(4 * time.Second)
			r.p.mu.Lock()
			r.p.paused = false
			r.p.mu.Unlock()
			h := r.e.hubs[0]
			h.stop()
			time.Sleep(12 * time.Second) // past the 10 s stall check: forces a RESET after restart
			_ = r.e.startHub(h)
			out = append(out, "after restart: "+r.catchUp(30*time.Second))
			linkTrace.Lock()
			for k, v := range linkTrace.m {
				if strings.HasPrefix(strings.Fields(k)[1], "_INBOX") {
					continue
				}
				out = append(out, fmt.Sprintf("%6d  %s", v, k))
			}
			linkTrace.Unlock()
			return
		})
		return
	}
	trap("T1 mirror created before its durable exists", func(r *rig) (out []string) {
		_, err := r.ljs.CreateKeyValue(r.ctx, mirrorKVConfig(true))
		out = append(out, fmt.Sprintf("create mirror: err=%v", err))
		time.Sleep(8 * time.Second)
		out = append(out, "after 8s: "+r.mirrorState())
		_, err = r.pjs.CreateOrUpdatePushConsumer(r.ctx, stream, durableConsumerConfig())
		out = append(out, fmt.Sprintf("create durable (from leaf via domain): err=%v", err))
		out = append(out, r.catchUp(60*time.Second))
		return
	})
	trap("T2 durable deleted under a running mirror, then recreated", func(r *rig) (out []string) {
		_, _ = r.pjs.CreateOrUpdatePushConsumer(r.ctx, stream, durableConsumerConfig())
		_, _ = r.ljs.CreateKeyValue(r.ctx, mirrorKVConfig(true))
		out = append(out, "initial: "+r.catchUp(10*time.Second))
		err := r.js.DeleteConsumer(r.ctx, stream, consName)
		out = append(out, fmt.Sprintf("deleted durable: err=%v", err))
		for i := 0; i < 15; i++ {
			time.Sleep(time.Second)
			if *verbose {
				fmt.Println("     t+", i+1, r.mirrorState())
			}
		}
		out = append(out, "after 15s: "+r.mirrorState())
		_, err = r.pjs.CreateOrUpdatePushConsumer(r.ctx, stream, durableConsumerConfig())
		out = append(out, fmt.Sprintf("recreated durable: err=%v", err))
		out = append(out, r.catchUp(60*time.Second))
		return
	})
	trap("T3 durable with AckAll instead of AckFlowControl", func(r *rig) (out []string) {
		cfg := durableConsumerConfig()
		cfg.AckPolicy = jetstream.AckAllPolicy
		cfg.MaxAckPending = 0
		_, err := r.pjs.CreateOrUpdatePushConsumer(r.ctx, stream, cfg)
		out = append(out, fmt.Sprintf("create AckAll durable: err=%v", err))
		_, err = r.ljs.CreateKeyValue(r.ctx, mirrorKVConfig(true))
		out = append(out, fmt.Sprintf("create mirror: err=%v", err))
		time.Sleep(6 * time.Second)
		out = append(out, "after 6s: "+r.mirrorState())
		return
	})
	trap("T4 AckFlowControl config validation", func(r *rig) (out []string) {
		for _, v := range []struct {
			n string
			f func(*jetstream.ConsumerConfig)
		}{
			{"IdleHeartbeat 5s", func(c *jetstream.ConsumerConfig) { c.IdleHeartbeat = 5 * time.Second }},
			{"IdleHeartbeat 0 + FlowControl false", func(c *jetstream.ConsumerConfig) { c.IdleHeartbeat, c.FlowControl = 0, false }},
			{"AckWait 30s", func(c *jetstream.ConsumerConfig) { c.AckWait = 30 * time.Second }},
			{"MaxDeliver 5", func(c *jetstream.ConsumerConfig) { c.MaxDeliver = 5 }},
			{"MaxAckPending 0 (default)", func(c *jetstream.ConsumerConfig) { c.MaxAckPending = 0 }},
			{"no DeliverSubject (pull)", func(c *jetstream.ConsumerConfig) { c.DeliverSubject = "" }},
			{"InactiveThreshold 1h", func(c *jetstream.ConsumerConfig) { c.InactiveThreshold = time.Hour }},
		} {
			cfg := durableConsumerConfig()
			cfg.Durable = "v" + fmt.Sprint(len(out))
			v.f(&cfg)
			var err error
			if cfg.DeliverSubject == "" {
				_, err = r.js.CreateOrUpdateConsumer(r.ctx, stream, cfg)
			} else {
				var c jetstream.PushConsumer
				c, err = r.js.CreateOrUpdatePushConsumer(r.ctx, stream, cfg)
				if err == nil {
					i := c.CachedInfo().Config
					v.n += fmt.Sprintf(" -> fc=%v hb=%v map=%d", i.FlowControl, i.IdleHeartbeat, i.MaxAckPending)
				}
			}
			out = append(out, fmt.Sprintf("%-40s err=%v", v.n, err))
		}
		// Converting an existing classic mirror in place.
		_, err := r.ljs.CreateKeyValue(r.ctx, mirrorKVConfig(false))
		out = append(out, fmt.Sprintf("classic mirror create: err=%v", err))
		_, _ = r.pjs.CreateOrUpdatePushConsumer(r.ctx, stream, durableConsumerConfig())
		_, err = r.ljs.UpdateKeyValue(r.ctx, mirrorKVConfig(true))
		out = append(out, fmt.Sprintf("update classic->durable mirror: err=%v", err))
		return
	})
	trap("T5 cleanup: mirror deleted / child gone", func(r *rig) (out []string) {
		cfg := durableConsumerConfig()
		cfg.InactiveThreshold = 3 * time.Second
		_, err := r.pjs.CreateOrUpdatePushConsumer(r.ctx, stream, cfg)
		out = append(out, fmt.Sprintf("durable with InactiveThreshold 3s: err=%v", err))
		_, _ = r.ljs.CreateKeyValue(r.ctx, mirrorKVConfig(true))
		out = append(out, "initial: "+r.catchUp(10*time.Second))
		time.Sleep(5 * time.Second)
		out = append(out, "mirror running 5s later: "+r.consumerExists())
		err = r.ljs.DeleteKeyValue(r.ctx, bucket)
		out = append(out, fmt.Sprintf("deleted leaf mirror: err=%v; immediately: %s", err, r.consumerExists()))
		time.Sleep(6 * time.Second)
		out = append(out, "6s after mirror deletion: "+r.consumerExists())
		return
	})
	trap("T6 durable without InactiveThreshold survives mirror deletion", func(r *rig) (out []string) {
		hkv, _ := r.js.KeyValue(r.ctx, bucket)
		_, err := hkv.Put(r.ctx, "old-key", []byte("x"))
		out = append(out, fmt.Sprintf("hub put old-key: err=%v", err))
		_, _ = r.pjs.CreateOrUpdatePushConsumer(r.ctx, stream, durableConsumerConfig())
		_, _ = r.ljs.CreateKeyValue(r.ctx, mirrorKVConfig(true))
		out = append(out, "initial: "+r.catchUp(10*time.Second))
		time.Sleep(3 * time.Second) // let flow control acks move the ack floor
		_ = r.ljs.DeleteKeyValue(r.ctx, bucket)
		time.Sleep(5 * time.Second)
		c, err2 := r.js.PushConsumer(r.ctx, stream, consName)
		if err = err2; err == nil {
			i := c.CachedInfo()
			out = append(out, fmt.Sprintf("5s after mirror deletion: consumer exists, push bound=%v pending=%d ackfloor=%d",
				i.PushBound, i.NumPending, i.AckFloor.Stream))
		} else {
			out = append(out, "consumer: "+err.Error())
		}
		// Recreating the mirror (empty store) against the old durable.
		_, err = r.ljs.CreateKeyValue(r.ctx, mirrorKVConfig(true))
		out = append(out, fmt.Sprintf("recreate empty mirror on old durable: err=%v", err))
		out = append(out, r.catchUp(30*time.Second))
		time.Sleep(time.Second)
		st := r.mirrorState()
		s, _ := r.ljs.Stream(r.ctx, stream)
		if s != nil {
			st += fmt.Sprintf(" msgs=%d first=%d", s.CachedInfo().State.Msgs, s.CachedInfo().State.FirstSeq)
		}
		out = append(out, "state: "+strings.TrimSpace(st))
		if s != nil {
			_, err := s.GetLastMsgForSubject(r.ctx, "$KV."+bucket+".old-key")
			out = append(out, fmt.Sprintf("leaf get old-key: err=%v", err))
		}
		return
	})
}

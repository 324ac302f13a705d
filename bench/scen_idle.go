package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// idleResult is one idle-sockets measurement.
type idleResult struct {
	Asked            int               `json:"asked"`
	Held             int               `json:"held"`
	ServerCounted    float64           `json:"serverCounted,omitempty"` // handoff_open_sockets{kind="customer"}
	RSSBefore        int64             `json:"rssBefore"`
	RSSAfter         int64             `json:"rssAfter"`
	GoroutinesBefore float64           `json:"goroutinesBefore"`
	GoroutinesAfter  float64           `json:"goroutinesAfter"`
	HeapBefore       float64           `json:"heapInuseBefore,omitempty"`
	HeapAfter        float64           `json:"heapInuseAfter,omitempty"`
	StackBefore      float64           `json:"stackInuseBefore,omitempty"`
	StackAfter       float64           `json:"stackInuseAfter,omitempty"`
	Dial             Summary           `json:"dial"`
	DialRateFirst    float64           `json:"dialRateFirstFifth"` // opens per second, the first fifth
	DialRateLast     float64           `json:"dialRateLastFifth"`  // and the last fifth`
	MaxOpenFiles     int64             `json:"serverMaxOpenFiles"`
	RSSSettling      []int64           `json:"rssSettling"` // RSS once a second while settling`
	DialTime         time.Duration     `json:"dialTimeNs"`
	Errors           map[string]string `json:"errors,omitempty"`
	errs             int
}

// perSocketKB is the RSS growth per held socket, in KB.
func (r idleResult) perSocketKB() *float64 {
	if r.Held == 0 {
		return nil
	}
	return fp(float64(r.RSSAfter-r.RSSBefore) / float64(r.Held) / 1024)
}

func (r idleResult) goroutinesPerSocket() *float64 {
	if r.Held == 0 {
		return nil
	}
	return fp((r.GoroutinesAfter - r.GoroutinesBefore) / float64(r.Held))
}

func (r idleResult) heapPerSocketKB() *float64 {
	if r.Held == 0 || r.HeapAfter == 0 {
		return nil
	}
	return fp((r.HeapAfter - r.HeapBefore) / float64(r.Held) / 1024)
}

func (r idleResult) stackPerSocketKB() *float64 {
	if r.Held == 0 || r.StackAfter == 0 {
		return nil
	}
	return fp((r.StackAfter - r.StackBefore) / float64(r.Held) / 1024)
}

// fifthRates is the rate of completions in the first and the last fifth of
// a run, from the completion times in order: whether opening gets slower as
// more sockets are open.
func fifthRates(done []time.Time) (first, last float64) {
	n := len(done) / 5
	if n < 2 {
		return 0, 0
	}
	rate := func(ts []time.Time) float64 { return perSecond(len(ts)-1, ts[len(ts)-1].Sub(ts[0])) }
	return rate(done[:n]), rate(done[len(done)-n:])
}

// settle lets a server finish the work behind the last requests before its
// memory is read.
const settle = 2 * time.Second

// idleSettle is how long idle sockets are held before the memory is read.
const idleSettle = 5 * time.Second

// settleRSS waits d, sampling p's RSS once a second, and returns the last
// sample with the series.
func settleRSS(p *proc, d time.Duration) (int64, []int64, error) {
	var series []int64
	for end := time.Now().Add(d); ; {
		time.Sleep(min(time.Second, time.Until(end)))
		rss, err := p.rss()
		if err != nil {
			return 0, series, err
		}
		series = append(series, rss)
		if !time.Now().Before(end) {
			return rss, series, nil
		}
	}
}

// holdSockets dials n sockets with dial (i = 0..n-1), 32 at a time, and
// returns those that opened, with the opens' latency and their rate over
// the first and the last fifth recorded in res.
func holdSockets(ctx context.Context, n int, errs *errorCounter, res *idleResult, dial func(ctx context.Context, i int) (*websocket.Conn, error)) []*websocket.Conn {
	conns := make([]*websocket.Conn, n)
	var rec Recorder
	var mu sync.Mutex
	var done []time.Time
	runClosed(ctx, 32, n, 2*time.Minute, func(ctx context.Context, i int) error {
		start := time.Now()
		c, err := dial(ctx, i)
		if err != nil {
			errs.add(err)
			return err
		}
		end := time.Now()
		rec.Record(end.Sub(start))
		mu.Lock()
		done = append(done, end)
		mu.Unlock()
		conns[i] = c
		return nil
	})
	res.Dial = rec.Summary()
	res.DialRateFirst, res.DialRateLast = fifthRates(done)
	var out []*websocket.Conn
	for _, c := range conns {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

func releaseSockets(conns []*websocket.Conn) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, c := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			c.Close()
		}()
	}
	wg.Wait()
}

// runtimeGauges are a process's goroutines and Go memory in use.
type runtimeGauges struct {
	Goroutines float64 `json:"goroutines"`
	HeapInuse  float64 `json:"heapInuse"`
	StackInuse float64 `json:"stackInuse"`
}

// serverGauges reads the server's runtime gauges and its open customer
// sockets from /metrics.
func serverGauges(ctx context.Context, base string) (runtimeGauges, float64, error) {
	var g runtimeGauges
	s, err := scrape(ctx, base)
	if err != nil {
		return g, 0, err
	}
	g.Goroutines, _ = promValue(s, "go_goroutines", nil)
	g.HeapInuse, _ = promValue(s, "go_memstats_heap_inuse_bytes", nil)
	g.StackInuse, _ = promValue(s, "go_memstats_stack_inuse_bytes", nil)
	customerSockets, _ := promValue(s, "handoff_open_sockets", map[string]string{"kind": "customer"})
	return g, customerSockets, nil
}

// relayGauges reads the bare relay's runtime gauges from its /stats.
func relayGauges(ctx context.Context, base string) (runtimeGauges, error) {
	var g runtimeGauges
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/stats", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return g, err
	}
	defer res.Body.Close()
	err = json.NewDecoder(res.Body).Decode(&g)
	return g, err
}

func (r *idleResult) setBefore(g runtimeGauges) {
	r.GoroutinesBefore, r.HeapBefore, r.StackBefore = g.Goroutines, g.HeapInuse, g.StackInuse
}

func (r *idleResult) setAfter(g runtimeGauges) {
	r.GoroutinesAfter, r.HeapAfter, r.StackAfter = g.Goroutines, g.HeapInuse, g.StackInuse
}

// idleServer holds IdleSockets customer sockets (IdleSockets /
// IdleConversations per conversation, each conversation's sockets sharing
// its session) on a fresh server.
func idleServer(ctx context.Context, e *env) (idleResult, error) {
	p := e.p
	res := idleResult{Asked: p.IdleSockets}
	srv, err := e.startHandoff(ctx, "idle")
	if err != nil {
		return res, err
	}
	defer e.stopProc(srv)
	res.MaxOpenFiles, _ = srv.maxOpenFiles()
	t := newTarget(srv, apiToken)
	convs, errs := setupConversations(ctx, e, t, p.IdleConversations)
	if len(convs) == 0 {
		return res, fmt.Errorf("no conversation could be created: %v", errs.summary())
	}
	time.Sleep(settle)
	if res.RSSBefore, err = srv.rss(); err != nil {
		return res, err
	}
	g, _, err := serverGauges(ctx, t.metrics)
	if err != nil {
		return res, err
	}
	res.setBefore(g)
	start := time.Now()
	conns := holdSockets(ctx, p.IdleSockets, errs, &res, func(ctx context.Context, i int) (*websocket.Conn, error) {
		c := convs[i%len(convs)]
		return c.b.dial(ctx, c.id, 1)
	})
	res.DialTime = time.Since(start)
	defer releaseSockets(conns)
	res.Held = len(conns)
	// Wait until the server counts them all (bounded), then let it settle.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, n, err := serverGauges(ctx, t.metrics); err == nil && int(n) >= res.Held {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if res.RSSAfter, res.RSSSettling, err = settleRSS(srv, idleSettle); err != nil {
		return res, err
	}
	if g, res.ServerCounted, err = serverGauges(ctx, t.metrics); err != nil {
		return res, err
	}
	res.setAfter(g)
	res.Errors, res.errs = errs.summary(), errs.total()
	return res, nil
}

// idleRelay holds the same number of sockets on the bare relay, two per
// room.
func idleRelay(ctx context.Context, e *env) (idleResult, error) {
	res := idleResult{Asked: e.p.IdleSockets}
	rl, err := e.startBare(ctx, "relay", "relay-idle", "")
	if err != nil {
		return res, err
	}
	defer e.stopProc(rl)
	res.MaxOpenFiles, _ = rl.maxOpenFiles()
	time.Sleep(settle / 2)
	if res.RSSBefore, err = rl.rss(); err != nil {
		return res, err
	}
	g, err := relayGauges(ctx, rl.base())
	if err != nil {
		return res, err
	}
	res.setBefore(g)
	errs := newErrorCounter()
	start := time.Now()
	conns := holdSockets(ctx, e.p.IdleSockets, errs, &res, func(ctx context.Context, i int) (*websocket.Conn, error) {
		return dialRelay(ctx, rl.base(), fmt.Sprint(i/2))
	})
	res.DialTime = time.Since(start)
	defer releaseSockets(conns)
	res.Held = len(conns)
	if res.RSSAfter, res.RSSSettling, err = settleRSS(rl, idleSettle); err != nil {
		return res, err
	}
	if g, err = relayGauges(ctx, rl.base()); err != nil {
		return res, err
	}
	res.setAfter(g)
	res.Errors, res.errs = errs.summary(), errs.total()
	return res, nil
}

// scenarioIdle: server memory and goroutines per idle customer socket,
// next to the bare relay's.
func scenarioIdle(ctx context.Context, e *env) error {
	p := e.p
	e.logf("idle: %d customer sockets on %d conversations", p.IdleSockets, p.IdleConversations)
	srv, err := idleServer(ctx, e)
	if err != nil {
		return err
	}
	e.logf("idle: held %d in %.1f s (%.0f/s in the first fifth, %.0f/s in the last); RSS %d → %d MB; goroutines %.0f → %.0f",
		srv.Held, srv.DialTime.Seconds(), srv.DialRateFirst, srv.DialRateLast, srv.RSSBefore>>20, srv.RSSAfter>>20, srv.GoroutinesBefore, srv.GoroutinesAfter)
	relay, err := idleRelay(ctx, e)
	if err != nil {
		return err
	}
	e.logf("idle: relay held %d; RSS %d → %d MB", relay.Held, relay.RSSBefore>>20, relay.RSSAfter>>20)
	e.detail("idle", map[string]any{"server": srv, "relay": relay})
	if srv.DialRateLast > 0 && srv.DialRateLast < 0.7*srv.DialRateFirst {
		e.note("idle: opening sockets slowed as more were open: %.0f/s over the first fifth, %.0f/s over the last", srv.DialRateFirst, srv.DialRateLast)
	}
	if srv.ServerCounted != 0 && int(srv.ServerCounted) != srv.Held {
		e.note("idle: the bench held %d sockets but the server counted %.0f open", srv.Held, srv.ServerCounted)
	}
	e.add(
		newRow("idle", "idle customer sockets held", unitCount, fp(float64(srv.Held)), fp(float64(relay.Held)), "bare relay", &Target{valueAtLeast, float64(p.IdleSockets)}),
		newRow("idle", "server memory (RSS) per idle socket", unitKB, srv.perSocketKB(), relay.perSocketKB(), "bare relay", &Target{valueAtMost, 20}),
		newRow("idle", "goroutines per idle socket", unitRatio, srv.goroutinesPerSocket(), relay.goroutinesPerSocket(), "bare relay", nil),
		newRow("idle", "Go heap in use per idle socket", unitKB, srv.heapPerSocketKB(), relay.heapPerSocketKB(), "bare relay", nil),
		newRow("idle", "goroutine stacks per idle socket", unitKB, srv.stackPerSocketKB(), relay.stackPerSocketKB(), "bare relay", nil),
		newRow("idle", "socket opens/s (32 at a time)", unitPerSec, fp(perSecond(srv.Held, srv.DialTime)), fp(perSecond(relay.Held, relay.DialTime)), "bare relay", nil),
		newRow("idle", "failed socket dials", unitCount, fp(float64(srv.errs)), fp(float64(relay.errs)), "bare relay", &Target{valueEqual, 0}),
	)
	return nil
}

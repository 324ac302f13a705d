package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// chatConv is one conversation of the chat scenario: the customer's
// browser, and two customer sockets on it (a and b, the same session).
type chatConv struct {
	id   string
	b    *browser
	a, o *sock // a sends; o is the "other" customer socket
}

// site is the server under test as the chat runs see it: one instance, or
// two instances sharing one database. Conversations are created and the
// customers' first sockets (a) open on instance a; the second customer
// sockets (o) open, and the agents' organization API calls go, to b.
type site struct {
	a, b   *proc // b is a with one instance
	ta, tb target
	db     string // the PostgreSQL database's name; "" on SQLite
	// whileSending, when set, is started on its own goroutine as the
	// rooms run's sends begin, with how long they last.
	whileSending func(start time.Time, d time.Duration)
}

// oneInstance is the site of a single server.
func oneInstance(p *proc) site {
	t := newTarget(p, apiToken)
	return site{a: p, b: p, ta: t, tb: t}
}

// procs are the site's server processes, each once.
func (s site) procs() []*proc {
	if s.a == s.b {
		return []*proc{s.a}
	}
	return []*proc{s.a, s.b}
}

// startCPU starts measuring the CPU the site's servers, this process and
// (on PostgreSQL) the database's backends use.
func (s site) startCPU() func() cpuUse {
	cpu := startCPU(s.procs()...)
	if s.db == "" {
		return cpu
	}
	pg := startPGCPU(s.db)
	return func() cpuUse {
		use := cpu()
		_, use.Postgres = pg()
		return use
	}
}

// scrape reads every instance's /metrics; histograms and counters of the
// instances add up.
func (s site) scrape(ctx context.Context) ([]promSample, error) {
	var all []promSample
	for _, t := range []target{s.ta, s.tb}[:len(s.procs())] {
		got, err := scrape(ctx, t.metrics)
		if err != nil {
			return nil, err
		}
		all = append(all, got...)
	}
	return all, nil
}

// setupConversations hands off n conversations, each from its own browser.
func setupConversations(ctx context.Context, e *env, t target, n int) ([]*chatConv, *errorCounter) {
	tr := newTransport(e.p.SetupConcurrency * 2)
	errs := newErrorCounter()
	out := make([]*chatConv, n)
	runClosed(ctx, e.p.SetupConcurrency, n, 2*time.Minute, func(ctx context.Context, i int) error {
		b := newBrowser(t, tr)
		r, err := b.submitForm(ctx, i)
		if err != nil {
			errs.add(err)
			return err
		}
		out[i] = &chatConv{id: r.ConversationID, b: b}
		return nil
	})
	var convs []*chatConv
	for _, c := range out {
		if c != nil {
			convs = append(convs, c)
		}
	}
	return convs, errs
}

// openPairs dials both customer sockets of every conversation (hello after
// seq 1, the form's message) and starts their readers: socket a on the
// instance the conversation was created on, socket o on other.
func openPairs(ctx context.Context, convs []*chatConv, other target, h *sockHooks) error {
	var firstErr error
	var mu sync.Mutex
	runClosed(ctx, 32, len(convs), time.Minute, func(ctx context.Context, i int) error {
		c := convs[i]
		for _, side := range []string{"A", "B"} {
			stream := c.id + "/" + side
			h.tracker.Start(stream, 1)
			b := c.b
			if side == "B" {
				b = b.on(other)
			}
			conn, err := b.dial(ctx, c.id, 1)
			if err != nil {
				h.errs.add(err)
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return err
			}
			s := newSock(stream, conn)
			go s.read(h)
			if side == "A" {
				c.a = s
			} else {
				c.o = s
			}
		}
		return nil
	})
	return firstErr
}

func pairSocks(convs []*chatConv) []*sock {
	var out []*sock
	for _, c := range convs {
		out = append(out, c.a, c.o)
	}
	return out
}

// expectBoth tells the tracker that both sockets of the conversation behind
// stream must receive tag as seq.
func expectBoth(tr *Tracker, stream, tag string, seq int64) {
	id := stream[:strings.LastIndexByte(stream, '/')]
	tr.Expect(id+"/A", tag, seq)
	tr.Expect(id+"/B", tag, seq)
}

// chatThroughputResult is the chat throughput run.
type chatThroughputResult struct {
	Conversations  int               `json:"conversations"`
	Elapsed        time.Duration     `json:"elapsedNs"`
	CustomerStored int64             `json:"customerStored"`
	AgentStored    int64             `json:"agentStored"`
	MessagesPerSec float64           `json:"messagesPerSec"`
	ServerStored   float64           `json:"serverStoredTotal"` // the server's own counter over the run
	RateLimited    int64             `json:"rateLimitedRetries"`
	Delivery       Summary           `json:"delivery"`
	Tracker        TrackerReport     `json:"tracker"`
	Drained        bool              `json:"drained"`
	Missing        []string          `json:"missingExamples,omitempty"`
	CPU            cpuUse            `json:"cpu"`
	ServerOrgPost  histStats         `json:"serverOrgPost"`  // the organization API's POST, server side
	ServerAppendTx histStats         `json:"serverAppendTx"` // the store's append_message transactions
	Errors         map[string]string `json:"errors,omitempty"`
	errs           int
}

// chatThroughput: every conversation's customer sends over socket a as fast
// as acks (and the server's per-socket rate limit) allow while an agent
// sends through the organization API as fast as it answers; both sockets
// must receive every message exactly once, in seq order.
func chatThroughput(ctx context.Context, e *env, srv site) (chatThroughputResult, error) {
	p := e.p
	t := srv.ta
	var res chatThroughputResult
	convs, serrs := setupConversations(ctx, e, t, p.ChatConversations)
	if len(convs) == 0 {
		return res, fmt.Errorf("no conversation could be created: %v", serrs.summary())
	}
	res.Conversations = len(convs)
	tr := NewTracker()
	inf := newInflight()
	errs := newErrorCounter()
	var custStored, agentStored, limited atomic.Int64
	var stopAt atomic.Int64
	stopAt.Store(time.Now().Add(time.Hour).UnixNano())
	h := &sockHooks{tracker: tr, inflight: inf, errs: errs, onAck: func(s *sock, tag string, seq int64) {
		expectBoth(tr, s.stream, tag, seq)
		if time.Now().UnixNano() <= stopAt.Load() {
			custStored.Add(1)
		}
	}}
	if err := openPairs(ctx, convs, srv.tb, h); err != nil {
		closeAll(pairSocks(convs))
		return res, fmt.Errorf("open sockets: %w", err)
	}
	defer closeAll(pairSocks(convs))
	httpc := &http.Client{Transport: newTransport(len(convs) + 16), Timeout: 15 * time.Second}
	before, _ := srv.scrape(ctx)

	sctx, cancel := context.WithTimeout(ctx, p.ChatTime)
	defer cancel()
	cpu := srv.startCPU()
	start := time.Now()
	stopAt.Store(start.Add(p.ChatTime).UnixNano())
	profiled := e.profileDuring(ctx, "throughput", srv.procs(), p.ChatTime-2*time.Second)
	var wg sync.WaitGroup
	for ci, c := range convs {
		wg.Add(2)
		go func() { // the customer, over socket a
			defer wg.Done()
			lim := rate.NewLimiter(rate.Limit(p.CustomerRate), 1)
			for n := 0; ; n++ {
				if lim.Wait(sctx) != nil {
					return
				}
				tag := fmt.Sprintf("c%d-%d", ci, n)
				inf.sent(tag, c.o.stream, nil, nil)
				for attempt := 0; ; attempt++ {
					h.unanswered.Add(1)
					if err := c.a.write(sendFrame(tag, benchBody(tag))); err != nil {
						if sctx.Err() == nil {
							errs.add(fmt.Errorf("socket send: %w", err))
						}
						return
					}
					ev, ok := waitAck(sctx, c.a, tag)
					if !ok {
						if sctx.Err() == nil {
							errs.add(errNoAck)
						}
						return
					}
					if ev.code == "rate_limited" && attempt < 5 {
						limited.Add(1)
						select {
						case <-sctx.Done():
							return
						case <-time.After(250 * time.Millisecond):
						}
						continue
					}
					break
				}
			}
		}()
		go func() { // the agent, through the organization API
			defer wg.Done()
			for n := 0; sctx.Err() == nil; n++ {
				tag := fmt.Sprintf("a%d-%d", ci, n)
				inf.sent(tag, c.a.stream, nil, nil)
				seq, err := orgSend(sctx, httpc, srv.tb, c.id, tag, benchBody(tag))
				if err != nil {
					inf.forget(tag)
					if sctx.Err() == nil {
						errs.add(err)
						time.Sleep(50 * time.Millisecond) // no tight loop on a failing server
					}
					continue
				}
				expectBoth(tr, c.a.stream, tag, seq)
				if time.Now().UnixNano() <= stopAt.Load() {
					agentStored.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	res.CPU = cpu()
	profiled()
	res.Elapsed = min(time.Since(start), p.ChatTime)
	res.Drained = waitDrained(ctx, tr, h, 10*time.Second)
	if after, err := srv.scrape(ctx); err == nil && before != nil {
		a, _ := promValue(after, "handoff_messages_stored_total", nil)
		b, _ := promValue(before, "handoff_messages_stored_total", nil)
		res.ServerStored = a - b
		res.ServerOrgPost, res.ServerAppendTx = orgPostAndAppend(before, after)
	}
	res.CustomerStored, res.AgentStored, res.RateLimited = custStored.Load(), agentStored.Load(), limited.Load()
	res.MessagesPerSec = perSecond(int(res.CustomerStored+res.AgentStored), res.Elapsed)
	res.Delivery = inf.lat.Summary()
	res.Tracker = tr.Report()
	res.Missing = tr.MissingTags(5)
	res.Errors, res.errs = errs.summary(), errs.total()+serrs.total()
	return res, nil
}

// orgPostAndAppend are the server's own times for the organization API's
// message POST and for the store's append_message transaction between two
// scrapes.
func orgPostAndAppend(before, after []promSample) (histStats, histStats) {
	return histBetween(before, after, "handoff_http_request_duration_seconds", map[string]string{"method": "POST", "route": "/api/v1/org/conversations/:id/messages"}),
		histBetween(before, after, "handoff_store_transaction_seconds", map[string]string{"op": "append_message"})
}

// waitAck waits for the server's answer to the send tagged tag.
func waitAck(ctx context.Context, s *sock, tag string) (ackEvent, bool) {
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case ev := <-s.acks:
			if ev.tag == tag {
				return ev, true
			}
		case <-s.done:
			return ackEvent{}, false
		case <-timeout.C:
			return ackEvent{}, false
		case <-ctx.Done():
			return ackEvent{}, false
		}
	}
}

// roomsResult is a paced run of many rooms, against the server or the
// relay.
type roomsResult struct {
	Rooms      int        `json:"rooms"`
	Sent       int64      `json:"sent"`
	SentPerSec float64    `json:"sentPerSec"`
	Delivery   Summary    `json:"delivery"`
	ToCustomer *Summary   `json:"agentToCustomer,omitempty"`    // org API → customer socket
	ToOther    *Summary   `json:"customerToOther,omitempty"`    // customer socket → the other socket
	RoundTrips float64    `json:"closedLoopPerSec,omitempty"`   // relay: closed-loop deliveries per second
	ClosedLoop *Summary   `json:"closedLoopDelivery,omitempty"` // relay: their latency
	CPU        *cpuUse    `json:"cpu,omitempty"`
	ServerOrg  *histStats `json:"serverOrgPost,omitempty"`
	ServerTx   *histStats `json:"serverAppendTx,omitempty"`
	// Truncates are the SQLite WAL's truncating checkpoints, while writes
	// wait.
	Truncates *histStats `json:"walTruncates,omitempty"`
	// Restarts are the committer's tries to have the WAL start over, and
	// RestartsHeldUp those that readers kept from it.
	Restarts       *histStats        `json:"walRestarts,omitempty"`
	RestartsHeldUp float64           `json:"walRestartsHeldUp,omitempty"`
	BrokerLag      *histStats        `json:"brokerLag,omitempty"` // two instances: publish on one to local publish on the other
	Tracker        TrackerReport     `json:"tracker"`
	Drained        bool              `json:"drained"`
	Missing        []string          `json:"missingExamples,omitempty"`
	Errors         map[string]string `json:"errors,omitempty"`
	errs           int
}

// roomSchedule calls send(k) for room i of n at its slot in every period
// from start until stop.
func roomSchedule(ctx context.Context, i, n int, start, stop time.Time, period time.Duration, send func(k int)) {
	at := start.Add(spread(i, n, period))
	for k := 0; at.Before(stop); k, at = k+1, at.Add(period) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(at)):
		}
		send(k)
	}
}

// chatRooms: many conversations each exchange RoomRate messages a second,
// alternately the customer over socket a (timed at socket o) and an agent
// through the organization API (timed at socket a).
func chatRooms(ctx context.Context, e *env, srv site) (roomsResult, error) {
	p := e.p
	t := srv.ta
	var res roomsResult
	convs, serrs := setupConversations(ctx, e, t, p.Rooms)
	if len(convs) == 0 {
		return res, fmt.Errorf("no conversation could be created: %v", serrs.summary())
	}
	res.Rooms = len(convs)
	tr := NewTracker()
	inf := newInflight()
	errs := newErrorCounter()
	h := &sockHooks{tracker: tr, inflight: inf, errs: errs, onAck: func(s *sock, tag string, seq int64) { expectBoth(tr, s.stream, tag, seq) }}
	if err := openPairs(ctx, convs, srv.tb, h); err != nil {
		closeAll(pairSocks(convs))
		return res, fmt.Errorf("open sockets: %w", err)
	}
	defer closeAll(pairSocks(convs))
	httpc := &http.Client{Transport: newTransport(256), Timeout: 15 * time.Second}
	before, _ := srv.scrape(ctx)
	cpu := srv.startCPU()
	var toCustomer, toOther Recorder
	var sent atomic.Int64
	period := time.Duration(float64(time.Second) / p.RoomRate)
	start := time.Now().Add(200 * time.Millisecond)
	stop := start.Add(p.RoomTime)
	if srv.whileSending != nil {
		go srv.whileSending(start, p.RoomTime)
	}
	profiled := e.profileDuring(ctx, "rooms", srv.procs(), p.RoomTime-2*time.Second)
	var wg, posts sync.WaitGroup
	for i, c := range convs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			roomSchedule(ctx, i, len(convs), start, stop, period, func(k int) {
				tag := fmt.Sprintf("r%d-%d", i, k)
				sent.Add(1)
				if k%2 == 0 {
					inf.sent(tag, c.o.stream, &toOther, nil)
					h.unanswered.Add(1)
					if err := c.a.write(sendFrame(tag, benchBody(tag))); err != nil {
						errs.add(fmt.Errorf("socket send: %w", err))
					}
					return
				}
				inf.sent(tag, c.a.stream, &toCustomer, nil)
				posts.Add(1)
				go func() {
					defer posts.Done()
					seq, err := orgSend(ctx, httpc, srv.tb, c.id, tag, benchBody(tag))
					if err != nil {
						inf.forget(tag)
						errs.add(err)
						return
					}
					expectBoth(tr, c.a.stream, tag, seq)
				}()
			})
		}()
	}
	wg.Wait()
	posts.Wait()
	use := cpu()
	res.CPU = &use
	profiled()
	res.Drained = waitDrained(ctx, tr, h, 10*time.Second)
	res.Sent = sent.Load()
	res.SentPerSec = perSecond(int(res.Sent), p.RoomTime)
	tc, to := toCustomer.Summary(), toOther.Summary()
	res.Delivery, res.ToCustomer, res.ToOther = inf.lat.Summary(), &tc, &to
	if after, err := srv.scrape(ctx); err == nil && before != nil {
		org, tx := orgPostAndAppend(before, after)
		res.ServerOrg, res.ServerTx = &org, &tx
		trunc := histBetween(before, after, "handoff_sqlite_checkpoint_seconds", map[string]string{"mode": "truncate"})
		res.Truncates = &trunc
		restarts := histBetween(before, after, "handoff_sqlite_checkpoint_seconds", map[string]string{"mode": "restart"})
		res.Restarts = &restarts
		failed := func(ss []promSample) float64 {
			v, _ := promValue(ss, "handoff_sqlite_checkpoint_errors_total", map[string]string{"mode": "restart"})
			return v
		}
		res.RestartsHeldUp = failed(after) - failed(before)
		if len(srv.procs()) > 1 {
			lag := histBetween(before, after, "handoff_broker_lag_seconds", nil)
			res.BrokerLag = &lag
		}
	}
	res.Tracker = tr.Report()
	res.Missing = tr.MissingTags(5)
	res.Errors, res.errs = errs.summary(), errs.total()+serrs.total()
	return res, nil
}

// relayRoom is one room of the bare relay with its two sockets.
type relayRoom struct {
	a, b         *sock
	seqAB, seqBA int64
}

// relayRooms runs the same paced load through the bare relay, then a
// closed loop (each room sends its next message when the last arrived) on
// the first closedRooms rooms for closedTime.
func relayRooms(ctx context.Context, e *env, rl *proc, closedRooms int, closedTime time.Duration) (roomsResult, error) {
	p := e.p
	var res roomsResult
	tr := NewTracker()
	inf := newInflight()
	errs := newErrorCounter()
	h := &sockHooks{tracker: tr, inflight: inf, errs: errs}
	rooms := make([]*relayRoom, p.Rooms)
	runClosed(ctx, 32, p.Rooms, time.Minute, func(ctx context.Context, i int) error {
		r := &relayRoom{}
		for _, side := range []string{"A", "B"} {
			stream := fmt.Sprintf("relay%d/%s", i, side)
			tr.Start(stream, 0)
			conn, err := dialRelay(ctx, rl.base(), fmt.Sprint(i))
			if err != nil {
				errs.add(err)
				if r.a != nil {
					r.a.close()
				}
				return err
			}
			s := newSock(stream, conn)
			go s.read(h)
			if side == "A" {
				r.a = s
			} else {
				r.b = s
			}
		}
		rooms[i] = r
		return nil
	})
	var live []*relayRoom
	var socks []*sock
	for _, r := range rooms {
		if r != nil {
			live = append(live, r)
			socks = append(socks, r.a, r.b)
		}
	}
	defer closeAll(socks)
	if len(live) == 0 {
		return res, fmt.Errorf("no relay room opened: %v", errs.summary())
	}
	res.Rooms = len(live)
	// send writes the room's next message in direction k (even: a→b).
	send := func(r *relayRoom, i, k int, rec *Recorder, notify chan<- struct{}) {
		from, to, seq := r.a, r.b, &r.seqAB
		if k%2 == 1 {
			from, to, seq = r.b, r.a, &r.seqBA
		}
		*seq++
		tag := fmt.Sprintf("q%d-%d", i, k)
		inf.sent(tag, to.stream, rec, notify)
		tr.Expect(to.stream, tag, *seq)
		if err := from.write(relayFrame(*seq, tag, benchBody(tag))); err != nil {
			errs.add(fmt.Errorf("relay send: %w", err))
		}
	}
	var sent atomic.Int64
	period := time.Duration(float64(time.Second) / p.RoomRate)
	cpu := startCPU(rl)
	start := time.Now().Add(200 * time.Millisecond)
	stop := start.Add(p.RoomTime)
	var wg sync.WaitGroup
	for i, r := range live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			roomSchedule(ctx, i, len(live), start, stop, period, func(k int) {
				sent.Add(1)
				send(r, i, k, nil, nil)
			})
		}()
	}
	wg.Wait()
	use := cpu()
	res.CPU = &use
	res.Drained = waitDrained(ctx, tr, h, 10*time.Second)
	res.Sent = sent.Load()
	res.SentPerSec = perSecond(int(res.Sent), p.RoomTime)
	res.Delivery = inf.lat.Summary()

	// The closed loop: round trips as fast as the relay carries them.
	var closed Recorder
	var delivered atomic.Int64
	cctx, cancel := context.WithTimeout(ctx, closedTime)
	defer cancel()
	cstart := time.Now()
	for i, r := range live[:min(closedRooms, len(live))] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			notify := make(chan struct{}, 1)
			for k := 1 << 20; cctx.Err() == nil; k++ {
				send(r, i, k, &closed, notify)
				select {
				case <-notify:
					delivered.Add(1)
				case <-time.After(10 * time.Second):
					errs.add(errNoAck)
					return
				case <-cctx.Done():
					return
				}
			}
		}()
	}
	wg.Wait()
	res.RoundTrips = perSecond(int(delivered.Load()), time.Since(cstart))
	cl := closed.Summary()
	res.ClosedLoop = &cl
	if !waitDrained(ctx, tr, h, 10*time.Second) {
		res.Drained = false
	}
	res.Tracker = tr.Report()
	res.Missing = tr.MissingTags(5)
	res.Errors, res.errs = errs.summary(), errs.total()
	return res, nil
}

// scenarioChat: the bare SQLite loop, the server's message throughput, its
// delivery latency at many rooms × 1 msg/s, and the relay under the same
// load.
func scenarioChat(ctx context.Context, e *env) error {
	p := e.p
	e.logf("chat: bare SQLite loop, %v per phase", p.SQLTime)
	bs, err := runBareSQL(ctx, filepath.Join(e.tmp, "bare-sql.db"), p.SQLTime, p.ChatConversations, p.GroupSize)
	if err != nil {
		return fmt.Errorf("bare SQLite loop: %w", err)
	}
	e.bareSQL = &bs
	e.logf("chat: bare SQLite: %.0f hand-off tx/s, %.0f message tx/s, %.0f msgs/s at %d per tx", bs.HandoffTxPerSec, bs.MessageTxPerSec, bs.GroupMsgsPerSec, bs.GroupSize)

	srv, err := e.startHandoff(ctx, "chat")
	if err != nil {
		return err
	}
	e.logf("chat: throughput, %d conversations for %v", p.ChatConversations, p.ChatTime)
	thr, err := chatThroughput(ctx, e, oneInstance(srv))
	e.stopProc(srv)
	if err != nil {
		return err
	}
	walPeak := srv.wal.peakMB()
	e.logf("chat: %.0f messages/s stored (%d by customers, %d by agents; the server counted %.0f), %d violations",
		thr.MessagesPerSec, thr.CustomerStored, thr.AgentStored, thr.ServerStored, thr.Tracker.Violations)

	srv, err = e.startHandoff(ctx, "chat-rooms")
	if err != nil {
		return err
	}
	e.logf("chat: latency, %d rooms × %.0f msg/s for %v", p.Rooms, p.RoomRate, p.RoomTime)
	rooms, err := chatRooms(ctx, e, oneInstance(srv))
	e.stopProc(srv)
	if err != nil {
		return err
	}
	walPeak = max(walPeak, srv.wal.peakMB())
	e.logf("chat: delivery p50 %.1f ms p99 %.1f ms, %.0f msgs/s sent, %d violations", msOf(rooms.Delivery.P50), msOf(rooms.Delivery.P99), rooms.SentPerSec, rooms.Tracker.Violations)

	rl, err := e.startBare(ctx, "relay", "relay-chat", "")
	if err != nil {
		return err
	}
	relay, err := relayRooms(ctx, e, rl, p.ChatConversations, p.RelayTime)
	e.stopProc(rl)
	if err != nil {
		return err
	}
	e.logf("chat: relay delivery p50 %.2f ms p99 %.2f ms; closed loop %.0f/s", msOf(relay.Delivery.P50), msOf(relay.Delivery.P99), relay.RoundTrips)

	// The bare persisted relay: the same load, each message committed to
	// SQLite (group commit) before it is forwarded.
	prl, err := e.startBare(ctx, "prelay", "prelay-chat", filepath.Join(e.tmp, "prelay.db"))
	if err != nil {
		return err
	}
	prelay, err := relayRooms(ctx, e, prl, p.ChatConversations, p.RelayTime)
	e.stopProc(prl)
	if err != nil {
		return err
	}
	e.logf("chat: persisted relay delivery p50 %.2f ms p99 %.2f ms; closed loop %.0f/s", msOf(prelay.Delivery.P50), msOf(prelay.Delivery.P99), prelay.RoundTrips)

	e.detail("chat", map[string]any{"bareSQL": bs, "throughput": thr, "rooms": rooms, "relay": relay, "persistedRelay": prelay, "walPeakMB": walPeak})
	if !thr.Drained || !rooms.Drained {
		e.note("chat: some committed messages had not arrived 10 s after the sends stopped (examples: %v %v)", thr.Missing, rooms.Missing)
	}
	if h, tx := thr.ServerOrgPost, thr.ServerAppendTx; h.MeanMS != nil && tx.MeanMS != nil {
		e.note("chat: during the throughput run the server kept %.2f CPUs busy and the load generator %.2f; org API POST mean %.1f ms (p99 %s); %.0f append_message transactions, mean %.2f ms (p99 %s) as the server times them, the wait for its one writer included; the bare loop's whole transaction takes %.2f ms",
			thr.CPU.Server, thr.CPU.Bench, *h.MeanMS, formatValue(h.P99MS, unitMS), tx.Count, *tx.MeanMS, formatValue(tx.P99MS, unitMS), 1000/bs.MessageTxPerSec)
	}
	if h, tx := rooms.ServerOrg, rooms.ServerTx; h != nil && tx != nil && h.MeanMS != nil && tx.MeanMS != nil && rooms.CPU != nil {
		e.note("chat: at %d rooms the server kept %.2f CPUs busy and the load generator %.2f; org API POST mean %.1f ms (p99 %s); append_message mean %.2f ms (p99 %s)",
			rooms.Rooms, rooms.CPU.Server, rooms.CPU.Bench, *h.MeanMS, formatValue(h.P99MS, unitMS), *tx.MeanMS, formatValue(tx.P99MS, unitMS))
	}
	if tr, rs := rooms.Truncates, rooms.Restarts; tr != nil && rs != nil {
		e.note("chat: at %d rooms the committer tried %.0f times to start the SQLite WAL over (%.0f held up by readers; mean %s, p99 %s) and truncated it %.0f times (mean %s, p99 %s), writes waiting meanwhile",
			rooms.Rooms, rs.Count, rooms.RestartsHeldUp, formatValue(rs.MeanMS, unitMS), formatValue(rs.P99MS, unitMS), tr.Count, formatValue(tr.MeanMS, unitMS), formatValue(tr.P99MS, unitMS))
	}
	if thr.RateLimited > 0 {
		e.note("chat: the server refused %d socket sends as too fast at %.1f/s per socket; they were retried", thr.RateLimited, p.CustomerRate)
	}
	sq := e.sqliteFigures()
	sq.StoredPerSec, sq.RoomsP50, sq.RoomsP99 = fp(thr.MessagesPerSec), optMS(rooms.Delivery), optMS99(rooms.Delivery)
	rl1 := fmt.Sprintf("%d rooms × %g msg/s", rooms.Rooms, p.RoomRate)
	e.add(
		newRow("chat", fmt.Sprintf("messages stored/s (%d convs, socket + org API, 1 msg per tx)", thr.Conversations), unitPerSec,
			fp(thr.MessagesPerSec), fp(bs.MessageTxPerSec), "bare SQLite 1 msg/tx", &Target{ratioAtLeast, 0.6}),
		newRow("chat", "messages stored/s vs group commit", unitPerSec,
			fp(thr.MessagesPerSec), fp(bs.GroupMsgsPerSec), fmt.Sprintf("bare SQLite %d msgs/tx", bs.GroupSize), &Target{ratioAtLeast, 1.0}),
		newRow("chat", "delivery p50 at "+rl1, unitMS, fp(msOf(rooms.Delivery.P50)), fp(msOf(relay.Delivery.P50)), "bare relay", nil),
		newRow("chat", "delivery p95 at "+rl1, unitMS, fp(msOf(rooms.Delivery.P95)), fp(msOf(relay.Delivery.P95)), "bare relay", nil),
		newRow("chat", "delivery p99 at "+rl1, unitMS, fp(msOf(rooms.Delivery.P99)), fp(msOf(relay.Delivery.P99)), "bare relay", nil),
		newRow("chat", "messages sent/s at "+rl1, unitPerSec, fp(rooms.SentPerSec), fp(relay.SentPerSec), "bare relay", nil),
		newRow("chat", "delivery p50 at "+rl1, unitMS, fp(msOf(rooms.Delivery.P50)), fp(msOf(prelay.Delivery.P50)), "bare persisted relay", &Target{ratioAtMost, 2}),
		newRow("chat", "delivery p99 at "+rl1, unitMS, fp(msOf(rooms.Delivery.P99)), fp(msOf(prelay.Delivery.P99)), "bare persisted relay", &Target{ratioAtMost, 2}),
		newRow("chat", "server CPU per message at "+rl1, unitMicros, rooms.CPU.serverMicrosPer(rooms.Sent), prelay.CPU.serverMicrosPer(prelay.Sent), "bare persisted relay", &Target{ratioAtMost, 2}),
		newRow("chat", fmt.Sprintf("deliveries/s closed loop (%d rooms; both stored)", thr.Conversations), unitPerSec,
			fp(thr.MessagesPerSec), fp(prelay.RoundTrips), "bare persisted relay", nil),
		newRow("chat", fmt.Sprintf("deliveries/s closed loop (%d rooms; server: stored, relay: not)", thr.Conversations), unitPerSec,
			fp(thr.MessagesPerSec), fp(relay.RoundTrips), "bare relay", nil),
		newRow("chat", "exactly-once, in-order violations", unitCount,
			fp(float64(thr.Tracker.Violations+rooms.Tracker.Violations)), fp(float64(relay.Tracker.Violations)), "bare relay", &Target{valueEqual, 0}),
		newRow("chat", "messages checked on every socket", unitCount,
			fp(float64(thr.Tracker.Delivered+rooms.Tracker.Delivered)), fp(float64(relay.Tracker.Delivered)), "bare relay", nil),
		newRow("chat", "SQLite WAL peak (the server's handoff.db-wal, throughput and rooms runs)", unitMB, fp(walPeak), nil, "", &Target{valueAtMost, 64}),
		newRow("chat", "failed sends and socket errors", unitCount, fp(float64(thr.errs+rooms.errs)), fp(float64(relay.errs)), "bare relay", &Target{valueEqual, 0}),
	)
	return nil
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"
)

// pgSite is the public origin both PostgreSQL instances are given
// (HANDOFF_BASE_URL): one site behind a load balancer, whichever instance
// serves a page. The load generator's Origin headers name it.
const pgSite = "http://handoff-bench.test"

// sqliteFigures are the SQLite scenarios' figures of this run, set when
// they ran, for the postgres scenario's rows to stand beside.
type sqliteFigures struct {
	HandoffRate  *float64 // hand-offs/s at peak, the whole flow
	PostP99      *float64 // ms, at peak
	StoredPerSec *float64 // chat throughput
	RoomsP50     *float64 // ms, delivery at Rooms × RoomRate
	RoomsP99     *float64
}

// sqliteFigures is where the SQLite scenarios leave their figures.
func (e *env) sqliteFigures() *sqliteFigures {
	if e.sqlite == nil {
		e.sqlite = &sqliteFigures{}
	}
	return e.sqlite
}

// startPair starts two server instances on a fresh database (its name ends
// in name), sharing session keys, API token and public origin, and returns
// them as a site (customers on a, their second sockets and the agents on b)
// with the database's name.
func (e *env) startPair(ctx context.Context, admin *pgAdmin, name string) (site, string, func(), error) {
	dbURL, db, err := admin.create(ctx, name)
	if err != nil {
		return site{}, "", nil, err
	}
	auth, enc := make([]byte, 64), make([]byte, 32)
	rand.Read(auth)
	rand.Read(enc)
	shared := []string{
		"HANDOFF_DATABASE_URL=" + dbURL,
		"HANDOFF_SESSION_KEYS=" + hex.EncodeToString(auth) + ":" + hex.EncodeToString(enc),
		"HANDOFF_BASE_URL=" + pgSite,
	}
	a, err := e.startServer(ctx, "pg-"+name+"-a", shared)
	if err != nil {
		return site{}, "", nil, err
	}
	b, err := e.startServer(ctx, "pg-"+name+"-b", shared)
	if err != nil {
		e.stopProc(a)
		return site{}, "", nil, err
	}
	s := site{a: a, b: b, db: db,
		ta: target{base: a.base(), origin: pgSite, token: apiToken, metrics: a.metricsBase()},
		tb: target{base: b.base(), origin: pgSite, token: apiToken, metrics: b.metricsBase()}}
	return s, db, func() { e.stopProc(a); e.stopProc(b) }, nil
}

// pgCPU ends a measurement of startPGCPU over a whole phase: the
// PostgreSQL backends worked for this run, so their time does not count as
// other processes'.
func (e *env) pgCPU(end func() (uint64, float64)) {
	ticks, _ := end()
	e.helperTicks += ticks
}

// pgResults are the postgres scenario's measurements; nil until measured.
type pgResults struct {
	BarePG     *barePGResult         `json:"barePG,omitempty"`
	BareNotify *bareNotifyResult     `json:"bareNotify,omitempty"`
	Handoff    *handoffRun           `json:"handoffPeakOnA,omitempty"`
	Throughput *chatThroughputResult `json:"throughput,omitempty"`
	Rooms      *roomsResult          `json:"rooms,omitempty"`
	// PersistedRelay is the bare persisted relay on PostgreSQL: the same
	// paced rooms, each message committed (group commit) before it is
	// forwarded; PersistedRelayPG is its database's backends' CPU.
	PersistedRelay   *roomsResult `json:"persistedRelay,omitempty"`
	PersistedRelayPG float64      `json:"persistedRelayPostgresCPUs,omitempty"`
	// Bare round trips beside the rooms run, on the bare database.
	Probes *probeResult `json:"probesBesideRooms,omitempty"`
	// What the databases' backends did during the throughput and rooms
	// runs, and their counters afterwards.
	Activity map[string]pgActivity      `json:"activity,omitempty"`
	DBStats  map[string]pgDatabaseStats `json:"databaseStats,omitempty"`
}

// observe samples what the backends of database db do until the returned
// function is called, which records it under phase with the database's
// counters; call it after the servers stopped.
func (r *pgResults) observe(ctx context.Context, e *env, admin *pgAdmin, phase, db string) func() {
	act := samplePGActivity(ctx, admin, db, 100*time.Millisecond)
	return func() {
		a := act()
		if r.Activity == nil {
			r.Activity, r.DBStats = map[string]pgActivity{}, map[string]pgDatabaseStats{}
		}
		r.Activity[phase] = a
		st, err := admin.stats(ctx, db)
		if err == nil {
			r.DBStats[phase] = st
		}
		e.note("postgres: %s run: PostgreSQL's non-idle backends, sampled every 100 ms (%d samples): %s; afterwards %d deadlocks and %d rolled-back transactions in its database",
			phase, a.Samples, a.top(5), st.Deadlocks, st.Rollbacks)
	}
}

// scenarioPostgres: the bare pgx loop and NOTIFY→LISTEN round trip, then
// two server instances on one fresh PostgreSQL database per phase: the
// hand-off peak on instance A, chat throughput with customers' sockets on A
// and the agents' API calls on B, and delivery across the instances at
// Rooms × RoomRate. Its rows are added even when PostgreSQL cannot be
// reached, unmeasured, so that their targets fail visibly.
func scenarioPostgres(ctx context.Context, e *env) (err error) {
	p := e.p
	var r pgResults
	defer func() {
		e.detail("postgres", r)
		e.add(postgresRows(e, r)...)
	}()
	admin, err := openPGAdmin(ctx, e.pgURL)
	if err != nil {
		return fmt.Errorf("PostgreSQL at %s: %w", redactURL(e.pgURL), err)
	}
	defer func() {
		if cerr := admin.close(); cerr != nil {
			e.note("postgres: %v", cerr)
		}
	}()

	bareURL, bareDB, err := admin.create(ctx, "bare")
	if err != nil {
		return err
	}
	bareCPU := startPGCPU(bareDB)
	e.logf("postgres: bare pgx loop, %v per phase", p.SQLTime)
	bp, err := runBarePG(ctx, bareURL, p.SQLTime, p.ChatConversations, p.GroupSize)
	if err != nil {
		return fmt.Errorf("bare pgx loop: %w", err)
	}
	r.BarePG = &bp
	rate := float64(p.Rooms) * p.RoomRate
	e.logf("postgres: bare pgx: INSERT %.0f tx/s, %.0f rows/s at %d per tx; message append %.0f tx/s, %.0f msgs/s at %d per tx; NOTIFY→LISTEN at %.0f/s for %v",
		bp.InsertTxPerSec, bp.InsertRowsPerSec, bp.GroupSize, bp.MessageTxPerSec, bp.GroupMsgsPerSec, bp.GroupSize, rate, p.NotifyTime)
	bn, err := runBareNotify(ctx, bareURL, rate, p.NotifyTime)
	if err != nil {
		return fmt.Errorf("bare NOTIFY→LISTEN: %w", err)
	}
	r.BareNotify = &bn
	e.pgCPU(bareCPU)
	e.logf("postgres: bare NOTIFY→LISTEN p50 %.2f ms p99 %.2f ms, %d of %d received", msOf(bn.Latency.P50), msOf(bn.Latency.P99), bn.Received, bn.Sent)

	s, db, stop, err := e.startPair(ctx, admin, "handoff")
	if err != nil {
		return err
	}
	pgc := startPGCPU(db)
	e.logf("postgres: hand-off peak on instance A, %d customers, up to %d hand-offs or %v", p.Concurrency, p.HandoffMax, p.HandoffTime)
	cpu := site{a: s.a, b: s.a, db: db}.startCPU()
	peak := runHandoffs(ctx, s.ta, p.Concurrency, 0, p.HandoffMax, p.HandoffTime, true)
	peakCPU := cpu()
	e.pgCPU(pgc)
	stop()
	r.Handoff = &peak
	e.logf("postgres: hand-off peak %.0f/s, POST p99 %.1f ms, %d failed", peak.Rate, msOf(peak.Post.P99), peak.errs)
	e.note("postgres: at the hand-off peak instance A kept %.2f CPUs busy, PostgreSQL's backends %.2f and the load generator %.2f", peakCPU.Server, peakCPU.Postgres, peakCPU.Bench)

	s, db, stop, err = e.startPair(ctx, admin, "chat")
	if err != nil {
		return err
	}
	pgc = startPGCPU(db)
	observed := r.observe(ctx, e, admin, "throughput", db)
	e.logf("postgres: throughput, %d conversations for %v, customers on A, agents on B", p.ChatConversations, p.ChatTime)
	thr, err := chatThroughput(ctx, e, s)
	e.pgCPU(pgc)
	stop()
	observed()
	if err != nil {
		return err
	}
	r.Throughput = &thr
	e.logf("postgres: %.0f messages/s stored (%d by customers, %d by agents; the servers counted %.0f), %d violations",
		thr.MessagesPerSec, thr.CustomerStored, thr.AgentStored, thr.ServerStored, thr.Tracker.Violations)

	s, db, stop, err = e.startPair(ctx, admin, "rooms")
	if err != nil {
		return err
	}
	pgc = startPGCPU(db)
	observed = r.observe(ctx, e, admin, "rooms", db)
	e.logf("postgres: cross-instance latency, %d rooms × %.0f msg/s for %v", p.Rooms, p.RoomRate, p.RoomTime)
	probed := make(chan struct{})
	var probing atomic.Bool
	s.whileSending = func(start time.Time, d time.Duration) {
		probing.Store(true)
		defer close(probed)
		// In the middle half of the sends, away from their ramp and end.
		time.Sleep(time.Until(start.Add(d / 4)))
		pr, perr := runProbes(ctx, bareURL, d/2)
		if perr != nil {
			e.note("postgres: probes beside the rooms run: %v", perr)
			return
		}
		r.Probes = &pr
	}
	rooms, err := chatRooms(ctx, e, s)
	if probing.Load() { // started as the sends began, 20 s ago
		<-probed
	}
	e.pgCPU(pgc)
	stop()
	observed()
	if err != nil {
		return err
	}
	r.Rooms = &rooms
	e.logf("postgres: cross-instance delivery p50 %.1f ms p99 %.1f ms, %.0f msgs/s sent, %d violations",
		msOf(rooms.Delivery.P50), msOf(rooms.Delivery.P99), rooms.SentPerSec, rooms.Tracker.Violations)

	// The bare persisted relay on PostgreSQL, on a database of its own.
	prURL, prDB, err := admin.create(ctx, "prelay")
	if err != nil {
		return err
	}
	rl, err := e.startBare(ctx, "prelay", "prelay-pg", prURL)
	if err != nil {
		return err
	}
	prc := startPGCPU(prDB)
	prelay, err := relayRooms(ctx, e, rl, p.ChatConversations, p.RelayTime)
	ticks, pgCPUs := prc()
	e.helperTicks += ticks
	e.stopProc(rl)
	if err != nil {
		return err
	}
	r.PersistedRelay, r.PersistedRelayPG = &prelay, pgCPUs
	e.logf("postgres: persisted relay delivery p50 %.2f ms p99 %.2f ms; closed loop %.0f/s", msOf(prelay.Delivery.P50), msOf(prelay.Delivery.P99), prelay.RoundTrips)

	if !thr.Drained || !rooms.Drained {
		e.note("postgres: some committed messages had not arrived 10 s after the sends stopped (examples: %v %v)", thr.Missing, rooms.Missing)
	}
	if h, tx := thr.ServerOrgPost, thr.ServerAppendTx; h.MeanMS != nil && tx.MeanMS != nil {
		e.note("postgres: during the throughput run the two instances kept %.2f CPUs busy, PostgreSQL's backends %.2f and the load generator %.2f; org API POST mean %.1f ms (p99 %s); %.0f append_message transactions, mean %.2f ms (p99 %s) as the servers time them, the wait for the committer included; the bare loops' whole transaction takes %.2f ms (INSERT only) and %.2f ms (the four message statements)",
			thr.CPU.Server, thr.CPU.Postgres, thr.CPU.Bench, *h.MeanMS, formatValue(h.P99MS, unitMS), tx.Count, *tx.MeanMS, formatValue(tx.P99MS, unitMS), 1000/bp.InsertTxPerSec, 1000/bp.MessageTxPerSec)
	}
	if h, tx := rooms.ServerOrg, rooms.ServerTx; h != nil && tx != nil && h.MeanMS != nil && tx.MeanMS != nil && rooms.CPU != nil {
		lag := ""
		if l := rooms.BrokerLag; l != nil && l.P50MS != nil {
			lag = fmt.Sprintf("; broker lag (publish on one instance to publish on the other) p50 %s, p99 %s over %.0f events",
				formatValue(l.P50MS, unitMS), formatValue(l.P99MS, unitMS), l.Count)
		}
		e.note("postgres: at %d rooms the two instances kept %.2f CPUs busy, PostgreSQL's backends %.2f and the load generator %.2f; org API POST mean %.1f ms (p99 %s); append_message mean %.2f ms (p99 %s)%s; delivery p99 customer on A → B %s, agent on B → customer on A %s",
			rooms.Rooms, rooms.CPU.Server, rooms.CPU.Postgres, rooms.CPU.Bench, *h.MeanMS, formatValue(h.P99MS, unitMS), *tx.MeanMS, formatValue(tx.P99MS, unitMS), lag,
			formatValue(optMS99(*rooms.ToOther), unitMS), formatValue(optMS99(*rooms.ToCustomer), unitMS))
	}
	if bn.Received != int64(bn.Sent) {
		e.note("postgres: the bare NOTIFY→LISTEN run received %d of %d notifications", bn.Received, bn.Sent)
	}
	return nil
}

// postgresRows are the scenario's rows from whatever was measured.
func postgresRows(e *env, r pgResults) []Row {
	p := e.p
	var sq sqliteFigures
	if e.sqlite != nil {
		sq = *e.sqlite
	}
	const sqlite = "SQLite, one instance"
	var handoffRate, postP99, stored, p50, p99, sent, violations, checked, failed *float64
	var ins1, ins16, append1, notifyP50, notifyP99, notifySent, probeNotify, probeInsert *float64
	if pr := r.Probes; pr != nil && pr.Notify.Latency.Count > 0 && pr.Insert.Count > 0 {
		probeNotify, probeInsert = fp(msOf(pr.Notify.Latency.P99)), fp(msOf(pr.Insert.P99))
	}
	var convs, rooms int
	errs := 0
	if b := r.BarePG; b != nil {
		ins1, ins16, append1 = fp(b.InsertTxPerSec), fp(b.InsertRowsPerSec), fp(b.MessageTxPerSec)
	}
	if n := r.BareNotify; n != nil && n.Latency.Count > 0 {
		notifyP50, notifyP99, notifySent = fp(msOf(n.Latency.P50)), fp(msOf(n.Latency.P99)), fp(n.SentPerSec)
	}
	if h := r.Handoff; h != nil {
		handoffRate, postP99 = fp(h.Rate), optMS99(h.Post)
		errs += h.errs
	}
	if t := r.Throughput; t != nil {
		stored, convs = fp(t.MessagesPerSec), t.Conversations
		errs += t.errs
	}
	if m := r.Rooms; m != nil {
		p50, p99, sent, rooms = optMS(m.Delivery), optMS99(m.Delivery), fp(m.SentPerSec), m.Rooms
		errs += m.errs
	}
	var prP50, prP99, cpuPerMsg, prCPUPerMsg *float64
	if pr := r.PersistedRelay; pr != nil && pr.Delivery.Count > 0 {
		prP50, prP99 = optMS(pr.Delivery), optMS99(pr.Delivery)
		prCPUPerMsg = pr.CPU.serverMicrosPer(pr.Sent)
		errs += pr.errs
	}
	if m := r.Rooms; m != nil {
		cpuPerMsg = m.CPU.serverMicrosPer(m.Sent)
	}
	if r.Throughput != nil && r.Rooms != nil {
		violations = fp(float64(r.Throughput.Tracker.Violations + r.Rooms.Tracker.Violations))
		checked = fp(float64(r.Throughput.Tracker.Delivered + r.Rooms.Tracker.Delivered))
		failed = fp(float64(errs))
	}
	if convs == 0 {
		convs = p.ChatConversations
	}
	if rooms == 0 {
		rooms = p.Rooms
	}
	rl := fmt.Sprintf("%d rooms × %g msg/s", rooms, p.RoomRate)
	return []Row{
		newRow("postgres", fmt.Sprintf("hand-offs/s at peak on instance A (%d customers; form, POST, chat page, socket)", p.Concurrency), unitPerSec,
			handoffRate, sq.HandoffRate, sqlite, nil),
		newRow("postgres", "POST p99 at peak on instance A", unitMS, postP99, sq.PostP99, sqlite, nil),
		newRow("postgres", fmt.Sprintf("messages stored/s (%d convs; customer sockets on A, org API on B)", convs), unitPerSec,
			stored, ins1, "bare pgx INSERT 1 row/tx", &Target{ratioAtLeast, 1.0}),
		newRow("postgres", "messages stored/s vs group commit", unitPerSec, stored, ins16, fmt.Sprintf("bare pgx INSERT %d rows/tx", p.GroupSize), nil),
		newRow("postgres", "messages stored/s vs the bare SQLite loop's statements on pgx", unitPerSec, stored, append1, "bare pgx 4 stmts 1 msg/tx", nil),
		newRow("postgres", "messages stored/s vs SQLite", unitPerSec, stored, sq.StoredPerSec, sqlite, nil),
		newRow("postgres", "cross-instance delivery p50 at "+rl, unitMS, p50, notifyP50, "bare NOTIFY→LISTEN", nil),
		newRow("postgres", "cross-instance delivery p99 at "+rl, unitMS, p99, notifyP99, "bare NOTIFY→LISTEN", &Target{valueAtMost, 10}),
		newRow("postgres", fmt.Sprintf("cross-instance delivery p99 vs a bare NOTIFY→LISTEN beside it (%d/s)", probeRate), unitMS, p99, probeNotify, "bare NOTIFY→LISTEN, same load", nil),
		newRow("postgres", fmt.Sprintf("cross-instance delivery p99 vs a bare INSERT transaction beside it (%d/s)", probeRate), unitMS, p99, probeInsert, "bare pgx INSERT tx, same load", nil),
		newRow("postgres", "cross-instance delivery p50 vs SQLite's same-instance delivery", unitMS, p50, sq.RoomsP50, sqlite, nil),
		newRow("postgres", "cross-instance delivery p99 vs SQLite's same-instance delivery", unitMS, p99, sq.RoomsP99, sqlite, nil),
		newRow("postgres", "cross-instance delivery p50 at "+rl, unitMS, p50, prP50, "bare pgx persisted relay", &Target{ratioAtMost, 2}),
		newRow("postgres", "cross-instance delivery p99 at "+rl, unitMS, p99, prP99, "bare pgx persisted relay", &Target{ratioAtMost, 2}),
		newRow("postgres", "the instances' CPU per message at "+rl, unitMicros, cpuPerMsg, prCPUPerMsg, "bare pgx persisted relay", &Target{ratioAtMost, 2}),
		newRow("postgres", "messages sent/s at "+rl, unitPerSec, sent, notifySent, "bare NOTIFY/s", nil),
		newRow("postgres", "exactly-once, in-order violations (both instances' sockets)", unitCount, violations, nil, "", &Target{valueEqual, 0}),
		newRow("postgres", "messages checked on every socket", unitCount, checked, nil, "", nil),
		newRow("postgres", "failed hand-offs, sends and socket errors", unitCount, failed, nil, "", &Target{valueEqual, 0}),
	}
}

// redactURL is a database URL without its password, for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

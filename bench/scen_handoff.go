package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// handoffRun is one load run of form submissions.
type handoffRun struct {
	Stats  runStats          `json:"stats"`
	Rate   float64           `json:"ratePerSec"`
	Target float64           `json:"targetRatePerSec,omitempty"` // paced runs
	Post   Summary           `json:"post"`
	Errors map[string]string `json:"errors,omitempty"`
	errs   int
}

// runHandoffs runs submissions against t, closed loop with workers (rate 0)
// or paced at rate, each by a fresh browser (cookie jar) on a shared
// transport; full runs the whole hand-off, otherwise only the form's GET
// and POST.
func runHandoffs(ctx context.Context, t target, workers int, rate float64, max int, d time.Duration, full bool) handoffRun {
	tr := newTransport(workers * 2)
	defer tr.CloseIdleConnections()
	errs := newErrorCounter()
	var post Recorder
	fn := func(ctx context.Context, i int) error {
		b := newBrowser(t, tr)
		var r handoffResult
		var err error
		if full {
			r, err = b.handoff(ctx, i)
		} else {
			r, err = b.submitForm(ctx, i)
		}
		if err != nil {
			if ctx.Err() == nil {
				errs.add(err)
			}
			return err
		}
		post.Record(r.Post)
		return nil
	}
	var st runStats
	if rate > 0 {
		st = runPaced(ctx, workers, rate, max, d, fn)
	} else {
		st = runClosed(ctx, workers, max, d, fn)
	}
	return handoffRun{Stats: st, Rate: st.Rate(), Target: rate, Post: post.Summary(), Errors: errs.summary(), errs: errs.total()}
}

// scenarioHandoff: virtual customers hand off as fast as they can (the
// peak), then at half that rate, against the server and against the bare
// form handler.
func scenarioHandoff(ctx context.Context, e *env) error {
	p := e.p
	srv, err := e.startHandoff(ctx, "handoff")
	if err != nil {
		return err
	}
	t := newTarget(srv, apiToken)
	e.logf("handoff: peak, %d customers, up to %d hand-offs or %v", p.Concurrency, p.HandoffMax, p.HandoffTime)
	s0, _ := scrape(ctx, t.metrics)
	cpu := startCPU(srv)
	profiledPeak := e.profileDuring(ctx, "peak", []*proc{srv}, p.HandoffTime-time.Second)
	peak := runHandoffs(ctx, t, p.Concurrency, 0, p.HandoffMax, p.HandoffTime, true)
	peakCPU := cpu()
	profiledPeak()
	s1, _ := scrape(ctx, t.metrics)
	e.logf("handoff: peak %.0f/s, POST p99 %.1f ms, %d failed", peak.Rate, msOf(peak.Post.P99), peak.errs)
	half := peak.Rate / 2
	var paced handoffRun
	if half > 0 && ctx.Err() == nil {
		e.logf("handoff: paced at %.0f/s for %v", half, p.HalfTime)
		paced = runHandoffs(ctx, t, p.Concurrency*4, half, int(half*p.HalfTime.Seconds())+1, p.HalfTime, true)
		e.logf("handoff: paced %.0f/s achieved, POST p99 %.1f ms", paced.Rate, msOf(paced.Post.P99))
	}
	s2, _ := scrape(ctx, t.metrics)
	// The same steps as the bare run (the form's GET and POST, no chat page
	// or socket), to tell the POST's cost from the flow's length.
	var form handoffRun
	if ctx.Err() == nil {
		e.logf("handoff: form GET + POST only, peak")
		profiled := e.profileDuring(ctx, "form", []*proc{srv}, p.BareTime-time.Second)
		form = runHandoffs(ctx, t, p.Concurrency, 0, p.HandoffMax, p.BareTime, false)
		profiled()
		e.logf("handoff: form only %.0f/s, POST p99 %.1f ms", form.Rate, msOf(form.Post.P99))
	}
	e.stopProc(srv)
	walPeak := srv.wal.peakMB()

	bare, err := e.startBare(ctx, "form", "bare-form", filepath.Join(e.tmp, "bare-form.db"))
	if err != nil {
		return err
	}
	defer e.stopProc(bare)
	bt := newTarget(bare, "")
	e.logf("handoff: bare form handler, peak")
	bpeak := runHandoffs(ctx, bt, p.Concurrency, 0, p.HandoffMax, p.BareTime, false)
	var bpaced handoffRun
	if half > 0 && ctx.Err() == nil {
		bpaced = runHandoffs(ctx, bt, p.Concurrency*4, half, int(half*p.HalfTime.Seconds()/2)+1, p.HalfTime/2, false)
	}
	e.logf("handoff: bare peak %.0f/s, POST p99 %.1f ms; at %.0f/s p99 %.1f ms", bpeak.Rate, msOf(bpeak.Post.P99), half, msOf(bpaced.Post.P99))

	// The server's own request times, from its histogram: where a hand-off's
	// time goes, apart from the load generator's.
	route := func(method, path string) map[string]string { return map[string]string{"method": method, "route": path} }
	const reqHist = "handoff_http_request_duration_seconds"
	serverPeak := map[string]histStats{
		"GET /forms/:form":         histBetween(s0, s1, reqHist, route("GET", "/forms/:form")),
		"POST /forms/:form":        histBetween(s0, s1, reqHist, route("POST", "/forms/:form")),
		"GET /conversations/:id":   histBetween(s0, s1, reqHist, route("GET", "/conversations/:id")),
		"create_conversation (tx)": histBetween(s0, s1, "handoff_store_transaction_seconds", map[string]string{"op": "create_conversation"}),
	}
	serverHalf := histBetween(s1, s2, reqHist, route("POST", "/forms/:form"))
	txHalf := histBetween(s1, s2, "handoff_store_transaction_seconds", map[string]string{"op": "create_conversation"})
	e.detail("handoff", map[string]any{"peak": peak, "halfPeak": paced, "formOnlyPeak": form, "barePeak": bpeak, "bareHalfPeak": bpaced,
		"serverTimesAtPeak": serverPeak, "cpuAtPeak": peakCPU, "serverPostAtHalfPeak": serverHalf, "serverCreateTxAtHalfPeak": txHalf,
		"walPeakMB": walPeak})
	if serverHalf.P99MS != nil && txHalf.P99MS != nil {
		e.note("handoff: at half peak the server's POST p99 is %s and its create_conversation transaction's p99 %s (the wait for the writer included)",
			formatValue(serverHalf.P99MS, unitMS), formatValue(txHalf.P99MS, unitMS))
	}
	var parts []string
	for _, k := range []string{"GET /forms/:form", "POST /forms/:form", "GET /conversations/:id", "create_conversation (tx)"} {
		if h := serverPeak[k]; h.MeanMS != nil {
			parts = append(parts, fmt.Sprintf("%s %.2f ms", k, *h.MeanMS))
		}
	}
	if len(parts) > 0 {
		e.note("handoff: at peak the server kept %.2f CPUs busy and the load generator %.2f; mean server time per request (its histogram): %s",
			peakCPU.Server, peakCPU.Bench, strings.Join(parts, ", "))
	}
	if paced.Stats.OK > 0 && paced.Rate < 0.95*half {
		e.note("handoff: the paced run reached %.0f/s of the %.0f/s asked", paced.Rate, half)
	}
	e.sqliteFigures().HandoffRate, e.sqliteFigures().PostP99 = fp(peak.Rate), optMS99(peak.Post)
	const ref = "bare form"
	e.add(
		// The target compares like with like: the reference does the form's
		// GET and POST only. The whole flow (also the chat page and the
		// socket) is shown beside it, against the same reference.
		newRow("handoff", "form GET + POST/s at peak (the bare run's steps)", unitPerSec, fp(form.Rate), fp(bpeak.Rate), ref+" POST/s", &Target{ratioAtLeast, 0.9}),
		newRow("handoff", fmt.Sprintf("hand-offs/s at peak (%d customers; form, POST, chat page, socket)", p.Concurrency), unitPerSec,
			fp(peak.Rate), fp(bpeak.Rate), ref+" POST/s", &Target{ratioAtLeast, 0.5}),
		newRow("handoff", "POST p50 at peak", unitMS, fp(msOf(peak.Post.P50)), fp(msOf(bpeak.Post.P50)), ref, nil),
		newRow("handoff", "POST p99 at peak", unitMS, fp(msOf(peak.Post.P99)), fp(msOf(bpeak.Post.P99)), ref, nil),
		newRow("handoff", fmt.Sprintf("POST p50 at half peak (%.0f/s)", half), unitMS, optMS(paced.Post), optMS(bpaced.Post), ref, nil),
		newRow("handoff", fmt.Sprintf("POST p99 at half peak (%.0f/s)", half), unitMS, optMS99(paced.Post), optMS99(bpaced.Post), ref, &Target{valueAtMost, 30}),
		newRow("handoff", "POST p99 at half peak, server side (histogram)", unitMS, serverHalf.P99MS, nil, "", nil),
		newRow("handoff", "SQLite WAL peak (the server's handoff.db-wal, all runs)", unitMB, fp(walPeak), nil, "", &Target{valueAtMost, 64}),
		newRow("handoff", "failed hand-offs", unitCount, fp(float64(peak.errs+paced.errs+form.errs)), fp(float64(bpeak.errs+bpaced.errs)), ref, &Target{valueEqual, 0}),
	)
	return nil
}

// optMS is a summary's median in ms, or nil without samples.
func optMS(s Summary) *float64 {
	if s.Count == 0 {
		return nil
	}
	return fp(msOf(s.P50))
}

// optMS99 is a summary's p99 in ms, or nil without samples.
func optMS99(s Summary) *float64 {
	if s.Count == 0 {
		return nil
	}
	return fp(msOf(s.P99))
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"time"
)

// pageRun is a run of GETs of one page.
type pageRun struct {
	Path         string            `json:"path"`
	Stats        runStats          `json:"stats"`
	Rate         float64           `json:"ratePerSec"`
	Client       Summary           `json:"client"`
	ServerMedian *float64          `json:"serverMedianMs,omitempty"`
	ServerCount  float64           `json:"serverCount,omitempty"`
	Errors       map[string]string `json:"errors,omitempty"`
}

// getPages GETs path n times with workers in parallel through b.
func getPages(ctx context.Context, b *browser, path string, n, workers int) pageRun {
	var rec Recorder
	errs := newErrorCounter()
	st := runClosed(ctx, workers, n, time.Minute, func(ctx context.Context, _ int) error {
		start := time.Now()
		res, body, err := b.get(ctx, path, nil)
		if err == nil && res.StatusCode != http.StatusOK {
			err = &statusError{"GET " + path, res.StatusCode, snippet(body)}
		}
		if err != nil {
			if ctx.Err() == nil {
				errs.add(err)
			}
			return err
		}
		rec.Record(time.Since(start))
		return nil
	})
	return pageRun{Path: path, Stats: st, Rate: st.Rate(), Client: rec.Summary(), Errors: errs.summary()}
}

// checkCount GETs path once and checks that marker occurs want times: the
// page measured is the page meant.
func checkCount(ctx context.Context, b *browser, path, marker string, want int) error {
	res, body, err := b.get(ctx, path, nil)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return &statusError{"GET " + path, res.StatusCode, snippet(body)}
	}
	if got := bytes.Count(body, []byte(marker)); got != want {
		return fmt.Errorf("GET %s: %d × %s, want %d", path, got, marker, want)
	}
	return nil
}

// serverMedian is the median, in ms, of route's 200 GETs observed between
// two scrapes of the server's request histogram.
func serverMedian(before, after []promSample, route string) (*float64, float64) {
	match := map[string]string{"route": route, "method": "GET", "status": "200"}
	const name = "handoff_http_request_duration_seconds"
	d := histDelta(promHistogram(after, name, match), promHistogram(before, name, match))
	q, ok := histQuantile(d, 0.5)
	if !ok {
		return nil, 0
	}
	return fp(q * 1000), d[len(d)-1].Count
}

// scenarioHistory: a 100-message chat page and a 100-row conversation list,
// on the server (its own request histogram gives the server time) and on
// the bare form handler (its own handler timer).
func scenarioHistory(ctx context.Context, e *env) error {
	p := e.p
	srv, err := e.startHandoff(ctx, "history")
	if err != nil {
		return err
	}
	t := newTarget(srv, apiToken)
	tr := newTransport(p.HistoryWorkers * 2)
	b := newBrowser(t, tr)
	e.logf("history: seeding %d messages and %d conversations", p.HistoryMessages, p.HistoryConvs)
	first, err := b.submitForm(ctx, 0)
	if err != nil {
		e.stopProc(srv)
		return err
	}
	conv := first.ConversationID
	httpc := &http.Client{Transport: tr, Timeout: 15 * time.Second}
	for i := 2; i <= p.HistoryMessages; i++ {
		tag := fmt.Sprintf("h%d", i)
		if _, err := orgSend(ctx, httpc, t, conv, tag, benchBody(tag)); err != nil {
			e.stopProc(srv)
			return fmt.Errorf("seed messages: %w", err)
		}
	}
	for i := 1; i < p.HistoryConvs; i++ {
		if _, err := b.submitForm(ctx, i); err != nil {
			e.stopProc(srv)
			return fmt.Errorf("seed conversations: %w", err)
		}
	}
	pagePath, listPath := "/conversations/"+conv, fmt.Sprintf("/conversations?pageSize=%d", min(p.HistoryConvs, 100))
	// The first view marks the thread read (a write); the runs measure reads.
	for _, c := range []struct{ path, marker string }{{pagePath, `data-testid="message"`}, {listPath, `data-testid="conversation-row"`}} {
		want := p.HistoryMessages
		if c.path == listPath {
			want = min(p.HistoryConvs, 100)
		}
		if err := checkCount(ctx, b, c.path, c.marker, want); err != nil {
			e.note("history: %v", err)
		}
	}
	// What a browser transfers for the chat page, with an empty cache and
	// again with what it kept.
	firstVisit, repeatVisit, verr := measureVisits(ctx, b, pagePath)
	if verr != nil {
		e.note("history: %v", verr)
	}
	before, err := scrape(ctx, t.metrics)
	if err != nil {
		e.stopProc(srv)
		return err
	}
	e.logf("history: %d GETs of each page, %d at a time", p.HistoryRequests, p.HistoryWorkers)
	page := getPages(ctx, b, pagePath, p.HistoryRequests, p.HistoryWorkers)
	mid, err := scrape(ctx, t.metrics)
	if err != nil {
		e.stopProc(srv)
		return err
	}
	list := getPages(ctx, b, listPath, p.HistoryRequests, p.HistoryWorkers)
	after, err := scrape(ctx, t.metrics)
	e.stopProc(srv)
	if err != nil {
		return err
	}
	page.ServerMedian, page.ServerCount = serverMedian(before, mid, "/conversations/:id")
	list.ServerMedian, list.ServerCount = serverMedian(mid, after, "/conversations")

	// The bare form handler over the same data.
	db := filepath.Join(e.tmp, "bare-history.db")
	customer, bconv, err := seedBareHistory(ctx, db, p.HistoryMessages, p.HistoryConvs)
	if err != nil {
		return fmt.Errorf("seed the bare database: %w", err)
	}
	bare, err := e.startBare(ctx, "form", "bare-history", db)
	if err != nil {
		return err
	}
	defer e.stopProc(bare)
	bb := newBrowser(newTarget(bare, ""), newTransport(p.HistoryWorkers*2))
	u, _ := url.Parse(bare.base())
	bb.jar.SetCookies(u, []*http.Cookie{{Name: bareCookie, Value: bareCookieValue(customer), Path: "/"}})
	bpagePath := "/conversations/" + bconv
	if err := checkCount(ctx, bb, bpagePath, `data-testid="message"`, p.HistoryMessages); err != nil {
		e.note("history (bare): %v", err)
	}
	if err := checkCount(ctx, bb, listPath, `data-testid="conversation-row"`, min(p.HistoryConvs, 100)); err != nil {
		e.note("history (bare): %v", err)
	}
	bpage := getPages(ctx, bb, bpagePath, p.HistoryRequests, p.HistoryWorkers)
	blist := getPages(ctx, bb, listPath, p.HistoryRequests, p.HistoryWorkers)
	var bst bareStats
	if res, body, err := bb.get(ctx, "/stats", nil); err == nil && res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &bst); err != nil {
			e.note("history (bare): stats: %v", err)
		}
	}
	bpage.ServerMedian, blist.ServerMedian = fp(msOf(bst.Page.P50)), fp(msOf(bst.List.P50))
	e.logf("history: chat page %.0f/s server median %s; list %.0f/s server median %s",
		page.Rate, formatValue(page.ServerMedian, unitMS), list.Rate, formatValue(list.ServerMedian, unitMS))
	e.detail("history", map[string]any{"page": page, "list": list, "barePage": bpage, "bareList": blist, "firstVisit": firstVisit, "repeatVisit": repeatVisit})

	const ref = "bare net/http"
	pm := fmt.Sprintf("chat page (%d messages)", p.HistoryMessages)
	lm := fmt.Sprintf("conversation list (%d rows)", min(p.HistoryConvs, 100))
	e.add(
		newRow("history", pm+": server median", unitMS, page.ServerMedian, bpage.ServerMedian, ref, &Target{ratioAtMost, 2}),
		newRow("history", pm+fmt.Sprintf(": requests/s (%d at a time)", p.HistoryWorkers), unitPerSec, fp(page.Rate), fp(bpage.Rate), ref, nil),
		newRow("history", pm+": client p99", unitMS, optMS99(page.Client), optMS99(bpage.Client), ref, nil),
		newRow("history", lm+": server median", unitMS, list.ServerMedian, blist.ServerMedian, ref, &Target{ratioAtMost, 2}),
		newRow("history", lm+fmt.Sprintf(": requests/s (%d at a time)", p.HistoryWorkers), unitPerSec, fp(list.Rate), fp(blist.Rate), ref, nil),
		newRow("history", lm+": client p99", unitMS, optMS99(list.Client), optMS99(blist.Client), ref, nil),
		newRow("history", pm+": first visit, requests", unitCount, fp(float64(firstVisit.Requests)), nil, "", nil),
		newRow("history", pm+": first visit, bytes", unitKB, fp(float64(firstVisit.Bytes)/1024), nil, "", nil),
		newRow("history", pm+": repeat visit, requests", unitCount, fp(float64(repeatVisit.Requests)), nil, "", nil),
		newRow("history", pm+": repeat visit, bytes", unitKB, fp(float64(repeatVisit.Bytes)/1024), nil, "", nil),
		newRow("history", "failed requests", unitCount, fp(float64(page.Stats.Failed+list.Stats.Failed)), fp(float64(bpage.Stats.Failed+blist.Stats.Failed)), ref, &Target{valueEqual, 0}),
	)
	return nil
}

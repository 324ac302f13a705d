package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// inputTag matches an <input …> start tag; inputAttr its attributes.
var (
	inputTag  = regexp.MustCompile(`(?is)<input\b[^>]*>`)
	inputAttr = regexp.MustCompile(`(?is)([a-z][a-z0-9_:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))`)
)

// hiddenInputs returns the values of the hidden inputs of page, by name, as
// a browser would submit them.
func hiddenInputs(page []byte) map[string]string {
	out := map[string]string{}
	for _, tag := range inputTag.FindAll(page, -1) {
		attrs := map[string]string{}
		for _, m := range inputAttr.FindAllSubmatch(tag, -1) {
			v := string(m[2]) + string(m[3]) + string(m[4])
			attrs[strings.ToLower(string(m[1]))] = html.UnescapeString(v)
		}
		if strings.EqualFold(attrs["type"], "hidden") && attrs["name"] != "" {
			out[attrs["name"]] = attrs["value"]
		}
	}
	return out
}

// target is a server under test as the load generator sees it.
type target struct {
	base   string // http://127.0.0.1:port
	origin string // the Origin a same-site browser sends
	token  string // organization API bearer token, if any
	// metrics is where the server serves /metrics: base, or with -profile
	// a loopback listener of its own that also serves the profiles.
	metrics string
}

func newTarget(p *proc, token string) target {
	return target{base: p.base(), origin: p.base(), token: token, metrics: p.metricsBase()}
}

// newTransport is an HTTP transport for one load-generating client: keeps
// connections alive, never compresses, bounded timeouts.
func newTransport(maxConns int) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:           d.DialContext,
		MaxIdleConns:          maxConns,
		MaxIdleConnsPerHost:   maxConns,
		MaxConnsPerHost:       maxConns,
		IdleConnTimeout:       30 * time.Second,
		DisableCompression:    true,
		ResponseHeaderTimeout: 15 * time.Second,
	}
}

// browser is one virtual customer: a cookie jar, no automatic redirects.
type browser struct {
	t      target
	jar    http.CookieJar
	client *http.Client
}

func newBrowser(t target, tr http.RoundTripper) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, jar: jar, client: &http.Client{
		Transport:     tr,
		Jar:           jar,
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// on is the same customer (cookies, connections) talking to another
// instance of the same site, t.
func (b *browser) on(t target) *browser {
	return &browser{t: t, jar: b.jar, client: b.client}
}

// statusError is an unexpected HTTP answer.
type statusError struct {
	op     string
	status int
	body   string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s: status %d: %s", e.op, e.status, e.body)
}

func (b *browser) get(ctx context.Context, path string, header http.Header) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.t.base+path, nil)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := b.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res, body, err
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// handoffResult is what one hand-off produced.
type handoffResult struct {
	ConversationID string
	Post           time.Duration // the POST alone, request to full response
}

// formValues are the contact form's fields as a customer fills them in.
func formValues(i int, hidden map[string]string) url.Values {
	v := url.Values{
		"name":        {fmt.Sprintf("Bench Customer %d", i)},
		"email":       {fmt.Sprintf("bench%d@example.com", i)},
		"topic":       {"order"},
		"orderNumber": {fmt.Sprintf("A-%05d", i%100000)},
		"message":     {fmt.Sprintf("Hello, my order A-%05d has not arrived yet. Could you check where it is? (bench %d)", i%100000, i)},
	}
	for k, val := range hidden {
		v.Set(k, val)
	}
	return v
}

// submitForm GETs /forms/contact, reads its hidden inputs and POSTs the
// filled-in form the way a browser on the same site does. It expects 303 to
// /conversations/{id}.
func (b *browser) submitForm(ctx context.Context, i int) (handoffResult, error) {
	var r handoffResult
	res, page, err := b.get(ctx, "/forms/contact", http.Header{"Referer": {b.t.base + "/"}})
	if err != nil {
		return r, fmt.Errorf("GET form: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return r, &statusError{"GET form", res.StatusCode, snippet(page)}
	}
	hidden := hiddenInputs(page)
	if hidden["submissionId"] == "" {
		return r, errors.New("GET form: no hidden submissionId in the page")
	}
	body := formValues(i, hidden).Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.t.base+"/forms/contact", strings.NewReader(body))
	if err != nil {
		return r, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.t.origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Referer", b.t.base+"/forms/contact")
	req.Header.Set("Accept-Language", "en-GB,en;q=0.8")
	start := time.Now()
	pres, err := b.client.Do(req)
	if err != nil {
		return r, fmt.Errorf("POST form: %w", err)
	}
	pbody, err := io.ReadAll(pres.Body)
	pres.Body.Close()
	r.Post = time.Since(start)
	if err != nil {
		return r, fmt.Errorf("POST form: %w", err)
	}
	if pres.StatusCode != http.StatusSeeOther {
		return r, &statusError{"POST form", pres.StatusCode, snippet(pbody)}
	}
	loc := pres.Header.Get("Location")
	id, ok := strings.CutPrefix(loc, "/conversations/")
	if !ok || id == "" || strings.ContainsAny(id, "/?#") {
		return r, fmt.Errorf("POST form: 303 to %q, want /conversations/{id}", loc)
	}
	r.ConversationID = id
	return r, nil
}

// handoff is the whole browser flow: the form, the POST, the chat page and
// the chat socket (hello, then closed). It returns the POST's latency.
func (b *browser) handoff(ctx context.Context, i int) (handoffResult, error) {
	r, err := b.submitForm(ctx, i)
	if err != nil {
		return r, err
	}
	res, page, err := b.get(ctx, "/conversations/"+r.ConversationID, nil)
	if err != nil {
		return r, fmt.Errorf("GET chat: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return r, &statusError{"GET chat", res.StatusCode, snippet(page)}
	}
	conn, err := b.dial(ctx, r.ConversationID, 1)
	if err != nil {
		return r, err
	}
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	conn.Close()
	return r, nil
}

// dial opens the conversation's chat socket with the session cookie and the
// site's Origin, and sends hello resuming after afterSeq.
func (b *browser) dial(ctx context.Context, conversationID string, afterSeq int64) (*websocket.Conn, error) {
	d := websocket.Dialer{
		HandshakeTimeout: 10 * time.Second,
		Jar:              b.jar,
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
	}
	u := "ws" + strings.TrimPrefix(b.t.base, "http") + "/conversations/" + conversationID + "/ws"
	conn, res, err := d.DialContext(ctx, u, http.Header{"Origin": {b.t.origin}})
	if err != nil {
		if res != nil {
			return nil, &statusError{"dial chat socket", res.StatusCode, err.Error()}
		}
		return nil, fmt.Errorf("dial chat socket: %w", err)
	}
	hello, _ := json.Marshal(map[string]any{"type": "hello", "afterSeq": afterSeq})
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := conn.WriteMessage(websocket.TextMessage, hello); err != nil {
		conn.Close()
		return nil, fmt.Errorf("chat socket hello: %w", err)
	}
	return conn, nil
}

// orgSend posts an agent's message through the organization API and returns
// the seq the server assigned.
func orgSend(ctx context.Context, c *http.Client, t target, conversationID, tag, body string) (int64, error) {
	b, _ := json.Marshal(map[string]string{"body": body, "authorType": "agent", "authorName": "Bench", "clientMessageId": tag})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/api/v1/org/conversations/"+conversationID+"/messages", bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+t.token)
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	rb, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusCreated {
		return 0, &statusError{"org API send", res.StatusCode, snippet(rb)}
	}
	var m struct {
		Seq int64 `json:"seq"`
	}
	if err := json.Unmarshal(rb, &m); err != nil || m.Seq == 0 {
		return 0, fmt.Errorf("org API send: no seq in %s", snippet(rb))
	}
	return m.Seq, nil
}

// scrape reads and parses a server's /metrics.
func scrape(ctx context.Context, base string) ([]promSample, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, &statusError{"GET /metrics", res.StatusCode, snippet(b)}
	}
	return parseProm(b)
}

// errorCounter counts errors by a short kind, keeping one example of each.
// Safe for concurrent use.
type errorCounter struct {
	mu       sync.Mutex
	counts   map[string]int
	examples map[string]string
}

func newErrorCounter() *errorCounter {
	return &errorCounter{counts: map[string]int{}, examples: map[string]string{}}
}

// add records err under a kind derived from it.
func (e *errorCounter) add(err error) {
	if err == nil {
		return
	}
	kind := err.Error()
	var se *statusError
	if errors.As(err, &se) {
		kind = fmt.Sprintf("%s: %d", se.op, se.status)
	} else if i := strings.IndexByte(kind, ':'); i > 0 {
		kind = kind[:i]
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts[kind]++
	if _, ok := e.examples[kind]; !ok {
		e.examples[kind] = err.Error()
	}
}

// total is the number of errors recorded.
func (e *errorCounter) total() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.counts {
		n += c
	}
	return n
}

// summary lists each kind with its count and an example.
func (e *errorCounter) summary() map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]string{}
	for k, c := range e.counts {
		out[k] = fmt.Sprintf("%d× e.g. %s", c, e.examples[k])
	}
	return out
}

// Package cloudtest is a fake Kustomer organization for tests: an
// httptest server answering the part of Kustomer's v1 REST API that
// handoff's relay (package kustomer/cloud) uses, from in-memory state, and
// a sender of Kustomer's outbound webhook deliveries.
//
// Every request is checked against Kustomer's own OpenAPI export (embedded,
// see spec.go) with kin-openapi: a request the export does not allow is
// answered 400 and recorded as a violation, and the test that started the
// fake fails at its end unless it called ExpectViolations. So a relay that
// sends what Kustomer would refuse fails its tests here, not in production.
//
//	f := cloudtest.Start(t, "key")
//	// point the relay at f.URL with "key": it requests f.URL+"/v1/..."
//	…
//	msgs := f.Messages(convID)                  // what the relay posted
//	d := f.MessageCreated(convID, "Hi!", "out") // an agent's reply …
//	f.Send(t, receiverURL, token, d)            // … delivered, signed
//
// The contract it follows is CONTRACT.md §3 and §5 (handoff's shared notes
// on Kustomer); where that leaves a fact unconfirmed the fake picks one
// answer and says so on the method concerned.
package cloudtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// maxBody bounds a request body the fake reads.
const maxBody = 16 << 20

// Fake is a fake Kustomer organization. Its methods are safe for
// concurrent use.
type Fake struct {
	// URL is the server's base URL, without /v1: requests go to
	// URL + "/v1/...".
	URL string
	// APIKey is the key requests must carry as "Authorization: Bearer <key>".
	APIKey string
	// OrgID is the organization's id, in every resource's relationships
	// and in every delivery's org and partition.
	OrgID string
	// UserID is the API key's user: createdBy and modifiedBy of what the
	// API creates or changes.
	UserID string
	// AgentID is the agent user MessageCreated and ConversationUpdated
	// credit: an agent's reply is createdBy this user.
	AgentID string

	spec *spec
	srv  *httptest.Server

	mu            sync.Mutex
	customers     []*customer
	conversations []*conversation
	messages      map[string][]*message // by conversation id, in creation order
	hooks         []*OutboundWebhook
	requests      []Request
	violations    []Violation
	expect        bool
	failN         int
	failStatus    int
	failHeader    http.Header
	down          bool
	last          time.Time // the last timestamp handed out
}

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string // the URL path, escaped as sent
	Query  string // the raw query, without '?'
	Body   []byte
	// Status is what the fake answered, 0 when it closed the connection
	// without answering (SetDown).
	Status int
}

// Violation is a request the contract does not allow.
type Violation struct {
	Method string
	Path   string // the URL path, escaped as sent
	Reason string // what the export (or CONTRACT.md) does not allow
}

func (v Violation) String() string { return v.Method + " " + v.Path + ": " + v.Reason }

// Start starts a fake organization that takes apiKey. The server closes
// when the test ends; then every violation recorded fails the test unless
// it called ExpectViolations. Start fails the test at once if the embedded
// OpenAPI export does not load.
func Start(t testing.TB, apiKey string) *Fake {
	t.Helper()
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	f := &Fake{
		APIKey:   apiKey,
		OrgID:    newID(),
		UserID:   newID(),
		AgentID:  newID(),
		spec:     s,
		messages: map[string][]*message{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL
	// Cleanups run last first: the server closes (waiting for requests
	// under way), then the violations are counted.
	t.Cleanup(func() {
		f.mu.Lock()
		vs, expect := f.violations, f.expect
		f.mu.Unlock()
		if expect {
			return
		}
		for _, v := range vs {
			t.Errorf("cloudtest: refused %s", v)
		}
	})
	t.Cleanup(f.srv.Close)
	return f
}

// ExpectViolations says the test sends requests against the contract on
// purpose: the violations are still recorded (Violations) but no longer
// fail the test.
func (f *Fake) ExpectViolations() {
	f.mu.Lock()
	f.expect = true
	f.mu.Unlock()
}

// Violations returns the requests refused as against the contract, in
// order.
func (f *Fake) Violations() []Violation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Violation(nil), f.violations...)
}

// Requests returns every request received, in order.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// FailNext makes the next n requests that pass authentication answer
// status, with a JSON:API error body and header's fields (for a 429,
// Retry-After or x-ratelimit-reset; for a 503, Retry-After). They change
// no state. They are still checked against the contract.
func (f *Fake) FailNext(n, status int, header http.Header) {
	f.mu.Lock()
	f.failN, f.failStatus, f.failHeader = n, status, header.Clone()
	f.mu.Unlock()
}

// SetDown makes the fake close every connection without answering while
// down is true, as an unreachable Kustomer would look to a client.
func (f *Fake) SetDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

// serve is the whole pipeline: down, authentication, the contract, fault
// injection, the operation.
func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		f.record(r, nil, 0)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection all the same
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		f.answer(w, r, body, http.StatusBadRequest, nil, errorBody(http.StatusBadRequest, "bad_request", "Bad Request", err.Error()))
		return
	}
	if len(body) > maxBody {
		f.answer(w, r, nil, http.StatusRequestEntityTooLarge, nil, errorBody(http.StatusRequestEntityTooLarge, "too_large", "Request Entity Too Large", "the body is over 16 MB"))
		return
	}

	if !f.authorized(r) {
		h := http.Header{"Www-Authenticate": {"Bearer"}}
		f.answer(w, r, body, http.StatusUnauthorized, h, errorBody(http.StatusUnauthorized, "unauthorized", "Unauthorized", "missing or wrong API key in Authorization: Bearer <key>"))
		return
	}

	op, params, status, reason := f.check(r, body)

	f.mu.Lock()
	if reason != "" {
		f.violations = append(f.violations, Violation{Method: r.Method, Path: r.URL.EscapedPath(), Reason: reason})
	}
	injected := f.failN > 0
	var fs int
	var fh http.Header
	if injected {
		f.failN--
		fs, fh = f.failStatus, f.failHeader.Clone()
	}
	f.mu.Unlock()

	switch {
	case injected:
		f.answer(w, r, body, fs, fh, errorBody(fs, "injected", http.StatusText(fs), "cloudtest: FailNext"))
	case reason != "":
		code := "validation"
		if status != http.StatusBadRequest {
			code = strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_")
		}
		f.answer(w, r, body, status, nil, errorBody(status, code, http.StatusText(status), reason))
	default:
		status, resp := f.do(op, params, r, body)
		f.answer(w, r, body, status, nil, resp)
	}
}

// authorized checks "Authorization: Bearer <key>" (the scheme's case does
// not matter, as in RFC 9110).
func (f *Fake) authorized(r *http.Request) bool {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "Bearer") && key == f.APIKey && f.APIKey != ""
}

// check finds the request's operation and validates the request against
// the export (or, for the outbound-webhooks paths the export lacks,
// against CONTRACT.md §5). A reason says why the request is against the
// contract, with the status to answer.
func (f *Fake) check(r *http.Request, body []byte) (op string, params map[string]string, status int, reason string) {
	if p := r.URL.Path; p == "/v1/outbound-webhooks" || strings.HasPrefix(p, "/v1/outbound-webhooks/") {
		return checkOutboundWebhooks(r, body)
	}
	route, params, err := f.spec.findRoute(r)
	switch {
	case errors.Is(err, routers.ErrMethodNotAllowed):
		return "", nil, http.StatusMethodNotAllowed, "the export has no " + r.Method + " operation on this path"
	case err != nil:
		return "", nil, http.StatusNotFound, "no path of the export matches: " + err.Error()
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc, // checked by authorized
		MultiError:              true,
		SkipSettingDefaults:     true,
		SchemaValidationOptions: f.spec.formats,
	}
	opts.WithCustomSchemaErrorFunc(schemaError)
	vr := r.Clone(r.Context())
	vr.Body = io.NopCloser(bytes.NewReader(body))
	vr.GetBody = nil
	err = openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
		Request:    vr,
		PathParams: params,
		Route:      route,
		Options:    opts,
	})
	if err != nil {
		return route.Operation.OperationID, params, http.StatusBadRequest, err.Error()
	}
	if _, ok := handlers[route.Operation.OperationID]; !ok {
		return route.Operation.OperationID, params, http.StatusNotImplemented,
			"the export has this operation (" + route.Operation.OperationID + ") but the fake does not implement it"
	}
	return route.Operation.OperationID, params, 0, ""
}

// schemaError words a schema error with where it is, without the schema
// itself (kin-openapi's default quotes the whole schema, which here can be
// tens of kilobytes).
func schemaError(err *openapi3.SchemaError) string {
	msg := "/" + strings.Join(err.JSONPointer(), "/") + ": " + err.Reason
	if err.SchemaField != "" {
		msg += " (" + err.SchemaField + ")"
	}
	if f := err.SchemaField; err.Origin != nil && (f == "oneOf" || f == "anyOf" || f == "allOf") {
		msg += ": " + err.Origin.Error() // why each branch failed
	}
	return msg
}

// answer writes a JSON answer and records the request.
func (f *Fake) answer(w http.ResponseWriter, r *http.Request, body []byte, status int, h http.Header, v any) {
	f.record(r, body, status)
	for k, vs := range h {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v) // a client gone is no error of the fake's
	}
}

func (f *Fake) record(r *http.Request, body []byte, status int) {
	f.mu.Lock()
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Body: body, Status: status})
	f.mu.Unlock()
}

// errorBody is a JSON:API error document, the shape the export gives its
// 400, 401 and 404 answers.
func errorBody(status int, code, title, detail string) map[string]any {
	return map[string]any{"errors": []any{map[string]any{
		"status": fmt.Sprint(status),
		"code":   code,
		"title":  title,
		"detail": detail,
	}}}
}

// isJSON reports a JSON media type (application/json, with parameters).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// idSeq and idRand make object ids unique in the process: like MongoDB's,
// 4 bytes of seconds, 5 random, 3 of a counter, in lowercase hex.
var (
	idSeq  atomic.Uint32
	idRand = func() [5]byte {
		var b [5]byte
		rand.Read(b[:])
		return b
	}()
)

func newID() string {
	var b [12]byte
	s := uint32(time.Now().Unix())
	b[0], b[1], b[2], b[3] = byte(s>>24), byte(s>>16), byte(s>>8), byte(s)
	copy(b[4:9], idRand[:])
	n := idSeq.Add(1)
	b[9], b[10], b[11] = byte(n>>16), byte(n>>8), byte(n)
	return hex.EncodeToString(b[:])
}

// stamp is the layout of every timestamp: ISO 8601, UTC, milliseconds.
const stamp = "2006-01-02T15:04:05.000Z"

// now returns the next timestamp, always at least a millisecond after the
// last one handed out, so updatedAt orders every change. f.mu is held.
func (f *Fake) now() string {
	t := time.Now().UTC().Truncate(time.Millisecond)
	if !t.After(f.last) {
		t = f.last.Add(time.Millisecond)
	}
	f.last = t
	return t.Format(stamp)
}

package cloudtest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

const key = "test-api-key"

var (
	idRe    = regexp.MustCompile(`^[0-9a-f]{24}$`)
	stampRe = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// call sends one request to the fake with the API key and answers the
// status and the decoded JSON body. A 2xx answer (and the documented
// errors) is checked against the export's response schema for its
// operation, every property optional (see shapeSpec).
func call(t *testing.T, f *Fake, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				t.Fatal(err)
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: answer %d is not a JSON object: %v: %s", method, path, resp.StatusCode, err, raw)
	}
	checkShape(t, method, path, resp, raw)
	return resp.StatusCode, out
}

// shapeSpec is the export with no property required in a response schema:
// its response schemas were inferred from single examples (an email
// message's meta requires inReplyTo, recipient, cc…), so a chat message
// cannot meet them whole; what the fake answers must have the documented
// types and formats wherever it answers a documented property.
var shapeSpec = sync.OnceValues(func() (*spec, error) {
	s, err := newSpec()
	if err != nil {
		return nil, err
	}
	seen := map[*openapi3.Schema]bool{}
	var optional func(*openapi3.SchemaRef)
	optional = func(r *openapi3.SchemaRef) {
		if r == nil || r.Value == nil || seen[r.Value] {
			return
		}
		seen[r.Value] = true
		r.Value.Required = nil
		for _, p := range r.Value.Properties {
			optional(p)
		}
		optional(r.Value.Items)
		optional(r.Value.AdditionalProperties.Schema)
		for _, l := range []openapi3.SchemaRefs{r.Value.OneOf, r.Value.AnyOf, r.Value.AllOf} {
			for _, x := range l {
				optional(x)
			}
		}
	}
	walkOperations(s.doc, func(_ string, op *openapi3.Operation) {
		for _, resp := range op.Responses.Map() {
			for _, mt := range resp.Value.Content {
				optional(mt.Schema)
			}
		}
	})
	return s, nil
})

func checkShape(t *testing.T, method, path string, resp *http.Response, raw []byte) {
	t.Helper()
	if strings.HasPrefix(path, "/v1/outbound-webhooks") {
		return // not in the export
	}
	s, err := shapeSpec()
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(method, path, nil)
	route, params, err := s.findRoute(req)
	if err != nil {
		return // a path the export lacks: refused, checked by the caller
	}
	if route.Operation.Responses.Status(resp.StatusCode) == nil {
		return // an answer the export does not describe (404 of a look-up…)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, SchemaValidationOptions: s.formats}
	opts.WithCustomSchemaErrorFunc(schemaError)
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(raw)),
		Options:                opts,
	})
	if err != nil {
		t.Errorf("%s %s answered %d against the export's response schema (%s): %v", method, path, resp.StatusCode, route.Operation.OperationID, err)
	}
}

// get walks a decoded JSON value: get(v, "data", "attributes", "name").
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func wantStatus(t *testing.T, what string, got, want int, body map[string]any) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: status %d, want %d: %v", what, got, want, body)
	}
}

// wantResource checks the documented envelope of one resource.
func wantResource(t *testing.T, what string, body map[string]any, typ string) (string, map[string]any) {
	t.Helper()
	d, _ := body["data"].(map[string]any)
	id, _ := d["id"].(string)
	if d["type"] != typ || !idRe.MatchString(id) {
		t.Errorf("%s: data type %v id %q, want %s and 24 lowercase hex", what, d["type"], id, typ)
	}
	for _, k := range []string{"attributes", "relationships", "links"} {
		if _, ok := d[k].(map[string]any); !ok {
			t.Errorf("%s: data.%s missing: %v", what, k, d)
		}
	}
	if self := get(d, "links", "self"); self != "/v1/"+typ+"s/"+id {
		t.Errorf("%s: links.self %v", what, self)
	}
	attrs, _ := d["attributes"].(map[string]any)
	for _, k := range []string{"createdAt", "updatedAt"} {
		if s, _ := attrs[k].(string); !stampRe.MatchString(s) {
			t.Errorf("%s: %s %q, want ISO 8601 UTC with milliseconds", what, k, s)
		}
	}
	return id, attrs
}

func wantError(t *testing.T, what string, body map[string]any, status int) {
	t.Helper()
	e, _ := get(body, "errors", 0).(map[string]any)
	if e == nil || e["status"] != fmt.Sprint(status) || e["code"] == "" || e["title"] == "" {
		t.Errorf("%s: want a JSON:API error with status %q: %v", what, fmt.Sprint(status), body)
	}
}

// setup makes a customer and a conversation through the API.
func setup(t *testing.T, f *Fake) (customerID, conversationID string) {
	t.Helper()
	st, body := call(t, f, "POST", "/v1/customers", map[string]any{"name": "Ada", "emails": []any{map[string]any{"email": "ada@example.com"}}})
	wantStatus(t, "create customer", st, 201, body)
	customerID, _ = wantResource(t, "customer", body, "customer")
	st, body = call(t, f, "POST", "/v1/customers/"+customerID+"/conversations", map[string]any{"name": "Chat"})
	wantStatus(t, "create conversation", st, 201, body)
	conversationID, _ = wantResource(t, "conversation", body, "conversation")
	return customerID, conversationID
}

func TestCustomers(t *testing.T) {
	f := Start(t, key)
	in := map[string]any{
		"name":       "Ada Lovelace",
		"externalId": "handoff-42",
		"emails":     []any{map[string]any{"type": "work", "email": "Ada+chat@Example.com"}},
		"phones":     []any{map[string]any{"type": "mobile", "phone": "+44 20 7946 0958"}},
		"custom":     map[string]any{"planStr": "pro", "seatsNum": 3, "vipBool": true, "trialEndsAt": nil},
		"tags":       []any{"handoff"},
	}
	st, body := call(t, f, "POST", "/v1/customers", in)
	wantStatus(t, "create", st, 201, body)
	id, attrs := wantResource(t, "create", body, "customer")
	if attrs["name"] != "Ada Lovelace" || attrs["externalId"] != "handoff-42" || attrs["displayName"] != "Ada Lovelace" {
		t.Errorf("attributes: %v", attrs)
	}
	wantEmail := map[string]any{"type": "work", "email": "Ada+chat@Example.com", "verified": false, "id": nil}
	if e := get(attrs, "emails", 0); !reflect.DeepEqual(e, wantEmail) {
		t.Errorf("emails[0] = %v, want %v", e, wantEmail)
	}
	if c := get(attrs, "custom"); !reflect.DeepEqual(c, map[string]any{"planStr": "pro", "seatsNum": 3.0, "vipBool": true, "trialEndsAt": nil}) {
		t.Errorf("custom = %v", c)
	}
	if org := get(body, "data", "relationships", "org", "data", "id"); org != f.OrgID {
		t.Errorf("org = %v, want %s", org, f.OrgID)
	}

	for _, path := range []string{
		"/v1/customers/" + id,
		"/v1/customers/externalId=handoff-42",
		"/v1/customers/email=ada+chat@example.com", // any case
		"/v1/customers/email=Ada%2Bchat%40Example.com",
	} {
		st, got := call(t, f, "GET", path, nil)
		wantStatus(t, path, st, 200, got)
		if gid, _ := wantResource(t, path, got, "customer"); gid != id {
			t.Errorf("%s: id %s, want %s", path, gid, id)
		}
		if !reflect.DeepEqual(get(got, "data", "attributes", "custom"), get(body, "data", "attributes", "custom")) {
			t.Errorf("%s: attributes differ from the create's", path)
		}
	}
	for _, path := range []string{
		"/v1/customers/externalId=nobody",
		"/v1/customers/email=nobody@example.com",
		"/v1/customers/" + newID(),
	} {
		st, got := call(t, f, "GET", path, nil)
		wantStatus(t, path, st, 404, got)
		wantError(t, path, got, 404)
	}

	cs := f.Customers()
	if len(cs) != 1 || cs[0].ID != id || cs[0].Name != "Ada Lovelace" || cs[0].ExternalID != "handoff-42" ||
		!reflect.DeepEqual(cs[0].Emails, []string{"Ada+chat@Example.com"}) || cs[0].Custom["planStr"] != "pro" {
		t.Errorf("Customers() = %+v", cs)
	}
	var sent map[string]any
	if err := json.Unmarshal(cs[0].Body, &sent); err != nil || !reflect.DeepEqual(sent, mustRoundTrip(t, in)) {
		t.Errorf("Customers()[0].Body = %s, want the body as sent", cs[0].Body)
	}
}

func mustRoundTrip(t *testing.T, v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestConversationsAndMessages(t *testing.T) {
	f := Start(t, key)
	customerID, _ := setup(t, f)

	in := map[string]any{"name": "Contact form", "externalId": "hc-1", "status": "open",
		"custom": map[string]any{"formStr": "contact", "pageUrl": "https://shop.example/help"}, "tags": []any{"handoff", "web form"}}
	st, body := call(t, f, "POST", "/v1/customers/"+customerID+"/conversations", in)
	wantStatus(t, "create", st, 201, body)
	id, attrs := wantResource(t, "create", body, "conversation")
	if attrs["name"] != "Contact form" || attrs["status"] != "open" || attrs["ended"] != false || attrs["messageCount"] != 0.0 {
		t.Errorf("attributes: %v", attrs)
	}
	if c := get(body, "data", "relationships", "customer", "data", "id"); c != customerID {
		t.Errorf("customer relationship %v, want %s", c, customerID)
	}
	created := attrs["updatedAt"].(string)

	for _, path := range []string{"/v1/conversations/" + id, "/v1/conversations/externalId=hc-1"} {
		st, got := call(t, f, "GET", path, nil)
		wantStatus(t, path, st, 200, got)
		if !reflect.DeepEqual(got["data"], body["data"]) {
			t.Errorf("GET %s answers %v, the create %v", path, got["data"], body["data"])
		}
	}
	st, got := call(t, f, "GET", "/v1/conversations/externalId=nothing", nil)
	wantStatus(t, "look-up of nothing", st, 404, got)

	// PUT merges custom attribute by attribute; ended stamps endedAt.
	st, got = call(t, f, "PUT", "/v1/conversations/"+id, map[string]any{"custom": map[string]any{"formStr": nil, "ratingNum": 5}})
	wantStatus(t, "put custom", st, 200, got)
	_, attrs = wantResource(t, "put", got, "conversation")
	if want := map[string]any{"formStr": nil, "pageUrl": "https://shop.example/help", "ratingNum": 5.0}; !reflect.DeepEqual(attrs["custom"], want) {
		t.Errorf("custom after PUT = %v, want %v", attrs["custom"], want)
	}
	if attrs["updatedAt"].(string) <= created {
		t.Errorf("updatedAt %v not after %v", attrs["updatedAt"], created)
	}
	st, got = call(t, f, "PUT", "/v1/conversations/"+id, map[string]any{"ended": true, "endedReason": "customer left", "endedByType": "customer"})
	wantStatus(t, "put ended", st, 200, got)
	_, attrs = wantResource(t, "put", got, "conversation")
	if attrs["ended"] != true || !stampRe.MatchString(fmt.Sprint(attrs["endedAt"])) || attrs["endedReason"] != "customer left" {
		t.Errorf("after ending: %v", attrs)
	}

	// Messages.
	var msgIDs []string
	for i, dir := range []string{"in", "out", "in"} {
		in := map[string]any{"channel": "chat", "app": "handoff", "preview": fmt.Sprintf("message %d", i), "direction": dir,
			"meta": map[string]any{"handoffId": fmt.Sprint(i)}, "externalId": fmt.Sprintf("hm-%d", i)}
		st, got := call(t, f, "POST", "/v1/conversations/"+id+"/messages", in)
		wantStatus(t, "create message", st, 201, got)
		mid, a := wantResource(t, "message", got, "message")
		if a["preview"] != in["preview"] || a["direction"] != dir || a["channel"] != "chat" || a["app"] != "handoff" ||
			!reflect.DeepEqual(a["meta"], in["meta"]) || a["externalId"] != in["externalId"] {
			t.Errorf("message attributes %v", a)
		}
		if c := get(got, "data", "relationships", "conversation", "data", "id"); c != id {
			t.Errorf("conversation relationship %v", c)
		}
		msgIDs = append(msgIDs, mid)
	}
	st, got = call(t, f, "GET", "/v1/conversations/"+id+"/messages?pageSize=2", nil)
	wantStatus(t, "list", st, 200, got)
	if n := len(got["data"].([]any)); n != 2 || get(got, "data", 0, "id") != msgIDs[0] {
		t.Errorf("page 1: %d messages, first %v", n, get(got, "data", 0, "id"))
	}
	if m := got["meta"]; !reflect.DeepEqual(m, map[string]any{"page": 1.0, "pageSize": 2.0}) {
		t.Errorf("meta %v", m)
	}
	next, _ := get(got, "links", "next").(string)
	if get(got, "links", "prev") != nil || next == "" {
		t.Fatalf("links %v", got["links"])
	}
	st, got = call(t, f, "GET", next, nil)
	wantStatus(t, "list page 2", st, 200, got)
	if n := len(got["data"].([]any)); n != 1 || get(got, "data", 0, "id") != msgIDs[2] || get(got, "links", "next") != nil || get(got, "links", "prev") == nil {
		t.Errorf("page 2: %v", got)
	}

	st, got = call(t, f, "GET", "/v1/customers/"+customerID+"/conversations", nil)
	wantStatus(t, "list conversations", st, 200, got)
	if n := len(got["data"].([]any)); n != 2 || get(got, "data", 1, "id") != id {
		t.Errorf("conversations of the customer: %v", got["data"])
	}

	// Accessors.
	cv, ok := f.Conversation(id)
	if !ok || cv.CustomerID != customerID || cv.Name != "Contact form" || cv.ExternalID != "hc-1" || !cv.Ended ||
		len(cv.Updates) != 2 || cv.Custom["ratingNum"] != 5.0 || !reflect.DeepEqual(cv.Tags, []string{"handoff", "web form"}) ||
		cv.Attributes["messageCount"] != 3.0 {
		t.Errorf("Conversation(%s) = %+v", id, cv)
	}
	if !bytes.Equal(cv.Updates[0], []byte(`{"custom":{"formStr":null,"ratingNum":5}}`)) {
		t.Errorf("Updates[0] = %s", cv.Updates[0])
	}
	ms := f.Messages(id)
	if len(ms) != 3 {
		t.Fatalf("Messages = %d", len(ms))
	}
	for i, m := range ms {
		if m.ID != msgIDs[i] || m.Preview != fmt.Sprintf("message %d", i) || m.Channel != "chat" || m.CreatedBy != f.UserID ||
			!strings.Contains(string(m.Body), `"externalId":"hm-`+fmt.Sprint(i)) {
			t.Errorf("Messages[%d] = %+v", i, m)
		}
	}
	if len(f.Conversations()) != 2 {
		t.Errorf("Conversations() = %d", len(f.Conversations()))
	}

	// Unknown ids.
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/v1/customers/" + newID() + "/conversations", map[string]any{"name": "x"}},
		{"GET", "/v1/conversations/" + newID(), nil},
		{"PUT", "/v1/conversations/" + newID(), map[string]any{"ended": true}},
		{"POST", "/v1/conversations/" + newID() + "/messages", map[string]any{"channel": "chat", "app": "handoff", "preview": "x"}},
		{"GET", "/v1/conversations/" + newID() + "/messages", nil},
	} {
		st, got := call(t, f, c.method, c.path, c.body)
		wantStatus(t, c.method+" "+c.path, st, 404, got)
		wantError(t, c.path, got, 404)
	}
	if len(f.Conversations()) != 2 || len(f.Messages(id)) != 3 {
		t.Errorf("a 404 changed state")
	}

	// Requests records every one with its answer.
	rs := f.Requests()
	if len(rs) == 0 || rs[0].Method != "POST" || rs[0].Path != "/v1/customers" || rs[0].Status != 201 {
		t.Errorf("Requests()[0] = %+v", rs[0])
	}
	if last := rs[len(rs)-1]; last.Status != 404 || last.Method != "GET" {
		t.Errorf("last request %+v", last)
	}
}

func TestContractViolations(t *testing.T) {
	f := Start(t, key)
	f.ExpectViolations()
	customerID, convID := setup(t, f)
	for _, c := range []struct {
		name         string
		method, path string
		body         any
		status       int
		detail       string // in the error's detail
	}{
		{"message without channel", "POST", "/v1/conversations/" + convID + "/messages", map[string]any{"app": "handoff", "preview": "hi"}, 400, "channel"},
		{"message without app", "POST", "/v1/conversations/" + convID + "/messages", map[string]any{"channel": "chat", "preview": "hi"}, 400, "app"},
		{"message channel not in the enum", "POST", "/v1/conversations/" + convID + "/messages", map[string]any{"channel": "web", "app": "handoff"}, 400, "channel"},
		{"message preview too long", "POST", "/v1/conversations/" + convID + "/messages", map[string]any{"channel": "chat", "app": "handoff", "preview": strings.Repeat("x", 10241)}, 400, "preview"},
		{"message with no body", "POST", "/v1/conversations/" + convID + "/messages", nil, 400, "body"},
		{"customer with an unknown property", "POST", "/v1/customers", map[string]any{"name": "x", "firstName": "x"}, 400, "firstName"},
		{"customer name of the wrong type", "POST", "/v1/customers", map[string]any{"name": 5}, 400, "name"},
		{"customer email not an email", "POST", "/v1/customers", map[string]any{"emails": []any{map[string]any{"email": "nope"}}}, 400, "email"},
		{"customer email type not in the enum", "POST", "/v1/customers", map[string]any{"emails": []any{map[string]any{"email": "a@b.example", "type": "personal"}}}, 400, "type"},
		{"custom attribute holding an object", "POST", "/v1/customers", map[string]any{"custom": map[string]any{"fooStr": map[string]any{}}}, 400, "fooStr"},
		{"conversation status not in the enum", "POST", "/v1/customers/" + customerID + "/conversations", map[string]any{"status": "closed"}, 400, "status"},
		{"conversation assigned user not an object id", "POST", "/v1/customers/" + customerID + "/conversations", map[string]any{"assignedUsers": []any{"ABC"}}, 400, "object id"},
		{"conversation tag with a comma", "POST", "/v1/customers/" + customerID + "/conversations", map[string]any{"tags": []any{"a,b"}}, 400, "tags"},
		{"update with an unknown property", "PUT", "/v1/conversations/" + convID, map[string]any{"custom": map[string]any{}, "closed": true}, 400, "closed"},
		{"update ended not a boolean", "PUT", "/v1/conversations/" + convID, map[string]any{"ended": "yes"}, 400, "ended"},
		{"a path the export lacks", "GET", "/v1/chat/sessions", nil, 404, "no path"},
		{"a method the export lacks", "PATCH", "/v1/customers/email=a@b.example", map[string]any{}, 405, "PATCH"},
		{"a page that is not a number", "GET", "/v1/conversations/" + convID + "/messages?page=two", nil, 400, "page"},
		{"an operation the fake does not implement", "GET", "/v1/brands", nil, 501, "does not implement"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(f.Violations())
			st, got := call(t, f, c.method, c.path, c.body)
			wantStatus(t, c.name, st, c.status, got)
			wantError(t, c.name, got, c.status)
			if c.status == 400 && get(got, "errors", 0, "code") != "validation" {
				t.Errorf("code %v, want validation", get(got, "errors", 0, "code"))
			}
			if d, _ := get(got, "errors", 0, "detail").(string); !strings.Contains(d, c.detail) {
				t.Errorf("detail %q does not name %q", d, c.detail)
			}
			vs := f.Violations()
			if len(vs) != before+1 || vs[len(vs)-1].Method != c.method || !strings.HasPrefix(c.path, vs[len(vs)-1].Path) {
				t.Errorf("violations %v, want one more for %s %s", vs[before:], c.method, c.path)
			}
		})
	}
	// Missing Content-Type.
	req, _ := http.NewRequest("POST", f.URL+"/v1/customers", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("no Content-Type: %d", resp.StatusCode)
	}
	if len(f.Customers()) != 1 || len(f.Conversations()) != 1 || len(f.Messages(convID)) != 0 {
		t.Errorf("a refused request changed state: %d customers, %d conversations", len(f.Customers()), len(f.Conversations()))
	}
	if cv, _ := f.Conversation(convID); len(cv.Updates) != 0 {
		t.Errorf("a refused update was kept")
	}
}

// tb records what Start's cleanup reports, to check it fails the test.
type tb struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
	errors   []string
}

func (r *tb) Cleanup(fn func()) { r.cleanups = append(r.cleanups, fn) }
func (r *tb) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}
func (r *tb) end() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestViolationsFailTheTest(t *testing.T) {
	for _, expect := range []bool{false, true} {
		r := &tb{TB: t}
		f := Start(r, key)
		if expect {
			f.ExpectViolations()
		}
		_, convID := setup(t, f)
		call(t, f, "POST", "/v1/conversations/"+convID+"/messages", map[string]any{"preview": "no channel"})
		r.end()
		if want := map[bool]int{false: 1, true: 0}[expect]; len(r.errors) != want {
			t.Errorf("ExpectViolations %v: the test got %d errors %q, want %d", expect, len(r.errors), r.errors, want)
		}
		if !expect && !strings.Contains(r.errors[0], "/messages") {
			t.Errorf("error %q does not name the request", r.errors[0])
		}
	}
}

func TestAuthentication(t *testing.T) {
	f := Start(t, key)
	for name, h := range map[string]string{"no key": "", "wrong key": "Bearer nope", "basic": "Basic " + key, "no scheme": key} {
		req, _ := http.NewRequest("POST", f.URL+"/v1/customers", strings.NewReader(`{"name":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		if h != "" {
			req.Header.Set("Authorization", h)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("%s: %d, want 401", name, resp.StatusCode)
		}
		wantError(t, name, body, 401)
	}
	if len(f.Customers()) != 0 || len(f.Violations()) != 0 {
		t.Errorf("unauthenticated requests changed state or were counted as violations")
	}
	if rs := f.Requests(); len(rs) != 4 || rs[0].Status != 401 {
		t.Errorf("Requests() = %+v", rs)
	}
}

func TestFailNext(t *testing.T) {
	f := Start(t, key)
	f.FailNext(2, 503, http.Header{"Retry-After": {"1"}})
	for i := range 2 {
		req, _ := http.NewRequest("POST", f.URL+"/v1/customers", strings.NewReader(`{"name":"x"}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" {
			t.Errorf("attempt %d: %d Retry-After %q", i, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		wantError(t, "injected", body, 503)
	}
	if len(f.Customers()) != 0 {
		t.Fatalf("a failed request created a customer")
	}
	st, body := call(t, f, "POST", "/v1/customers", map[string]any{"name": "x"})
	wantStatus(t, "after the failures", st, 201, body)
}

func TestFailNextRateLimit(t *testing.T) {
	f := Start(t, key)
	f.ExpectViolations()
	_, convID := setup(t, f)
	f.FailNext(2, 429, http.Header{"X-Ratelimit-Reset": {"30"}, "X-Ratelimit-Remaining": {"0"}})
	// An unauthenticated request does not use up an injected failure.
	req, _ := http.NewRequest("GET", f.URL+"/v1/conversations/"+convID, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no key during FailNext: %d", resp.StatusCode)
	}
	msg := map[string]any{"channel": "chat", "app": "handoff", "preview": "hi"}
	st, body := call(t, f, "POST", "/v1/conversations/"+convID+"/messages", msg)
	wantStatus(t, "429", st, 429, body)
	wantError(t, "429", body, 429)
	// A request against the contract still counts as a violation while
	// failures are injected.
	st, body = call(t, f, "POST", "/v1/conversations/"+convID+"/messages", map[string]any{"preview": "no channel"})
	wantStatus(t, "429 of a bad request", st, 429, body)
	if len(f.Violations()) != 1 {
		t.Errorf("violations %v, want the one request without channel", f.Violations())
	}
	if n := len(f.Messages(convID)); n != 0 {
		t.Errorf("%d messages stored by failed requests", n)
	}
	st, body = call(t, f, "POST", "/v1/conversations/"+convID+"/messages", msg)
	wantStatus(t, "after", st, 201, body)
	n := 0
	for _, r := range f.Requests() {
		if r.Status == 429 {
			n++
		}
	}
	if n != 2 {
		t.Errorf("Requests() records %d answers 429, want 2", n)
	}
}

func TestSetDown(t *testing.T) {
	f := Start(t, key)
	f.SetDown(true)
	client := &http.Client{Timeout: 5 * time.Second}
	req, _ := http.NewRequest("GET", f.URL+"/v1/customers/"+newID(), nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("down: answered %d, want the connection closed", resp.StatusCode)
	}
	if rs := f.Requests(); len(rs) == 0 || rs[len(rs)-1].Status != 0 {
		t.Errorf("Requests() = %+v, want the request recorded with status 0", rs)
	}
	f.SetDown(false)
	st, body := call(t, f, "POST", "/v1/customers", map[string]any{"name": "back"})
	wantStatus(t, "up again", st, 201, body)
}

func TestOutboundWebhooks(t *testing.T) {
	f := Start(t, key)
	in := map[string]any{"name": "handoff", "url": "https://handoff.example/kustomer/webhook",
		"events": []any{"kustomer.message.create", "kustomer.conversation.update"}, "headers": []any{}}
	st, body := call(t, f, "POST", "/v1/outbound-webhooks", in)
	wantStatus(t, "subscribe", st, 201, body)
	tok, _ := get(body, "data", "attributes", "token").(string)
	if len(tok) < 32 || !idRe.MatchString(fmt.Sprint(get(body, "data", "id"))) {
		t.Errorf("answer %v, want an id and a token", body)
	}
	hs := f.OutboundWebhooks()
	if len(hs) != 1 || hs[0].Token != tok || hs[0].URL != in["url"] || !reflect.DeepEqual(hs[0].Events, []string{"kustomer.message.create", "kustomer.conversation.update"}) {
		t.Errorf("OutboundWebhooks() = %+v", hs)
	}
	st, body = call(t, f, "GET", "/v1/outbound-webhooks", nil)
	wantStatus(t, "list", st, 200, body)
	if get(body, "data", 0, "attributes", "token") != tok || get(body, "meta", "page") != 1.0 {
		t.Errorf("list %v", body)
	}

	f.ExpectViolations()
	for name, b := range map[string]map[string]any{
		"http url":       {"name": "h", "url": "http://handoff.example/", "events": []any{"kustomer.message.create"}},
		"unknown event":  {"name": "h", "url": "https://handoff.example/", "events": []any{"kustomer.message.delete"}},
		"no events":      {"name": "h", "url": "https://handoff.example/", "events": []any{}},
		"no name":        {"url": "https://handoff.example/", "events": []any{"kustomer.message.create"}},
		"extra property": {"name": "h", "url": "https://handoff.example/", "events": []any{"kustomer.message.create"}, "secret": "x"},
		"headers string": {"name": "h", "url": "https://handoff.example/", "events": []any{"kustomer.message.create"}, "headers": "X-A: b"},
	} {
		st, got := call(t, f, "POST", "/v1/outbound-webhooks", b)
		wantStatus(t, name, st, 400, got)
		wantError(t, name, got, 400)
	}
	if len(f.Violations()) != 6 || len(f.OutboundWebhooks()) != 1 {
		t.Errorf("violations %d, subscriptions %d", len(f.Violations()), len(f.OutboundWebhooks()))
	}
	st, _ = call(t, f, "DELETE", "/v1/outbound-webhooks", nil)
	if st != 405 {
		t.Errorf("DELETE: %d", st)
	}
}

// receiver is a webhook endpoint that keeps what it gets.
type receiver struct {
	mu  sync.Mutex
	got []*http.Request
	raw [][]byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.got = append(rc.got, r)
	rc.raw = append(rc.raw, b)
	rc.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, "ok") // the sender's concern
}

func TestDeliveries(t *testing.T) {
	f := Start(t, key)
	_, convID := setup(t, f)
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	const secret = "the-token"

	d := f.MessageCreated(convID, "Hello from an agent", "out")
	resp := f.Send(t, srv.URL, secret, d)
	if resp.StatusCode != 202 {
		t.Errorf("receiver answered %d", resp.StatusCode)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "ok" {
		t.Errorf("answer body %q", b)
	}
	r, raw := rc.got[0], rc.raw[0]
	if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Kustomer-Webhook-Event") != "kustomer.message.create" {
		t.Errorf("headers %v", r.Header)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(raw)
	sig, err := hex.DecodeString(r.Header.Get("X-Kustomer-Webhook-Signature"))
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) || r.Header.Get("X-Kustomer-Webhook-Signature") != strings.ToLower(r.Header.Get("X-Kustomer-Webhook-Signature")) {
		t.Errorf("signature %q does not verify", r.Header.Get("X-Kustomer-Webhook-Signature"))
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	if body["id"] != d.ID || !idRe.MatchString(d.ID) || body["name"] != "kustomer.message.create" || body["org"] != f.OrgID || body["partition"] != f.OrgID {
		t.Errorf("delivery envelope %v", body)
	}
	a, _ := get(body, "data", "attributes").(map[string]any)
	if a["direction"] != "out" || a["preview"] != "Hello from an agent" || a["channel"] != "chat" ||
		!reflect.DeepEqual(a["meta"], map[string]any{}) || !stampRe.MatchString(fmt.Sprint(a["createdAt"])) {
		t.Errorf("message attributes %v", a)
	}
	if get(body, "data", "relationships", "conversation", "data", "id") != convID ||
		get(body, "data", "relationships", "createdBy", "data", "id") != f.AgentID ||
		get(body, "data", "relationships", "createdBy", "data", "type") != "user" {
		t.Errorf("relationships %v", get(body, "data", "relationships"))
	}
	// data is the message as GET answers it, and the fake keeps it.
	st, list := call(t, f, "GET", "/v1/conversations/"+convID+"/messages", nil)
	wantStatus(t, "messages", st, 200, list)
	if !reflect.DeepEqual(get(list, "data", 0), body["data"]) {
		t.Errorf("GET answers %v, the delivery carried %v", get(list, "data", 0), body["data"])
	}
	if ms := f.Messages(convID); len(ms) != 1 || ms[0].Direction != "out" || ms[0].CreatedBy != f.AgentID || ms[0].Body != nil {
		t.Errorf("Messages = %+v", ms)
	}
	// The same delivery again is a retry: same id, same body.
	f.Send(t, srv.URL, secret, d)
	if !bytes.Equal(rc.raw[1], raw) {
		t.Errorf("a resend changed the body")
	}

	// Conversation updates order by updatedAt.
	d1 := f.ConversationUpdated(convID, map[string]any{"custom": map[string]any{"agentNameStr": "Grace"}}, nil)
	d2 := f.ConversationUpdated(convID, map[string]any{"ended": true, "endedByType": "user", "tags": []string{"vip"}}, nil)
	if d1.ID == d2.ID || d2.Name != "kustomer.conversation.update" {
		t.Errorf("ids %s %s, name %s", d1.ID, d2.ID, d2.Name)
	}
	u1 := get(d1.Data, "attributes", "updatedAt").(string)
	u2 := get(d2.Data, "attributes", "updatedAt").(string)
	if !stampRe.MatchString(u1) || u2 <= u1 {
		t.Errorf("updatedAt %s then %s", u1, u2)
	}
	if get(d2.Data, "attributes", "custom", "agentNameStr") != "Grace" || get(d2.Data, "attributes", "ended") != true ||
		get(d2.Data, "attributes", "tags", 0) != "vip" {
		t.Errorf("conversation after the updates %v", get(d2.Data, "attributes"))
	}
	if ch := get(d2.Changes, "attributes", "ended"); !reflect.DeepEqual(ch, map[string]any{"op": "replace", "before": false, "after": true}) {
		t.Errorf("changes.attributes.ended = %v", ch)
	}
	if get(d2.Data, "relationships", "modifiedBy", "data", "id") != f.AgentID {
		t.Errorf("modifiedBy %v", get(d2.Data, "relationships", "modifiedBy"))
	}
	st, got := call(t, f, "GET", "/v1/conversations/"+convID, nil)
	wantStatus(t, "conversation", st, 200, got)
	var data any
	if err := json.Unmarshal(mustJSON(t, d2.Data), &data); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got["data"], data) {
		t.Errorf("GET answers %v, the delivery carried %v", got["data"], data)
	}
	if d := f.ConversationUpdated(convID, map[string]any{"status": "done"}, map[string]any{"given": true}); get(d.Changes, "given") != true {
		t.Errorf("changes given were replaced: %v", d.Changes)
	}

	// Webhook and SendRaw, for anything else.
	w := f.Webhook("kustomer.customer.update", map[string]any{"type": "customer"}, nil)
	if w.Org != f.OrgID || w.ID == d.ID || !bytes.Contains(w.Body(), []byte(`"changes":null`)) {
		t.Errorf("Webhook = %+v", w)
	}
	resp = f.SendRaw(t, srv.URL, http.Header{"X-Kustomer-Webhook-Event": {"kustomer.message.create"}}, []byte("not json"))
	if resp.StatusCode != 202 || string(rc.raw[2]) != "not json" || rc.got[2].Header.Get("X-Kustomer-Webhook-Signature") != "" {
		t.Errorf("SendRaw did not send the body and headers as given")
	}
	if Sign(secret, raw) != rc.got[0].Header.Get("X-Kustomer-Webhook-Signature") {
		t.Errorf("Sign disagrees with Send")
	}

	// A conversation the fake does not have still makes deliveries.
	stranger := newID()
	d = f.MessageCreated(stranger, "who?", "in")
	if get(d.Data, "relationships", "conversation", "data", "id") != stranger || get(d.Data, "relationships", "createdBy") != nil {
		t.Errorf("stranger's message %v", d.Data)
	}
	if len(f.Messages(stranger)) != 1 {
		t.Errorf("stranger's message not kept")
	}
	if d := f.ConversationUpdated(stranger, map[string]any{"status": "done"}, nil); get(d.Data, "id") != stranger {
		t.Errorf("stranger's update %v", d.Data)
	}
	if _, ok := f.Conversation(stranger); ok {
		t.Errorf("a made-up conversation was kept")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConcurrent runs requests side by side (for -race).
func TestConcurrent(t *testing.T) {
	f := Start(t, key)
	_, convID := setup(t, f)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			call(t, f, "POST", "/v1/conversations/"+convID+"/messages", map[string]any{"channel": "chat", "app": "handoff", "preview": fmt.Sprint(i)})
			f.MessageCreated(convID, "reply", "out")
			f.Messages(convID)
		})
	}
	wg.Wait()
	if n := len(f.Messages(convID)); n != 16 {
		t.Errorf("%d messages, want 16", n)
	}
	cv, _ := f.Conversation(convID)
	if cv.Attributes["messageCount"] != 16.0 {
		t.Errorf("messageCount %v", cv.Attributes["messageCount"])
	}
}

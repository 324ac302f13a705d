package handlers

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer"
)

// signInFrom tries to sign in as a client behind a proxy that reports addr.
func (c *client) signInFrom(addr, email, password string) response {
	c.e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.e.URL+"/agent/sign-in", strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", addr)
	return c.do(req)
}

// Behind a trusted proxy, one client's failed sign-ins under random emails
// lock out that client only, not every agent behind the same proxy.
func TestSignInThrottleBehindTrustedProxy(t *testing.T) {
	e := newEnv(t)
	e.srv.opts.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	e.srv.echo.IPExtractor = ipExtractor(e.srv.opts.TrustedProxies)
	a := e.newAgent(t, "Dana", kustomer.RoleAgent)
	attacker := e.client()
	for i := range freeFailuresPerAddress {
		if res := attacker.signInFrom("203.0.113.7", fmt.Sprintf("nobody%d@example.com", i), "wrong password!"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, res.StatusCode)
		}
	}
	if res := attacker.signInFrom("203.0.113.7", "another@example.com", "wrong password!"); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the attacker's address is not throttled: %d", res.StatusCode)
	}
	// The attacker cannot dodge by prepending addresses of their own: the
	// proxy appends the address it saw, and that is the one believed.
	if res := attacker.signInFrom("198.51.100.1, 203.0.113.7", "yet-another@example.com", "wrong password!"); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a forged X-Forwarded-For entry dodged the throttle: %d", res.StatusCode)
	}
	agent := e.client()
	if res := agent.signInFrom("198.51.100.20", a.Email, agentPassword); res.StatusCode != http.StatusSeeOther {
		t.Errorf("an agent behind the same proxy was locked out: %d", res.StatusCode)
	}
}

// Without trusted proxies, the forwarding headers of a request change
// nothing (TestSignInThrottledPerAddressDespiteForwardingHeaders), and a
// request from outside the trusted networks is known by its connection.
func TestForwardingHeadersFromUntrustedPeersIgnored(t *testing.T) {
	e := newEnv(t)
	e.srv.opts.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	e.srv.echo.IPExtractor = ipExtractor(e.srv.opts.TrustedProxies)
	c := e.client()
	for i := range freeFailuresPerAddress {
		if res := c.signInFrom(fmt.Sprintf("203.0.113.%d", i), fmt.Sprintf("nobody%d@example.com", i), "wrong password!"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, res.StatusCode)
		}
	}
	if res := c.signInFrom("203.0.113.200", "other@example.com", "wrong password!"); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a client outside the trusted networks picked its address: %d, want 429", res.StatusCode)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.0.0.0/8, 192.168.1.7 ,::1,fd00::/8,")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.7/32", "::1/128", "fd00::/8"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("[%d] = %v, want %s", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0/8"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The socket's Origin check compares scheme, host and port.
func TestSocketOriginSchemeChecked(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	u, _ := url.Parse(e.URL)
	for _, origin := range []string{"https://" + u.Host, "http://" + u.Hostname() + ":1"} {
		if _, res, err := c.dial(t, id, "Origin", origin); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("Origin %s on an http server at %s: accepted, want 403", origin, u.Host)
		}
	}
	if _, _, err := c.dial(t, id, "Origin", e.URL); err != nil {
		t.Fatalf("own origin refused: %v", err)
	}
}

func TestCustomerAPINotCached(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	for _, res := range []response{
		c.get("/api/v1/conversations"),
		c.get("/api/v1/conversations/" + id),
		c.get("/api/v1/conversations/" + id + "/messages"),
		c.sendJSON(http.MethodPost, "/api/v1/conversations/"+id+"/messages", map[string]any{"body": "hi"}),
		e.client().get("/api/v1/conversations/" + id), // an error
	} {
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s %s: Cache-Control %q, want no-store", res.Request.Method, res.Request.URL.Path, cc)
		}
	}
}

// Every message in every organization response says whether it is
// private, and ?private=false leaves notes out.
func TestOrgAPIMarksPrivateNotes(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	send := func(body string, private bool) map[string]any {
		res := e.org(http.MethodPost, "/conversations/"+id+"/messages", map[string]any{"body": body, "authorName": "Dana", "private": private})
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("org send: %d %s", res.StatusCode, res.Body)
		}
		var m map[string]any
		res.json(t, &m)
		return m
	}
	if m := send("Looking into it", false); m["private"] != false {
		t.Errorf("reply: private = %v, want false", m["private"])
	}
	if m := send("Customer sounds upset", true); m["private"] != true {
		t.Errorf("note: private = %v, want true", m["private"])
	}
	list := func(q string) []map[string]any {
		var out struct{ Messages []map[string]any }
		res := e.org(http.MethodGet, "/conversations/"+id+"/messages"+q, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("list%s: %d", q, res.StatusCode)
		}
		res.json(t, &out)
		return out.Messages
	}
	all := list("")
	if len(all) != 3 {
		t.Fatalf("%d messages, want 3", len(all))
	}
	for _, m := range all {
		if _, ok := m["private"].(bool); !ok {
			t.Errorf("message %v has no private flag", m["body"])
		}
	}
	if pub := list("?private=false"); len(pub) != 2 || pub[1]["body"] != "Looking into it" {
		t.Errorf("?private=false: %v", pub)
	}
	if notes := list("?private=true"); len(notes) != 1 || notes[0]["body"] != "Customer sounds upset" {
		t.Errorf("?private=true: %v", notes)
	}
	if res := e.orgInvalid(http.MethodGet, "/conversations/"+id+"/messages?private=maybe", nil); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("?private=maybe: %d, want 422", res.StatusCode)
	}
	// Customers never see the flag (nor the note).
	var mine struct{ Messages []map[string]any }
	c.get("/api/v1/conversations/"+id+"/messages").json(t, &mine)
	for _, m := range mine.Messages {
		if _, ok := m["private"]; ok {
			t.Errorf("a customer's message list carries private: %v", m)
		}
	}
	if len(mine.Messages) != 2 {
		t.Errorf("customer sees %d messages, want 2", len(mine.Messages))
	}
}

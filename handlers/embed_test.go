package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gorilla/websocket"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/static"
)

const shop = "https://shop.example"

// setOrigins sets a form's allowed origins as an operator would in
// /admin/forms.
func (e *env) setOrigins(t testing.TB, form string, origins ...string) {
	t.Helper()
	admin := e.newAgent(t, "Olive "+kustomer.NewID(), kustomer.RoleAdmin)
	if err := e.engine.SetFormOrigins(context.Background(), admin, form, origins); err != nil {
		t.Fatal(err)
	}
}

// allowShop lets https://shop.example embed the contact form.
func (e *env) allowShop(t testing.TB) { e.setOrigins(t, "contact", shop) }

// noJar is a browser that keeps no cookie in a third-party frame.
type noJar struct{}

func (noJar) SetCookies(*url.URL, []*http.Cookie) {}
func (noJar) Cookies(*url.URL) []*http.Cookie     { return nil }

// frameClient is a client inside a frame whose cookies the browser drops.
func (e *env) frameClient() *client {
	c := e.client()
	c.Jar = noJar{}
	return c
}

// embedQuery is the query the loader gives the frame.
func embedQuery(extra ...string) string {
	v := url.Values{"embed": {"1"}, "host": {shop}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return "?" + v.Encode()
}

// embedHandoff submits the embedded contact form as c. It returns the conversation id, the Location and the response.
func (c *client) embedHandoff(t testing.TB) (id, location string, res response) {
	t.Helper()
	page := c.get("/forms/contact" + embedQuery("referrer", shop+"/pricing"))
	if page.StatusCode != http.StatusOK {
		t.Fatalf("embedded form: status %d", page.StatusCode)
	}
	action, _ := page.doc(t).Find(`[data-testid="handoff-form"]`).Attr("action")
	form := contactForm()
	page.doc(t).Find(`[data-testid="handoff-form"] input[type="hidden"]`).Each(func(_ int, s *goquery.Selection) {
		n, _ := s.Attr("name")
		v, _ := s.Attr("value")
		form.Set(n, v)
	})
	res = c.postForm(action, form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("embedded submit: status %d\n%s", res.StatusCode, res.Body)
	}
	location = res.Header.Get("Location")
	u, err := url.Parse(location)
	if err != nil {
		t.Fatal(err)
	}
	id = strings.TrimPrefix(u.Path, "/conversations/")
	return id, location, res
}

// dialQuery opens the conversation's socket with the query and headers.
func (c *client) dialQuery(t testing.TB, id, query string, header ...string) (*ws, *http.Response, error) {
	t.Helper()
	u, _ := url.Parse(c.e.URL + "/conversations/" + id + "/ws" + query)
	h := http.Header{}
	for _, ck := range c.Jar.Cookies(u) {
		h.Add("Cookie", ck.String())
	}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	u.Scheme = "ws"
	conn, res, err := websocket.DefaultDialer.Dial(u.String(), h)
	if err != nil {
		return nil, res, err
	}
	t.Cleanup(func() { conn.Close() })
	return &ws{t: t, conn: conn}, res, nil
}

func TestEmbedFormPage(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	// An empty list: the form cannot be framed.
	e.setOrigins(t, "contact")
	res := c.get("/forms/contact?embed=1")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'none'") {
		t.Errorf("no origins: CSP %q", csp)
	}
	e.allowShop(t)
	res = c.get("/forms/contact" + embedQuery("referrer", shop+"/pricing"))
	if csp := res.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'self' "+shop) {
		t.Errorf("CSP %q", csp)
	}
	if n := len(res.Header.Values("Set-Cookie")); n != 0 {
		t.Errorf("embedded form set %d cookies before the visitor acted", n)
	}
	doc := res.doc(t)
	if host, _ := doc.Find("body").Attr("data-embed-host"); host != shop {
		t.Errorf("data-embed-host %q", host)
	}
	if doc.Find(".site-header").Length() != 0 || doc.Find(`script[src="`+static.Path("js/frame.js")+`"]`).Length() != 1 {
		t.Error("embedded page has the site header or lacks frame.js")
	}
	action, _ := doc.Find(`[data-testid="handoff-form"]`).Attr("action")
	if action != "/forms/contact"+embedQuery() {
		t.Errorf("action %q", action)
	}
	if ref, _ := doc.Find(`input[name="referrer"]`).Attr("value"); ref != shop+"/pricing" {
		t.Errorf("referrer %q, want the embedding page", ref)
	}

	// A host that is not allowed is not believed: no parent to talk to,
	// and its address is not taken as the referrer.
	doc = c.get("/forms/contact?embed=1&host=https%3A%2F%2Fevil.example&referrer=https%3A%2F%2Fevil.example%2Fx").doc(t)
	if host, _ := doc.Find("body").Attr("data-embed-host"); host != "" {
		t.Errorf("foreign host accepted: %q", host)
	}
	if ref, _ := doc.Find(`input[name="referrer"]`).Attr("value"); strings.Contains(ref, "evil") {
		t.Errorf("foreign referrer kept: %q", ref)
	}

	// data-chat="tab": the form posts to a new top-level tab as a plain page.
	doc = c.get("/forms/contact" + embedQuery("chat", "tab")).doc(t)
	form := doc.Find(`[data-testid="handoff-form"]`)
	if a, _ := form.Attr("action"); a != "/forms/contact" {
		t.Errorf("tab mode action %q", a)
	}
	if target, _ := form.Attr("target"); target != "_blank" {
		t.Errorf("tab mode target %q", target)
	}
}

func TestEmbedJSON(t *testing.T) {
	e := newEnv(t)
	e.allowShop(t)
	c := e.client()
	res := c.get("/forms/contact/embed.json")
	var body struct {
		FormID         string   `json:"formId"`
		Title          string   `json:"title"`
		AllowedOrigins []string `json:"allowedOrigins"`
	}
	res.json(t, &body)
	if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "*" || len(res.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("status %d, headers %v", res.StatusCode, res.Header)
	}
	if body.FormID != "contact" || body.Title == "" || len(body.AllowedOrigins) != 1 || body.AllowedOrigins[0] != shop {
		t.Errorf("body %+v", body)
	}
	res = c.get("/forms/nope/embed.json")
	if res.StatusCode != http.StatusNotFound || res.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(string(res.Body), `"errors"`) {
		t.Errorf("unknown form: %d %s", res.StatusCode, res.Body)
	}
	// A form that allows nobody: an empty list, not null.
	e.setOrigins(t, "sales")
	if res := c.get("/forms/sales/embed.json"); !strings.Contains(string(res.Body), `"allowedOrigins":[]`) {
		t.Errorf("sales: %s", res.Body)
	}
}

func TestEmbedTokenPathWithoutCookies(t *testing.T) {
	e := newEnv(t)
	e.allowShop(t)
	c := e.frameClient()
	id, loc, res := c.embedHandoff(t)

	// The partitioned cookie is offered...
	var embedCookie *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "handoff_embed" {
			embedCookie = ck
		}
	}
	if embedCookie == nil || !embedCookie.Partitioned || !embedCookie.Secure || embedCookie.SameSite != http.SameSiteNoneMode {
		t.Fatalf("embed cookie %+v", embedCookie)
	}
	// ...and the chat does not depend on it.
	u, _ := url.Parse(loc)
	tok := u.Query().Get("token")
	if tok == "" || u.Query().Get("embed") != "1" || u.Query().Get("host") != shop {
		t.Fatalf("Location %q", loc)
	}
	page := c.get(loc)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("chat by token: status %d\n%s", page.StatusCode, page.Body)
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'self' "+shop) {
		t.Errorf("chat CSP %q", csp)
	}
	doc := page.doc(t)
	chat := doc.Find("#chat")
	if auth, _ := chat.Attr("data-auth"); auth != "token" {
		t.Errorf("data-auth %q, want token", auth)
	}
	pageTok, _ := chat.Attr("data-token")
	if pageTok == "" {
		t.Fatal("no token on the page")
	}
	if doc.Find(`[data-testid="conversations-link"]`).Length() != 0 || doc.Find(`[data-testid="open-in-tab"]`).Length() != 1 {
		t.Error("frame should offer the new tab, not the list")
	}
	if doc.Find(`[data-testid="token-hint"]`).Length() != 1 {
		t.Error("a frame without cookies should say why the new tab matters")
	}
	if a, _ := doc.Find("#composer").Attr("action"); !strings.Contains(a, "token=") || !strings.Contains(a, "embed=1") {
		t.Errorf("composer action %q", a)
	}

	// Without the token (and without a cookie) there is no access.
	if res := c.get("/conversations/" + id); res.StatusCode != http.StatusForbidden {
		t.Errorf("no token: status %d", res.StatusCode)
	}

	// The socket: the token authenticates, the embedding origin is allowed,
	// others are refused.
	if _, res, err := c.dialQuery(t, id, "?token="+url.QueryEscape(pageTok), "Origin", "https://evil.example"); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("foreign origin with a valid token: err %v, res %v", err, res)
	}
	if _, res, err := c.dialQuery(t, id, "", "Origin", shop); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("no token: err %v, res %v", err, res)
	}
	sock, _, err := c.dialQuery(t, id, "?token="+url.QueryEscape(pageTok), "Origin", shop)
	if err != nil {
		t.Fatalf("socket by token: %v", err)
	}
	sock.send(map[string]any{"type": "hello", "afterSeq": 0})
	if msgs, _ := sock.messages(1); msgs[0].Seq != 1 {
		t.Errorf("replay %+v", msgs)
	}
	sock.send(map[string]any{"type": "send", "clientMessageId": "c-1", "body": "Sent from the frame"})
	for f := sock.next(); f.Type != "ack"; f = sock.next() {
		if f.Type != "message" || f.Seq != 2 {
			t.Fatalf("before the ack: %+v", f)
		}
	}
	sock.send(map[string]any{"type": "token"})
	var fresh string
	for fresh == "" {
		if f := sock.next(); f.Type == "token" {
			fresh = f.Token
		}
	}
	if fresh == pageTok {
		t.Error("token frame repeated the old token")
	}

	// The no-JavaScript composer posts with the token and comes back to
	// the frame's page, token refreshed.
	action, _ := doc.Find("#composer").Attr("action")
	res = c.postForm(action, url.Values{"body": {"And without JavaScript"}, "clientMessageId": {"nojs-1"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("no-JS send: %d\n%s", res.StatusCode, res.Body)
	}
	back, _ := url.Parse(res.Header.Get("Location"))
	if back.Query().Get("embed") != "1" || back.Query().Get("token") == "" || back.Query().Get("host") != shop {
		t.Errorf("no-JS redirect %q", res.Header.Get("Location"))
	}

	// A token is for one conversation only.
	other := e.client().handoff(t)
	if res := c.get("/conversations/" + other + "?token=" + url.QueryEscape(pageTok)); res.StatusCode != http.StatusForbidden {
		t.Errorf("token on another conversation: status %d", res.StatusCode)
	}
	// An expired token says so.
	old, _ := e.srv.sessions.IssueHandoff(id, "whoever", time.Now().Add(-time.Hour))
	if res := c.get("/conversations/" + id + "?embed=1&token=" + url.QueryEscape(old)); res.StatusCode != http.StatusForbidden || !strings.Contains(string(res.Body), "expired") {
		t.Errorf("expired token: status %d", res.StatusCode)
	}
}

func TestEmbedCookiePath(t *testing.T) {
	e := newEnv(t)
	e.allowShop(t)
	c := e.frameClient()
	id, _, res := c.embedHandoff(t)
	var ck *http.Cookie
	for _, k := range res.Cookies() {
		if k.Name == "handoff_embed" {
			ck = k
		}
	}
	if ck == nil {
		t.Fatal("no handoff_embed cookie")
	}
	// A browser that keeps the partitioned cookie sends it back.
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/conversations/"+id+embedQuery(), nil)
	req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	page := c.do(req)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("chat by cookie: %d", page.StatusCode)
	}
	doc := page.doc(t)
	if auth, _ := doc.Find("#chat").Attr("data-auth"); auth != "cookie" {
		t.Errorf("data-auth %q, want cookie", auth)
	}
	if a, _ := doc.Find("#composer").Attr("action"); strings.Contains(a, "token=") {
		t.Errorf("cookie mode leaks the token into the composer: %q", a)
	}
	if doc.Find(`[data-testid="token-hint"]`).Length() != 0 {
		t.Error("the no-cookie hint shows although the cookie came back")
	}
	if _, ok := doc.Find(`[data-testid="open-in-tab"] input[name="token"]`).Attr("value"); !ok {
		t.Error("no token to open the chat in a new tab")
	}
	_, _, err := c.dialQuery(t, id, "", "Origin", shop, "Cookie", ck.Name+"="+ck.Value)
	if err != nil {
		t.Errorf("socket by embed cookie: %v", err)
	}
}

func TestEmbedOpenInNewTab(t *testing.T) {
	e := newEnv(t)
	e.allowShop(t)
	frame := e.frameClient()
	id, loc, _ := frame.embedHandoff(t)
	doc := frame.get(loc).doc(t)
	openForm := doc.Find(`[data-testid="open-in-tab"]`)
	action, _ := openForm.Attr("action")
	tok, _ := openForm.Find(`input[name="token"]`).Attr("value")
	if target, _ := openForm.Attr("target"); target != "_blank" || action != "/conversations/"+id+"/open" {
		t.Fatalf("open form target %q action %q", target, action)
	}

	tab := e.client() // the new tab: first-party, no cookie yet
	res := tab.postForm(action, url.Values{"token": {tok}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/conversations/"+id {
		t.Fatalf("exchange: %d %q\n%s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	var session *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "handoff_session" {
			session = ck
		}
	}
	if session == nil || session.SameSite != http.SameSiteLaxMode || !session.HttpOnly {
		t.Fatalf("first-party session %+v", session)
	}
	if res := tab.get("/conversations/" + id); res.StatusCode != http.StatusOK {
		t.Errorf("chat in the tab: %d", res.StatusCode)
	}
	if res := tab.get("/conversations"); !strings.Contains(string(res.Body), id) {
		t.Error("the tab's list lacks the conversation")
	}
	// The same tab may submit again (it already has the session)...
	if res := tab.postForm(action, url.Values{"token": {tok}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("same tab again: %d", res.StatusCode)
	}
	// ...but the token cannot mint a second session elsewhere.
	res = e.client().postForm(action, url.Values{"token": {tok}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(string(res.Body), "already used") {
		t.Errorf("replayed token: %d", res.StatusCode)
	}
	if res := e.client().postForm(action, url.Values{"token": {"forged.token"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("forged token: %d", res.StatusCode)
	}
	if res := e.client().postForm("/conversations/"+e.client().handoff(t)+"/open", url.Values{"token": {tok}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("token for another conversation: %d", res.StatusCode)
	}
}

package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/handoff/handoff/kustomer"
)

// copyOf returns a new client holding c's cookies, as someone who copied
// them out of the browser would.
func (c *client) copyOf() *client {
	u, _ := url.Parse(c.e.URL)
	cp := c.e.client()
	cp.Jar.SetCookies(u, c.Jar.Cookies(u))
	return cp
}

// wantSignedIn fails the test unless c's session opens the console.
func wantSignedIn(t *testing.T, who string, c *client) {
	t.Helper()
	if res := c.get("/agent"); res.StatusCode != http.StatusOK {
		t.Fatalf("%s: GET /agent: %d, want 200 (signed in)", who, res.StatusCode)
	}
}

// wantSignedOut fails the test unless c's session is refused everywhere:
// console pages, admin pages, a reply and the sockets. The reply must not
// be stored.
func wantSignedOut(t *testing.T, who string, c *client, convID string) {
	t.Helper()
	for _, p := range []string{"/agent", "/agent/conversations/" + convID, "/admin/agents"} {
		res := c.get(p)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/agent/sign-in") {
			t.Errorf("%s: GET %s: %d %q, want a redirect to sign in", who, p, res.StatusCode, res.Header.Get("Location"))
		}
	}
	body := "a reply sent by " + who + " after the session ended"
	if res := c.postForm("/agent/conversations/"+convID+"/messages", url.Values{"body": {body}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("%s: POST a reply: %d, want 403", who, res.StatusCode)
	}
	for _, p := range []string{"/agent/ws", "/agent/conversations/" + convID + "/ws"} {
		u, _ := url.Parse(c.e.URL + p)
		h := http.Header{}
		for _, ck := range c.Jar.Cookies(u) {
			h.Add("Cookie", ck.String())
		}
		u.Scheme = "ws"
		conn, res, err := websocket.DefaultDialer.Dial(u.String(), h)
		if err == nil {
			conn.Close()
		}
		if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: socket %s: %v, want 403", who, p, err)
		}
	}
	wantNotStored(t, c.e, convID, body)
}

// wantNotStored fails the test if a message with body is in the
// conversation.
func wantNotStored(t *testing.T, e *env, convID, body string) {
	t.Helper()
	msgs, err := e.store.Messages(context.Background(), convID, kustomer.MessageQuery{Max: kustomer.MaxMessages})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Body == body {
			t.Errorf("message %q was stored (seq %d)", body, m.Seq)
		}
	}
}

// wantSocketSignedOut reads w until it closes, within a deadline far
// shorter than the ping interval, and fails the test unless it said
// signed_out and closed with policy violation.
func wantSocketSignedOut(t *testing.T, name string, w *websocket.Conn) {
	t.Helper()
	w.SetReadDeadline(time.Now().Add(5 * time.Second))
	saw := false
	var err error
	for err == nil {
		var f map[string]any
		if err = w.ReadJSON(&f); err == nil && f["type"] == "signed_out" {
			saw = true
		}
	}
	if !saw || !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
		t.Errorf("%s socket: signed_out %v, ended with %v; want signed_out, then close 1008 at once", name, saw, err)
	}
}

func TestCopiedSessionRefusedAfterSignOut(t *testing.T) {
	e := newEnv(t)
	convID := e.client().handoff(t)
	admin, _ := e.agentClient(t, "Root", kustomer.RoleAdmin)
	stolen := admin.copyOf()
	wantSignedIn(t, "the copied cookie before sign-out", stolen)
	if res := stolen.get("/admin/agents"); res.StatusCode != http.StatusOK {
		t.Fatalf("the copied cookie opens /admin/agents: %d before sign-out, want 200", res.StatusCode)
	}

	if res := admin.postForm("/agent/sign-out", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", res.StatusCode)
	}
	wantSignedOut(t, "the copied cookie", stolen, convID)
	wantSignedOut(t, "the signed-out browser", admin, convID)
}

func TestAdminPasswordChangeEndsSessions(t *testing.T) {
	e := newEnv(t)
	convID := e.client().handoff(t)
	admin, _ := e.agentClient(t, "Root", kustomer.RoleAdmin)
	dana, d := e.agentClient(t, "Dana", kustomer.RoleAgent)
	stolen := dana.copyOf()
	wantSignedIn(t, "Dana's copied cookie", stolen)

	const newPassword = "a brand new password"
	res := admin.postForm("/admin/agents/"+d.ID, url.Values{"name": {"Dana"}, "role": {"agent"}, "password": {newPassword}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("change Dana's password: %d %s", res.StatusCode, res.Body)
	}
	wantSignedOut(t, "Dana's copied cookie", stolen, convID)
	wantSignedOut(t, "Dana's browser", dana, convID)
	wantSignedIn(t, "the admin who changed the password", admin)

	// Dana signs in again with the new password.
	res = dana.postForm("/agent/sign-in", url.Values{"email": {d.Email}, "password": {newPassword}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in with the new password: %d", res.StatusCode)
	}
	wantSignedIn(t, "Dana, signed in again", dana)
	wantSignedOut(t, "Dana's copied cookie, after she signed in again", stolen, convID)
}

func TestSignOutEverywhere(t *testing.T) {
	e := newEnv(t)
	convID := e.client().handoff(t)
	d := e.newAgent(t, "Dana", kustomer.RoleAgent)
	laptop, phone := e.client(), e.client()
	laptop.signIn(t, d)
	phone.signIn(t, d)
	inbox := phone.dialPath(t, "/agent/ws")
	conv := phone.dialPath(t, "/agent/conversations/"+convID+"/ws")

	page := laptop.get("/agent/profile")
	if page.StatusCode != http.StatusOK || page.doc(t).Find(`[data-testid="sign-out-everywhere"]`).Length() != 1 {
		t.Fatalf("GET /agent/profile: %d, want 200 with a sign-out-everywhere button", page.StatusCode)
	}
	res := laptop.postForm("/agent/profile/sign-out-everywhere", nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/agent/sign-in") {
		t.Fatalf("sign out everywhere: %d %q, want a redirect to sign in", res.StatusCode, res.Header.Get("Location"))
	}
	wantSocketSignedOut(t, "the phone's inbox", inbox)
	wantSocketSignedOut(t, "the phone's conversation", conv)
	wantSignedOut(t, "the laptop", laptop, convID)
	wantSignedOut(t, "the phone", phone, convID)

	// An admin ends an agent's sessions from the agent's page.
	admin, _ := e.agentClient(t, "Root", kustomer.RoleAdmin)
	laptop.signIn(t, d)
	edit := admin.get("/admin/agents/" + d.ID)
	if edit.StatusCode != http.StatusOK || edit.doc(t).Find(`[data-testid="agent-sign-out-everywhere"]`).Length() != 1 {
		t.Fatalf("the admin's edit page: %d, want a sign-out-everywhere button", edit.StatusCode)
	}
	res = admin.postForm("/admin/agents/"+d.ID+"/sign-out", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin signs Dana out everywhere: %d %s", res.StatusCode, res.Body)
	}
	wantSignedOut(t, "the laptop, after the admin signed Dana out", laptop, convID)
	wantSignedIn(t, "the admin", admin)
	if res := e.client().postForm("/admin/agents/"+d.ID+"/sign-out", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous POST sign-out of an agent: %d, want 403", res.StatusCode)
	}
}

// TestDisabledAgentSocketsCloseAtOnce disables an agent with the ping at its
// default (30 s): every socket of theirs closes at once, not at the next
// ping.
func TestDisabledAgentSocketsCloseAtOnce(t *testing.T) {
	e := newEnv(t)
	admin, _ := e.agentClient(t, "Root", kustomer.RoleAdmin)
	dana, d := e.agentClient(t, "Dana", kustomer.RoleAgent)
	convID := e.client().handoff(t)
	if res := dana.postForm("/agent/conversations/"+convID+"/join", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("join: %d", res.StatusCode)
	}
	other := e.client().handoff(t) // a conversation Dana only watches
	inbox := dana.dialPath(t, "/agent/ws")
	conv := &ws{t: t, conn: dana.dialPath(t, "/agent/conversations/"+convID+"/ws")}
	watch := &ws{t: t, conn: dana.dialPath(t, "/agent/conversations/"+other+"/ws")}
	for _, w := range []*ws{conv, watch} {
		w.send(map[string]any{"type": "hello", "afterSeq": 0})
		w.messages(1)
	}

	if res := admin.postForm("/admin/agents/"+d.ID+"/toggle", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", res.StatusCode)
	}
	wantSocketSignedOut(t, "inbox", inbox)
	wantSocketSignedOut(t, "assigned conversation", conv.conn)
	wantSocketSignedOut(t, "watched conversation", watch.conn)
}

// TestRevokedAgentSendIsNotStored disables an agent in the store without
// publishing anything, as between the commit and the event: a send read
// after that instant is refused and the socket closes.
func TestRevokedAgentSendIsNotStored(t *testing.T) {
	e := newEnv(t)
	dana, d := e.agentClient(t, "Dana", kustomer.RoleAgent)
	convID := e.client().handoff(t)
	w := &ws{t: t, conn: dana.dialPath(t, "/agent/conversations/"+convID+"/ws")}
	w.send(map[string]any{"type": "hello", "afterSeq": 0})
	w.messages(1)

	d.Disabled = true
	if err := e.store.SaveAgent(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	const body = "sent after the account was disabled"
	w.send(map[string]any{"type": "send", "clientMessageId": "late-1", "body": body})
	w.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var err error
	for err == nil {
		var f frame
		if err = w.conn.ReadJSON(&f); err == nil && f.Type == "ack" {
			t.Errorf("the send was acknowledged: %+v", f)
		}
	}
	if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
		t.Errorf("socket ended with %v, want close 1008 (signed out)", err)
	}
	wantNotStored(t, e, convID, body)
	res := e.org(http.MethodGet, "/conversations/"+convID+"/messages", nil)
	if res.StatusCode != http.StatusOK || strings.Contains(string(res.Body), body) {
		t.Errorf("the organization API lists the late send: %d", res.StatusCode)
	}
}

func TestAgentEditsOwnName(t *testing.T) {
	e := newEnv(t)
	dana, d := e.agentClient(t, "Dana", kustomer.RoleAgent)
	customer := e.client()
	convID := customer.handoff(t)
	if res := dana.postForm("/agent/conversations/"+convID+"/join", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("join: %d", res.StatusCode)
	}
	// A conversation socket opened before the change sends with the new
	// name after it.
	w := &ws{t: t, conn: dana.dialPath(t, "/agent/conversations/"+convID+"/ws")}
	w.send(map[string]any{"type": "hello", "afterSeq": 0})
	w.messages(2)

	page := dana.get("/agent/profile")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET /agent/profile: %d", page.StatusCode)
	}
	if v, _ := page.doc(t).Find(`[data-testid="profile-name"]`).Attr("value"); v != "Dana" {
		t.Errorf("profile name field %q, want Dana", v)
	}
	for _, bad := range []string{"   ", strings.Repeat("n", 81)} {
		res := dana.postForm("/agent/profile", url.Values{"name": {bad}})
		doc := res.doc(t)
		if res.StatusCode != http.StatusUnprocessableEntity || doc.Find(`[data-testid="profile-error-name"]`).Length() != 1 {
			t.Errorf("name %q: %d, want 422 with an error beside the name", bad, res.StatusCode)
		}
		if v, _ := doc.Find(`[data-testid="profile-name"]`).Attr("value"); v != bad {
			t.Errorf("name %q not kept: %q", bad, v)
		}
	}
	res := dana.postForm("/agent/profile", url.Values{"name": {"  Dana Lee  "}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save name: %d %s", res.StatusCode, res.Body)
	}
	if a, _ := e.engine.Agent(context.Background(), d.ID); a.Name != "Dana Lee" {
		t.Errorf("stored name %q, want Dana Lee", a.Name)
	}
	if got := customer.get("/conversations/" + convID).doc(t).Find(`[data-testid="chat-assignee"]`).Text(); strings.Join(strings.Fields(got), " ") != "Dana Lee is answering" {
		t.Errorf("the customer reads %q, want Dana Lee is answering", got)
	}
	w.send(map[string]any{"type": "send", "clientMessageId": "after-rename", "body": "Hello again."})
	msgs, _ := w.messages(1)
	if m := msgs[0].msg(t); m.SentBy.DisplayName != "Dana Lee" {
		t.Errorf("a reply on the socket opened before the change is by %q, want Dana Lee", m.SentBy.DisplayName)
	}
	if got := dana.get("/agent").doc(t).Find(`[data-testid="signed-in-agent"]`).Text(); strings.TrimSpace(got) != "Dana Lee" {
		t.Errorf("the console header says %q, want Dana Lee", got)
	}
}

func TestAgentChangesOwnPassword(t *testing.T) {
	e := newEnv(t)
	convID := e.client().handoff(t)
	d := e.newAgent(t, "Dana", kustomer.RoleAgent)
	laptop, phone := e.client(), e.client()
	laptop.signIn(t, d)
	phone.signIn(t, d)
	phoneSock := phone.dialPath(t, "/agent/ws")

	res := laptop.postForm("/agent/profile/password", url.Values{"current": {"not my password"}, "password": {"a brand new password"}})
	doc := res.doc(t)
	if res.StatusCode != http.StatusUnprocessableEntity || doc.Find(`[data-testid="profile-error-current"]`).Length() != 1 {
		t.Errorf("a wrong current password: %d, want 422 with an error beside it", res.StatusCode)
	}
	for _, f := range []string{"profile-current", "profile-password"} {
		if v, _ := doc.Find(`[data-testid="` + f + `"]`).Attr("value"); v != "" {
			t.Errorf("%s filled back in with %q", f, v)
		}
	}
	if res := laptop.postForm("/agent/profile/password", url.Values{"current": {agentPassword}, "password": {"short"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		res.doc(t).Find(`[data-testid="profile-error-password"]`).Length() != 1 {
		t.Errorf("a short new password: %d, want 422 with an error beside it", res.StatusCode)
	}
	wantSignedIn(t, "the phone, after refused changes", phone)

	res = laptop.postForm("/agent/profile/password", url.Values{"current": {agentPassword}, "password": {"a brand new password"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/agent/profile" {
		t.Fatalf("change password: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	wantSignedIn(t, "the laptop that changed the password", laptop)
	wantSocketSignedOut(t, "the phone's inbox", phoneSock)
	wantSignedOut(t, "the phone", phone, convID)
	if res := e.client().postForm("/agent/sign-in", url.Values{"email": {d.Email}, "password": {agentPassword}}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("sign in with the old password: %d, want 401", res.StatusCode)
	}
}

// TestAgentSocketsSignedOutWhileIdle: an agent's idle sockets (inbox and
// conversation) hold one goroutine each, and still say signed_out and
// close at once when the session ends.
func TestAgentSocketsSignedOutWhileIdle(t *testing.T) {
	e := newEnv(t)
	admin, _ := e.agentClient(t, "Root", kustomer.RoleAdmin)
	dana, d := e.agentClient(t, "Dana", kustomer.RoleAgent)
	convID := e.client().handoff(t)
	open := func() (inbox, conv *websocket.Conn) {
		inbox = dana.dialPath(t, "/agent/ws")
		w := &ws{t: t, conn: dana.dialPath(t, "/agent/conversations/"+convID+"/ws")}
		w.send(map[string]any{"type": "hello", "afterSeq": 0})
		w.messages(1)
		return inbox, w.conn
	}
	open() // the session watcher starts with the first socket
	base := settledGoroutines()
	const n = 20
	var socks []*websocket.Conn
	for range n {
		inbox, conv := open()
		socks = append(socks, inbox, conv)
	}
	got := goroutinesSettleAt(base + 2*n)
	if per := float64(got-base) / (2 * n); per > 1.05 {
		t.Errorf("%d idle agent sockets hold %d goroutines (%.2f each), want one each", 2*n, got-base, per)
	}
	if res := admin.postForm("/admin/agents/"+d.ID+"/toggle", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", res.StatusCode)
	}
	for i, w := range socks {
		wantSocketSignedOut(t, fmt.Sprint("idle socket ", i), w)
	}
}

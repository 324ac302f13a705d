package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/crypto/bcrypt"

	"github.com/handoff/handoff/kustomer"
)

const agentPassword = "correct horse battery"

// newAgent creates an account directly through the engine.
func (e *env) newAgent(t testing.TB, name string, role kustomer.Role, skills ...string) kustomer.Agent {
	t.Helper()
	e.engine.PasswordCost = bcrypt.MinCost
	a, err := e.engine.CreateAgent(context.Background(), kustomer.Actor{Type: kustomer.AuthorSystem}, kustomer.NewAgentInput{
		Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com", Name: name,
		Password: agentPassword, Role: role, Skills: skills,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// signIn signs c in as a.
func (c *client) signIn(t testing.TB, a kustomer.Agent) {
	t.Helper()
	res := c.postForm("/agent/sign-in", url.Values{"email": {a.Email}, "password": {agentPassword}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/agent" {
		t.Fatalf("sign in %s: %d %q", a.Email, res.StatusCode, res.Header.Get("Location"))
	}
}

func (e *env) agentClient(t testing.TB, name string, role kustomer.Role, skills ...string) (*client, kustomer.Agent) {
	t.Helper()
	a := e.newAgent(t, name, role, skills...)
	c := e.client()
	c.signIn(t, a)
	return c, a
}

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	a := e.newAgent(t, "Dana", kustomer.RoleAgent)
	c := e.client()
	if res := c.get("/agent/sign-in"); res.StatusCode != http.StatusOK || len(res.Header.Values("Set-Cookie")) > 0 {
		t.Fatalf("sign-in page: %d, cookies %v", res.StatusCode, res.Header.Values("Set-Cookie"))
	}
	res := c.postForm("/agent/sign-in", url.Values{"email": {a.Email}, "password": {"wrong password!"}})
	doc := res.doc(t)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(doc.Find(`[data-testid="signin-error"]`).Text(), "wrong") {
		t.Errorf("wrong password: %d %q", res.StatusCode, doc.Find(`[data-testid="signin-error"]`).Text())
	}
	if v, _ := doc.Find(`[data-testid="signin-email"]`).Attr("value"); v != a.Email {
		t.Errorf("email not kept: %q", v)
	}
	if v, _ := doc.Find(`[data-testid="signin-password"]`).Attr("value"); v != "" {
		t.Errorf("password re-filled")
	}
	for next, want := range map[string]string{
		"/agent/conversations/abc": "/agent/conversations/abc",
		"https://evil.example/":    "/agent",
		"//evil.example/agent":     "/agent",
		"/conversations":           "/agent",
	} {
		c := e.client()
		res := c.postForm("/agent/sign-in", url.Values{"email": {strings.ToUpper(a.Email)}, "password": {agentPassword}, "next": {next}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Errorf("next %q: %d %q, want %q", next, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
	c.signIn(t, a)
	if res := c.get("/agent"); res.StatusCode != http.StatusOK {
		t.Fatalf("inbox: %d", res.StatusCode)
	}
	if res := c.postForm("/agent/sign-out", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", res.StatusCode)
	}
	if res := c.get("/agent"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/agent/sign-in") {
		t.Errorf("after sign-out: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	disabled := true
	admin := e.newAgent(t, "Root", kustomer.RoleAdmin)
	if _, err := e.engine.UpdateAgent(context.Background(), admin.Actor(), a.ID, kustomer.UpdateAgentInput{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	res = c.postForm("/agent/sign-in", url.Values{"email": {a.Email}, "password": {agentPassword}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.doc(t).Find(`[data-testid="signin-error"]`).Text(), "disabled") {
		t.Errorf("disabled account: %d", res.StatusCode)
	}
}

func TestSignInThrottled(t *testing.T) {
	e := newEnv(t)
	a := e.newAgent(t, "Dana", kustomer.RoleAgent)
	b := e.newAgent(t, "Lee", kustomer.RoleAgent)
	c := e.client()
	for i := 0; i < freeFailures; i++ {
		if res := c.postForm("/agent/sign-in", url.Values{"email": {a.Email}, "password": {"nope nope nope"}}); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, res.StatusCode)
		}
	}
	// Even the right password waits now.
	res := c.postForm("/agent/sign-in", url.Values{"email": {a.Email}, "password": {agentPassword}})
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("after %d failures: %d", freeFailures, res.StatusCode)
	}
	if !strings.Contains(res.doc(t).Find(`[data-testid="signin-error"]`).Text(), "Too many") {
		t.Errorf("no clear message")
	}
	// Both kinds of refusal are counted.
	m := e.srv.opts.Metrics.signIns
	if bad, thr := testutil.ToFloat64(m.WithLabelValues("bad_credentials")), testutil.ToFloat64(m.WithLabelValues("throttled")); bad != freeFailures || thr != 1 {
		t.Errorf("sign-in failures counted: %v bad credentials, %v throttled; want %d and 1", bad, thr, freeFailures)
	}
	// Another account from the same address is not locked out yet.
	c.signIn(t, b)
}

func TestSignInThrottledPerAddressDespiteForwardingHeaders(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for i := 0; i < freeFailuresPerAddress; i++ {
		req, _ := http.NewRequest(http.MethodPost, e.URL+"/agent/sign-in", strings.NewReader(url.Values{
			"email": {fmt.Sprintf("nobody%d@example.com", i)}, "password": {"wrong password!"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i)) // a spoofed, changing address
		if res := c.do(req); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, res.StatusCode)
		}
	}
	res := c.postForm("/agent/sign-in", url.Values{"email": {"someone-else@example.com"}, "password": {"wrong password!"}})
	if res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after %d failures from one connection address: %d, want 429", freeFailuresPerAddress, res.StatusCode)
	}
}

func TestAgentPagesRefuseCustomersAndAnonymous(t *testing.T) {
	e := newEnv(t)
	customer := e.client()
	id := customer.handoff(t)
	for name, c := range map[string]*client{"customer": customer, "anonymous": e.client()} {
		t.Run(name, func(t *testing.T) {
			for _, p := range []string{"/agent", "/agent/conversations/" + id, "/admin/agents", "/admin"} {
				res := c.get(p)
				if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/agent/sign-in") {
					t.Errorf("GET %s: %d %q, want a redirect to sign in", p, res.StatusCode, res.Header.Get("Location"))
				}
				if strings.Contains(string(res.Body), "My parcel") {
					t.Errorf("GET %s leaked the conversation", p)
				}
			}
			for _, p := range []string{"/agent/inbox", "/agent/conversations/" + id + "/panel"} {
				if res := c.get(p); res.StatusCode != http.StatusForbidden {
					t.Errorf("GET %s: %d, want 403", p, res.StatusCode)
				}
			}
			for _, p := range []string{"join", "unassign", "end", "reopen", "transfer", "messages", "attributes"} {
				res := c.postForm("/agent/conversations/"+id+"/"+p, url.Values{"body": {"x"}, "skill": {"billing"}})
				if res.StatusCode != http.StatusForbidden {
					t.Errorf("POST %s: %d, want 403", p, res.StatusCode)
				}
			}
			if res := c.postForm("/admin/agents", url.Values{"email": {"x@example.com"}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("POST /admin/agents: %d", res.StatusCode)
			}
			for _, p := range []string{"/agent/ws", "/agent/conversations/" + id + "/ws"} {
				u, _ := url.Parse(e.URL + p)
				h := http.Header{}
				for _, ck := range c.Jar.Cookies(u) {
					h.Add("Cookie", ck.String())
				}
				u.Scheme = "ws"
				_, res, err := websocket.DefaultDialer.Dial(u.String(), h)
				if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
					t.Errorf("socket %s: %v, want 403", p, err)
				}
			}
		})
	}
	conv, _ := e.store.Conversation(context.Background(), id)
	if conv.AssigneeID != "" || conv.Ended || conv.LastSeq != 1 {
		t.Errorf("refused actions changed the conversation: %+v", conv)
	}
	// An agent who is not an admin cannot reach /admin.
	agent, _ := e.agentClient(t, "Dana", kustomer.RoleAgent)
	if res := agent.get("/admin/agents"); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent on /admin: %d, want 403", res.StatusCode)
	}
	if res := agent.postForm("/admin/agents", url.Values{"email": {"x@example.com"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent POST /admin/agents: %d, want 403", res.StatusCode)
	}
}

func TestDisabledAgentIsSignedOut(t *testing.T) {
	e := newEnv(t)
	e.srv.sockets.PingInterval = 50 * time.Millisecond
	admin, _ := e.agentClient(t, "Root", kustomer.RoleAdmin)
	dana, d := e.agentClient(t, "Dana", kustomer.RoleAgent)
	customer := e.client()
	id := customer.handoff(t)
	if res := dana.postForm("/agent/conversations/"+id+"/join", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("join: %d", res.StatusCode)
	}
	inbox := dana.dialPath(t, "/agent/ws")
	convSock := dana.dialPath(t, "/agent/conversations/"+id+"/ws")

	if res := admin.postForm("/admin/agents/"+d.ID+"/toggle", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", res.StatusCode, res.Body)
	}
	res := dana.get("/agent")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/agent/sign-in") {
		t.Errorf("disabled agent's next request: %d", res.StatusCode)
	}
	if !strings.Contains(string(dana.get("/agent/sign-in").Body), "disabled") {
		t.Errorf("the sign-in page does not say the account was disabled")
	}
	for name, w := range map[string]*websocket.Conn{"inbox": inbox, "conversation": convSock} {
		// A pong that cannot be written (the server already closed) must
		// not end reading before the frames already received.
		w.SetPingHandler(func(string) error {
			w.WriteControl(websocket.PongMessage, nil, time.Now().Add(time.Second))
			return nil
		})
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
			t.Errorf("%s socket: signed_out %v, ended with %v", name, saw, err)
		}
	}
	// A tab sent straight to the sign-in page (as the socket's signed_out
	// does) is told why too.
	kim, k := e.agentClient(t, "Kim", kustomer.RoleAgent)
	if res := admin.postForm("/admin/agents/"+k.ID+"/toggle", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable Kim: %d", res.StatusCode)
	}
	if page := kim.get("/agent/sign-in"); page.StatusCode != http.StatusOK || !strings.Contains(page.doc(t).Find(`[data-testid="notice"]`).Text(), "disabled") {
		t.Errorf("sign-in page after being disabled: %d, notice %q", page.StatusCode, page.doc(t).Find(`[data-testid="notice"]`).Text())
	}
	if res := kim.get("/agent"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("disabled agent still signed in: %d", res.StatusCode)
	}

	// Their conversation went back to the queue, with a message saying so.
	conv, _ := e.store.Conversation(context.Background(), id)
	if conv.AssigneeID != "" {
		t.Errorf("conversation still assigned to the disabled agent")
	}
	msgs, _ := e.store.Messages(context.Background(), id, kustomer.MessageQuery{})
	if last := msgs[len(msgs)-1]; last.SentBy.Type != kustomer.AuthorSystem || !strings.Contains(last.Body, "Dana left") {
		t.Errorf("last message %+v", last)
	}
}

// dialPath opens a console socket as c.
func (c *client) dialPath(t testing.TB, path string) *websocket.Conn {
	t.Helper()
	u, _ := url.Parse(c.e.URL + path)
	h := http.Header{}
	for _, ck := range c.Jar.Cookies(u) {
		h.Add("Cookie", ck.String())
	}
	u.Scheme = "ws"
	conn, res, err := websocket.DefaultDialer.Dial(u.String(), h)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial %s: %v (%d)", path, err, status)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestPrivateNotesNeverReachTheCustomer(t *testing.T) {
	e := newEnv(t)
	agent, _ := e.agentClient(t, "Dana", kustomer.RoleAgent)
	customer := e.client()
	id := customer.handoff(t)
	custSock := customer.mustDial(t, id, 1)
	agentSock := &ws{t: t, conn: agent.dialPath(t, "/agent/conversations/"+id+"/ws")}
	agentSock.send(map[string]any{"type": "hello", "afterSeq": 0})
	agentSock.messages(1)

	const secret = "NOTE: customer seems angry, offer a refund"
	agentSock.send(map[string]any{"type": "send", "clientMessageId": "n1", "body": secret, "private": true})
	notes, _ := agentSock.messages(1)
	if m := notes[0].msg(t); !strings.Contains(notes[0].HTML, `data-private="true"`) || m.Body != secret {
		t.Errorf("agent's own note frame: %+v", notes[0])
	}
	// A note through the organization API too.
	if res := e.org(http.MethodPost, "/conversations/"+id+"/messages", map[string]any{"body": secret + " (api)", "private": true, "authorName": "Bot"}); res.StatusCode != http.StatusCreated {
		t.Fatalf("org note: %d", res.StatusCode)
	}
	agentSock.messages(1)
	agentSock.send(map[string]any{"type": "send", "clientMessageId": "r1", "body": "We are on it."})

	got, _ := custSock.messages(1)
	if got[0].msg(t).Body != "We are on it." || got[0].Seq != 4 {
		t.Fatalf("customer got %+v", got[0])
	}
	if strings.Contains(got[0].HTML, "NOTE") {
		t.Errorf("note in the customer's frame")
	}
	page := string(customer.get("/conversations/" + id).Body)
	api := string(customer.sendJSON(http.MethodGet, "/api/v1/conversations/"+id+"/messages", nil).Body)
	list := string(customer.get("/conversations").Body)
	apiList := string(customer.sendJSON(http.MethodGet, "/api/v1/conversations", nil).Body)
	for where, body := range map[string]string{"page": page, "api": api, "list": list, "api list": apiList} {
		if strings.Contains(body, "NOTE") || strings.Contains(body, "refund") {
			t.Errorf("the customer's %s shows the private note", where)
		}
	}
	// A fresh socket replaying the whole thread skips the notes.
	all, _ := customer.mustDial(t, id, 0).messages(2)
	if seqs(all) != "1,4," {
		t.Errorf("replay seqs %s, want 1,4,", seqs(all))
	}
	conv, _ := e.store.Conversation(context.Background(), id)
	if conv.CustomerUnread > 1 || conv.Preview != "We are on it." {
		t.Errorf("unread %d preview %q: notes counted", conv.CustomerUnread, conv.Preview)
	}
	// A customer cannot write a note.
	res := customer.sendJSON(http.MethodPost, "/api/v1/conversations/"+id+"/messages", `{"body":"x","private":true}`, invalid...)
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("customer note via API: %d, want 400 (unknown field)", res.StatusCode)
	}
	custSock.send(map[string]any{"type": "send", "clientMessageId": "sneaky", "body": "x", "private": true})
	for {
		f := custSock.next()
		if f.Type == "error" {
			if f.Code != "invalid" || f.ClientMessageID != "sneaky" {
				t.Errorf("customer note via socket: %+v", f)
			}
			break
		}
	}
	// The console shows the notes with their seq.
	doc := agent.get("/agent/conversations/" + id).doc(t)
	if n := doc.Find(`[data-private="true"]`).Length(); n != 2 {
		t.Errorf("console shows %d notes, want 2", n)
	}
}

func TestAgentWorkflow(t *testing.T) {
	e := newEnv(t)
	dana, d := e.agentClient(t, "Dana", kustomer.RoleAgent, "billing")
	lee, l := e.agentClient(t, "Lee", kustomer.RoleAgent)
	customer := e.client()
	id := customer.handoff(t)

	inbox := dana.get("/agent?queue=unassigned").doc(t)
	row := inbox.Find(`[data-testid="inbox-row"][data-conversation-id="` + id + `"]`)
	if row.Length() != 1 || !strings.Contains(row.Text(), "Dana Smith") || !strings.Contains(row.Text(), "Contact support") {
		t.Fatalf("unassigned queue row: %q", row.Text())
	}
	if !strings.Contains(row.Find(`[data-testid="inbox-unread"]`).Text(), "1") {
		t.Errorf("unread badge: %q", row.Find(`[data-testid="inbox-unread"]`).Text())
	}

	act := func(c *client, op string, v url.Values) response {
		t.Helper()
		return c.postForm("/agent/conversations/"+id+"/"+op, v)
	}
	if res := act(dana, "join", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("join: %d %s", res.StatusCode, res.Body)
	}
	if n := dana.get("/agent?queue=unassigned").doc(t).Find(`[data-conversation-id="` + id + `"]`).Length(); n != 0 {
		t.Errorf("joined conversation still unassigned")
	}
	if n := dana.get("/agent?queue=mine").doc(t).Find(`[data-conversation-id="` + id + `"]`).Length(); n != 1 {
		t.Errorf("joined conversation not in mine")
	}
	chat := customer.get("/conversations/" + id).doc(t)
	if !strings.Contains(chat.Text(), "Dana joined") || strings.Contains(chat.Text(), d.ID) {
		t.Errorf("customer does not see 'Dana joined' in plain words")
	}
	if !strings.Contains(chat.Find(`[data-testid="chat-assignee"]`).Text(), "Dana") {
		t.Errorf("chat does not say who is answering")
	}
	if res := act(dana, "messages", url.Values{"body": {"Hello, I'm Dana."}, "clientMessageId": {"r-1"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d", res.StatusCode)
	}
	if res := act(dana, "messages", url.Values{"body": {""}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("empty reply: %d", res.StatusCode)
	}

	if res := act(dana, "transfer", url.Values{"skill": {"nope"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.doc(t).Find(`[data-testid="action-error"]`).Text(), "not a defined skill") {
		t.Errorf("transfer to an undefined skill: %d", res.StatusCode)
	}
	if res := act(dana, "transfer", url.Values{"skill": {"billing"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("transfer to skill: %d %s", res.StatusCode, res.Body)
	}
	q := dana.get("/agent?queue=unassigned&skill=billing").doc(t)
	if q.Find(`[data-conversation-id="`+id+`"]`).Length() != 1 {
		t.Errorf("conversation not in the billing queue")
	}
	if dana.get("/agent?queue=unassigned&skill=sales").doc(t).Find(`[data-conversation-id="`+id+`"]`).Length() != 0 {
		t.Errorf("conversation in the sales queue")
	}
	if !strings.Contains(customer.get("/conversations/"+id).doc(t).Text(), "Transferred to the Billing team") {
		t.Errorf("customer does not see the transfer in plain words")
	}

	if res := act(dana, "transfer", url.Values{"agentId": {l.ID}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("transfer to agent: %d", res.StatusCode)
	}
	if n := lee.get("/agent?queue=mine").doc(t).Find(`[data-conversation-id="` + id + `"]`).Length(); n != 1 {
		t.Errorf("transferred conversation not in Lee's queue")
	}
	if res := act(lee, "unassign", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("unassign: %d", res.StatusCode)
	}
	if res := act(lee, "end", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("end: %d", res.StatusCode)
	}
	if res := act(lee, "join", nil); res.StatusCode != http.StatusConflict {
		t.Errorf("join an ended conversation: %d, want 409", res.StatusCode)
	}

	// The customer rates, once.
	chat = customer.get("/conversations/" + id).doc(t)
	if chat.Find(`[data-testid="rating-form"]`).Length() != 1 {
		t.Fatalf("no rating form on the ended conversation")
	}
	if res := customer.postForm("/conversations/"+id+"/rating", url.Values{"rating": {"9"}, "comment": {"great"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		res.doc(t).Find(`[data-testid="rating-error"]`).Length() != 1 {
		t.Errorf("rating 9: %d", res.StatusCode)
	}
	if res := customer.postForm("/conversations/"+id+"/rating", url.Values{"rating": {"4"}, "comment": {"Quick and kind"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("rate: %d", res.StatusCode)
	}
	if res := customer.postForm("/conversations/"+id+"/rating", url.Values{"rating": {"1"}}); res.StatusCode != http.StatusConflict {
		t.Errorf("second rating: %d, want 409", res.StatusCode)
	}
	if !strings.Contains(customer.get("/conversations/"+id).doc(t).Find(`[data-testid="rating-thanks"]`).Text(), "★") {
		t.Errorf("no thanks after rating")
	}
	panel := dana.get("/agent/conversations/" + id + "/panel").doc(t)
	if got := panel.Find(`[data-testid="panel-rating"]`).Text(); !strings.Contains(got, "4") || !strings.Contains(got, "Quick and kind") {
		t.Errorf("agent does not see the rating: %q", got)
	}
	if res := act(dana, "reopen", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reopen: %d", res.StatusCode)
	}
	conv, _ := e.store.Conversation(context.Background(), id)
	if conv.Ended || conv.Satisfaction != nil {
		t.Errorf("reopened: %+v", conv)
	}
	// The transcript shows every event with author, time and seq.
	doc := dana.get("/agent/conversations/" + id).doc(t)
	if n := doc.Find(`[data-testid="message-seq"]`).Length(); n != int(conv.LastSeq) {
		t.Errorf("%d seq labels for %d messages", n, conv.LastSeq)
	}
}

func TestAgentEditsAttributes(t *testing.T) {
	e := newEnv(t)
	dana, _ := e.agentClient(t, "Dana", kustomer.RoleAgent)
	id := e.client().handoff(t)
	res := dana.postForm("/agent/conversations/"+id+"/attributes", url.Values{"topicStr": {"billing"}, "teamSizeNum": {"many"}, "orderNumberStr": {""}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid attributes: %d", res.StatusCode)
	}
	doc := res.doc(t)
	if !strings.Contains(doc.Find(`[data-testid="attr-error-teamSizeNum"]`).Text(), "number") {
		t.Errorf("no error beside teamSizeNum")
	}
	if v, _ := doc.Find(`[data-testid="attr-teamSizeNum"]`).Attr("value"); v != "many" {
		t.Errorf("value not kept: %q", v)
	}
	conv, _ := e.store.Conversation(context.Background(), id)
	if conv.CustomAttributes["topicStr"] != "order" {
		t.Errorf("a rejected edit changed attributes: %v", conv.CustomAttributes)
	}
	res = dana.postForm("/agent/conversations/"+id+"/attributes", url.Values{"topicStr": {"billing"}, "teamSizeNum": {"12"}, "orderNumberStr": {""}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("valid attributes: %d %s", res.StatusCode, res.Body)
	}
	conv, _ = e.store.Conversation(context.Background(), id)
	if conv.CustomAttributes["topicStr"] != "billing" || conv.CustomAttributes["teamSizeNum"] != 12.0 {
		t.Errorf("attributes %v", conv.CustomAttributes)
	}
	if _, ok := conv.CustomAttributes["orderNumberStr"]; ok {
		t.Errorf("emptied attribute not cleared")
	}
}

func TestAdminManagesAgents(t *testing.T) {
	e := newEnv(t)
	admin, root := e.agentClient(t, "Root", kustomer.RoleAdmin)
	bad := url.Values{"name": {""}, "email": {"nope"}, "password": {"short"}, "role": {"boss"}, "skills": {"cooking"}}
	res := admin.postForm("/admin/agents", bad)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid agent: %d", res.StatusCode)
	}
	doc := res.doc(t)
	for _, f := range []string{"name", "email", "password", "role", "skills"} {
		if doc.Find(`[data-testid="agent-error-`+f+`"]`).Length() != 1 {
			t.Errorf("no error beside %s", f)
		}
	}
	good := url.Values{"name": {"Sam"}, "email": {"sam@example.com"}, "password": {"a long enough password"}, "role": {"agent"}, "skills": {"billing", "sales"}}
	if res := admin.postForm("/admin/agents", good); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	if res := admin.postForm("/admin/agents", good); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.doc(t).Find(`[data-testid="agent-error-email"]`).Text(), "exists") {
		t.Errorf("duplicate email: %d", res.StatusCode)
	}
	sam, err := e.engine.Authenticate(context.Background(), "SAM@example.com", "a long enough password")
	if err != nil || len(sam.Skills) != 2 {
		t.Fatalf("new agent cannot sign in: %v %+v", err, sam)
	}
	list := admin.get("/admin/agents").doc(t)
	if list.Find(`[data-testid="agent-row"]`).Length() != 2 {
		t.Errorf("agent rows: %d", list.Find(`[data-testid="agent-row"]`).Length())
	}
	if list.Find(`[data-agent-id="`+root.ID+`"] [data-testid="agent-toggle"]`).Length() != 0 {
		t.Errorf("an admin is offered to disable themself")
	}
	if res := admin.postForm("/admin/agents/"+sam.ID, url.Values{"name": {"Samantha"}, "role": {"admin"}, "skills": {"sales"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", res.StatusCode, res.Body)
	}
	sam, _ = e.engine.Agent(context.Background(), sam.ID)
	if sam.Name != "Samantha" || sam.Role != kustomer.RoleAdmin || len(sam.Skills) != 1 {
		t.Errorf("edited: %+v", sam)
	}
	if res := admin.postForm("/admin/agents/"+root.ID+"/toggle", nil); res.StatusCode != http.StatusConflict {
		t.Errorf("disable oneself: %d", res.StatusCode)
	}
	// Demoting Samantha leaves Root as the only admin; demoting Root then fails.
	admin.postForm("/admin/agents/"+sam.ID, url.Values{"name": {"Samantha"}, "role": {"agent"}})
	res = admin.postForm("/admin/agents/"+root.ID, url.Values{"name": {"Root"}, "role": {"agent"}})
	if res.StatusCode != http.StatusConflict {
		t.Errorf("demote the last admin: %d", res.StatusCode)
	}
}

func TestOrgAPIAgentOperations(t *testing.T) {
	e := newEnv(t)
	a := e.newAgent(t, "Dana", kustomer.RoleAgent)
	id := e.client().handoff(t)
	var conv kustomer.Conversation
	res := e.org(http.MethodPost, "/conversations/"+id+"/transfer", map[string]any{"agentId": a.ID})
	res.json(t, &conv)
	if res.StatusCode != http.StatusOK || conv.AssigneeID != a.ID || conv.AssigneeName != "Dana" {
		t.Fatalf("transfer to agent: %d %s", res.StatusCode, res.Body)
	}
	res = e.org(http.MethodPost, "/conversations/"+id+"/transfer", map[string]any{"skill": "sales"})
	conv = kustomer.Conversation{}
	res.json(t, &conv)
	if conv.AssigneeID != "" || conv.Skill != "sales" {
		t.Errorf("transfer to skill: %s", res.Body)
	}
	if res := e.org(http.MethodPost, "/conversations/"+id+"/transfer", map[string]any{"agentId": strings.Repeat("f", 24)}); res.StatusCode != 422 {
		t.Errorf("unknown agent: %d", res.StatusCode)
	}
	e.org(http.MethodPost, "/conversations/"+id+"/end", nil)
	res = e.org(http.MethodPost, "/conversations/"+id+"/reopen", nil)
	res.json(t, &conv)
	if res.StatusCode != http.StatusOK || conv.Ended {
		t.Errorf("reopen: %d %s", res.StatusCode, res.Body)
	}
	var agents struct {
		Agents []map[string]any `json:"agents"`
	}
	res = e.org(http.MethodGet, "/agents", nil)
	res.json(t, &agents)
	if len(agents.Agents) != 1 || strings.Contains(string(res.Body), "$2a$") {
		t.Errorf("agents: %s", res.Body)
	}
}

func TestInboxSocketAnnouncesNewConversations(t *testing.T) {
	e := newEnv(t)
	dana, _ := e.agentClient(t, "Dana", kustomer.RoleAgent)
	inbox := dana.dialPath(t, "/agent/ws")
	var first map[string]any
	inbox.SetReadDeadline(time.Now().Add(time.Second))
	if err := inbox.ReadJSON(&first); err != nil || first["type"] != "counts" || first["waiting"] != 0.0 || first["unread"] != 0.0 {
		t.Fatalf("first frame %v %v, want the counts, nothing waiting", first, err)
	}
	id := e.client().handoff(t)
	// The new conversation: a notice for Dana (it is in her queue), the
	// inbox's "changed", then the counts with it waiting.
	var got []string
	deadline := time.Now().Add(time.Second)
	for len(got) < 3 {
		var f map[string]any
		inbox.SetReadDeadline(deadline)
		if err := inbox.ReadJSON(&f); err != nil {
			t.Fatalf("frames %q, then %v; want a notice, the inbox frame and the counts within a second", got, err)
		}
		switch f["type"] {
		case "notice":
			got = append(got, fmt.Sprintf("notice %v %v %v %v", f["kind"], f["conversationId"] == id, f["title"], f["url"] == "/agent/conversations/"+id))
		case "inbox":
			got = append(got, fmt.Sprintf("inbox %v", f["conversationId"] == id))
		case "counts":
			got = append(got, fmt.Sprintf("counts %v %v", f["waiting"], f["unread"]))
		}
	}
	if want := []string{"notice new_conversation true New conversation from Dana Smith true", "inbox true", "counts 1 0"}; !slices.Equal(got, want) {
		t.Errorf("frames = %q, want %q", got, want)
	}
	list := dana.get("/agent/inbox?queue=unassigned")
	if list.StatusCode != http.StatusOK || list.doc(t).Find(`[data-conversation-id="`+id+`"]`).Length() != 1 {
		t.Errorf("inbox list fragment: %d", list.StatusCode)
	}
	if strings.Contains(string(list.Body), "<html") {
		t.Errorf("the fragment is a whole page")
	}
}

func TestCustomerSeesWhoJoinedLive(t *testing.T) {
	e := newEnv(t)
	dana, d := e.agentClient(t, "Dana", kustomer.RoleAgent)
	customer := e.client()
	id := customer.handoff(t)
	w := customer.mustDial(t, id, 1)
	if res := dana.postForm("/agent/conversations/"+id+"/join", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("join: %d", res.StatusCode)
	}
	var raw []byte
	for {
		w.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := w.conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), `"type":"conversation"`) {
			raw = b
			break
		}
		if !strings.Contains(string(b), "Dana joined the conversation.") || strings.Contains(string(b), d.ID) {
			t.Errorf("unexpected frame %s: want the event in words, without the agent's id", b)
		}
	}
	if !strings.Contains(string(raw), `"assigneeName":"Dana"`) || strings.Contains(string(raw), d.ID) {
		t.Errorf("conversation frame %s: want the agent's name and no id", raw)
	}
	api := customer.sendJSON(http.MethodGet, "/api/v1/conversations/"+id+"/messages", nil)
	if !strings.Contains(string(api.Body), "Dana joined") || strings.Contains(string(api.Body), d.ID) {
		t.Errorf("customer API messages %s: want the event in words, without the agent's id", api.Body)
	}
}

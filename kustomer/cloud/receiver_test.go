package cloud_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/cloud"
	"github.com/handoff/handoff/kustomer/sqlstore"
)

const testConfig = `
forms:
  - id: contact
    title: Contact us
    fields:
      - {name: email, type: email, role: email, required: true}
      - {name: message, type: textarea, role: message}
`

const secret = "kustomer-webhook-token"

// receiverEnv is a receiver in front of an engine over a real SQLite file,
// with one relayed conversation mapped to Kustomer's remoteConv.
type receiverEnv struct {
	store    *sqlstore.Store
	engine   *kustomer.Engine
	url      string
	conv     kustomer.Conversation
	outcomes []string
}

const remoteConv = "5f1111111111111111111111"

func newReceiverEnv(t *testing.T) *receiverEnv {
	t.Helper()
	ctx := t.Context()
	store, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "handoff.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cfg, err := kustomer.ParseConfig(strings.NewReader(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	hub := kustomer.NewHub()
	t.Cleanup(hub.Close)
	e := kustomer.NewEngine(store, hub, cfg, nil)
	env := &receiverEnv{store: store, engine: e}
	rc := &cloud.Receiver{Engine: e, Refs: store, Secret: []byte(secret), AgentName: "Grace", Observe: func(o string) { env.outcomes = append(env.outcomes, o) }}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	env.url = srv.URL
	c, _, err := e.CreateConversation(ctx, kustomer.CreateConversationInput{FormID: "contact", Message: "Where is my parcel?", CustomerEmail: "dana@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	env.conv = c
	if _, err := store.SetExternalRef(ctx, kustomer.ExternalRef{System: cloud.System, Kind: cloud.KindConversation, LocalID: c.ID, RemoteID: remoteConv, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return env
}

func sign(body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func (env *receiverEnv) post(t *testing.T, body []byte, sig string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, env.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Kustomer-Webhook-Event", "kustomer.message.create")
	if sig != "" {
		req.Header.Set("X-Kustomer-Webhook-Signature", sig)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func messageEvent(eventID, messageID, text string) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": eventID, "name": "kustomer.message.create", "org": "5f0000000000000000000000", "partition": "5f0000000000000000000000",
		"data": map[string]any{
			"type": "message", "id": messageID,
			"attributes": map[string]any{"direction": "out", "preview": text, "channel": "chat", "createdAt": "2026-11-29T10:00:00.000Z"},
			"relationships": map[string]any{
				"conversation": map[string]any{"data": map[string]any{"type": "conversation", "id": remoteConv}},
				"createdBy":    map[string]any{"data": map[string]any{"type": "user", "id": "5f2222222222222222222222"}},
			},
		},
	})
	return b
}

func conversationEvent(eventID string, ended bool, updated time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": eventID, "name": "kustomer.conversation.update",
		"data": map[string]any{"type": "conversation", "id": remoteConv,
			"attributes": map[string]any{"ended": ended, "updatedAt": updated.UTC().Format("2006-01-02T15:04:05.000Z")}},
		"changes": map[string]any{"attributes": map[string]any{"ended": map[string]any{"before": !ended, "after": ended}}},
	})
	return b
}

func (env *receiverEnv) replies(t *testing.T) []string {
	t.Helper()
	msgs, err := env.store.Messages(t.Context(), env.conv.ID, kustomer.MessageQuery{Max: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		if m.SentBy.Type == kustomer.AuthorAgent {
			out = append(out, m.Body+" by "+m.SentBy.DisplayName)
		}
	}
	return out
}

// TestReceiverSignatures checks that only a body signed with the secret is
// applied: a wrong or missing signature is 401 and changes nothing, a
// replay applies once, a signed body that is not JSON is 400.
func TestReceiverSignatures(t *testing.T) {
	env := newReceiverEnv(t)
	body := messageEvent("evt-1", "5f3333333333333333333331", "It left the depot.")
	forged := messageEvent("evt-2", "5f3333333333333333333332", "Send us your password.")
	if st := env.post(t, forged, sign([]byte("something else"))); st != http.StatusUnauthorized {
		t.Fatalf("wrong signature: %d, want 401", st)
	}
	if st := env.post(t, forged, ""); st != http.StatusUnauthorized {
		t.Fatalf("unsigned: %d, want 401", st)
	}
	if st := env.post(t, forged, "not hex"); st != http.StatusUnauthorized {
		t.Fatalf("garbled signature: %d, want 401", st)
	}
	if st := env.post(t, body, strings.ToUpper(sign(body))); st != http.StatusOK {
		t.Fatalf("valid (upper-case hex): %d", st)
	}
	if st := env.post(t, body, sign(body)); st != http.StatusOK {
		t.Fatalf("replayed: %d", st)
	}
	notJSON := []byte("{not json")
	if st := env.post(t, notJSON, sign(notJSON)); st != http.StatusBadRequest {
		t.Fatalf("signed, not JSON: %d, want 400", st)
	}
	if got := env.replies(t); len(got) != 1 || got[0] != "It left the depot. by Grace" {
		t.Fatalf("replies %q, want the one valid reply once", got)
	}
	want := []string{"refused", "refused", "refused", "verified", "duplicate", "invalid"}
	if strings.Join(env.outcomes, ",") != strings.Join(want, ",") {
		t.Errorf("outcomes %v, want %v", env.outcomes, want)
	}
}

// TestReceiverReordered checks that conversation updates apply by their
// own times: an older update arriving last changes nothing.
func TestReceiverReordered(t *testing.T) {
	env := newReceiverEnv(t)
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	// Ended at t0+2; reopened at t0+1 arrives after it.
	for _, b := range [][]byte{conversationEvent("evt-10", true, t0.Add(2*time.Second)), conversationEvent("evt-11", false, t0.Add(time.Second))} {
		if st := env.post(t, b, sign(b)); st != http.StatusOK {
			t.Fatalf("update: %d", st)
		}
	}
	c, err := env.store.Conversation(t.Context(), env.conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Ended {
		t.Fatal("the older reopen undid the newer end")
	}
	// A newer reopen applies.
	b := conversationEvent("evt-12", false, t0.Add(3*time.Second))
	env.post(t, b, sign(b))
	if c, _ = env.store.Conversation(t.Context(), env.conv.ID); c.Ended {
		t.Fatal("the newer reopen was not applied")
	}
	if strings.Join(env.outcomes, ",") != "verified,ignored,verified" {
		t.Errorf("outcomes %v", env.outcomes)
	}
	// A reply about a conversation handoff does not relay is ignored.
	other := bytes.ReplaceAll(messageEvent("evt-13", "5f3333333333333333333339", "hello"), []byte(remoteConv), []byte("5f9999999999999999999999"))
	if st := env.post(t, other, sign(other)); st != http.StatusOK || len(env.replies(t)) != 0 {
		t.Fatalf("a reply to another conversation: %d, replies %q", st, env.replies(t))
	}
}

func assignmentEvent(eventID string, users []string, updated time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": eventID, "name": "kustomer.conversation.update",
		"data": map[string]any{"type": "conversation", "id": remoteConv,
			"attributes": map[string]any{"ended": false, "assignedUsers": users, "updatedAt": updated.UTC().Format("2006-01-02T15:04:05.000Z")}},
	})
	return b
}

// TestReceiverAssignee checks that the agent assigned in Kustomer joins the
// chat under the team's name, that nobody assigned puts it back in the
// queue, and that a late, older assignment changes nothing.
func TestReceiverAssignee(t *testing.T) {
	env := newReceiverEnv(t)
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	post := func(b []byte) {
		t.Helper()
		if st := env.post(t, b, sign(b)); st != http.StatusOK {
			t.Fatalf("update: %d", st)
		}
	}
	assignee := func() string {
		c, err := env.store.Conversation(t.Context(), env.conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c.AssigneeID
	}
	post(assignmentEvent("evt-20", []string{"5f4444444444444444444444"}, t0.Add(time.Second)))
	if got := assignee(); got != "kustomer:5f4444444444444444444444" {
		t.Fatalf("assignee %q", got)
	}
	msgs, _ := env.store.Messages(t.Context(), env.conv.ID, kustomer.MessageQuery{Max: 10})
	if last := msgs[len(msgs)-1]; last.Body != "Grace joined the conversation." {
		t.Fatalf("last message %q", last.Body)
	}
	post(assignmentEvent("evt-21", []string{}, t0.Add(3*time.Second)))
	post(assignmentEvent("evt-22", []string{"5f5555555555555555555555"}, t0.Add(2*time.Second)))
	if got := assignee(); got != "" {
		t.Fatalf("assignee %q after the newer unassignment, want none", got)
	}
	if strings.Join(env.outcomes, ",") != "verified,verified,ignored" {
		t.Errorf("outcomes %v", env.outcomes)
	}
}

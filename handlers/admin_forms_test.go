package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer"
)

func TestAdminChangesFormAssistant(t *testing.T) {
	e := newEnv(t)
	admin, _ := e.agentClient(t, "Root", kustomer.RoleAdmin)
	doc := admin.get("/admin/forms").doc(t)
	card := doc.Find(`[data-testid="admin-form"][data-form-id="contact"]`)
	if card.Length() != 1 || !strings.Contains(card.Find(`[data-testid="form-assistant"]`).Text(), "None") {
		t.Fatalf("contact card: %q", card.Text())
	}
	if card.Find(`[data-testid="form-field"]`).Length() != 5 || !strings.Contains(card.Text(), "topicStr (Str)") {
		t.Errorf("fields and their mapping not shown")
	}
	if card.Find(`[data-testid="assistant-select"] option[value="qualify"]`).Length() != 1 {
		t.Errorf("qualify is not offered")
	}
	if res := admin.postForm("/admin/forms/contact/assistant", url.Values{"assistantId": {"ghost"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.doc(t).Find(`[data-testid="admin-error"]`).Text(), "not a defined assistant") {
		t.Errorf("unknown assistant: %d", res.StatusCode)
	}
	if res := admin.postForm("/admin/forms/contact/assistant", url.Values{"assistantId": {"qualify"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d %s", res.StatusCode, res.Body)
	}
	// The next hand-off uses it.
	id := e.client().handoff(t)
	conv, _ := e.store.Conversation(context.Background(), id)
	if conv.AssistantID != "qualify" || !conv.IsInAssistantMode {
		t.Errorf("next contact hand-off: assistant %q mode %v", conv.AssistantID, conv.IsInAssistantMode)
	}
	doc = admin.get("/admin/forms").doc(t)
	rows := doc.Find(`[data-testid="audit-row"]`)
	if rows.Length() != 1 || !strings.Contains(rows.Text(), "Root") || !strings.Contains(rows.Text(), "qualify") || !strings.Contains(rows.Text(), "contact") {
		t.Errorf("audit: %q", rows.Text())
	}
	// Stored: another engine over the same store (a restart) sees it.
	restarted := kustomer.NewEngine(e.store, e.hub, e.engine.Config(), nil)
	if a, overridden, err := restarted.FormAssistant(context.Background(), "contact"); err != nil || a != "qualify" || !overridden {
		t.Errorf("after a restart: %q %v %v", a, overridden, err)
	}
	// Back to none.
	admin.postForm("/admin/forms/contact/assistant", url.Values{"assistantId": {""}})
	id = e.client().handoff(t)
	conv, _ = e.store.Conversation(context.Background(), id)
	if conv.AssistantID != "" || conv.IsInAssistantMode {
		t.Errorf("after choosing none: %q %v", conv.AssistantID, conv.IsInAssistantMode)
	}
	// Agents who are not admins cannot change it.
	agent, _ := e.agentClient(t, "Dana", kustomer.RoleAgent)
	if res := agent.postForm("/admin/forms/contact/assistant", url.Values{"assistantId": {"qualify"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent changing a form: %d", res.StatusCode)
	}
}

func TestAPIAssistantOverride(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	res := c.sendJSON(http.MethodPost, "/api/v1/conversations", map[string]any{"message": "hi", "formId": "contact", "assistantId": "qualify"})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), "/assistantId") {
		t.Errorf("override on a form that does not allow it: %d %s", res.StatusCode, res.Body)
	}
	res = c.sendJSON(http.MethodPost, "/api/v1/conversations", map[string]any{"message": "hi", "formId": "sales", "assistantId": "ghost"})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("unknown assistant: %d %s", res.StatusCode, res.Body)
	}
	res = c.sendJSON(http.MethodPost, "/api/v1/conversations", map[string]any{"message": "hi", "formId": "sales", "assistantId": "qualify"})
	var created map[string]any
	res.json(t, &created)
	if res.StatusCode != http.StatusCreated || created["isInAssistantMode"] != true {
		t.Errorf("allowed override: %d %s", res.StatusCode, res.Body)
	}
	if n := e.conversationCount(); n != 1 {
		t.Errorf("%d conversations stored, want 1", n)
	}
}

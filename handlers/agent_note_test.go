package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/handoff/handoff/kustomer"
)

// TestAgentNoteOrgAPI: setAgentNote over the organization API keeps the
// earlier notes, cuts a note past 5,000 characters and says so, and the
// conversation shows its latest note; the customer's API never shows one.
func TestAgentNoteOrgAPI(t *testing.T) {
	e := newEnv(t)
	customer := e.client()
	id := customer.handoff(t)
	res := e.org(http.MethodPost, "/conversations/"+id+"/note", map[string]any{"note": "Prefers email, VIP-SECRET-7", "authorId": "crm-1", "authorName": "CRM sync"})
	var created struct {
		ConversationID string             `json:"conversationId"`
		Note           kustomer.AgentNote `json:"note"`
		Truncated      bool               `json:"truncated"`
		TruncatedText  *string            `json:"truncatedText"`
	}
	res.json(t, &created)
	if res.StatusCode != http.StatusCreated || created.ConversationID != id || created.Note.Text != "Prefers email, VIP-SECRET-7" ||
		created.Note.AgentName != "CRM sync" || created.Truncated || created.TruncatedText != nil {
		t.Fatalf("setAgentNote: %d %s", res.StatusCode, res.Body)
	}
	long := strings.Repeat("ü", 5003)
	res = e.org(http.MethodPost, "/conversations/"+id+"/note", map[string]any{"note": long})
	res.json(t, &created)
	if !created.Truncated || created.TruncatedText == nil || utf8.RuneCountInString(*created.TruncatedText) != 5000 || *created.TruncatedText != created.Note.Text {
		t.Errorf("a long note: truncated %v, kept %d characters", created.Truncated, utf8.RuneCountInString(created.Note.Text))
	}
	var list struct {
		Notes []kustomer.AgentNote `json:"notes"`
	}
	e.org(http.MethodGet, "/conversations/"+id+"/notes", nil).json(t, &list)
	if len(list.Notes) != 2 || list.Notes[1].Text != "Prefers email, VIP-SECRET-7" {
		t.Errorf("history %+v, want the long note, then the first", list.Notes)
	}
	var conv struct {
		AgentNote *kustomer.AgentNote `json:"agentNote"`
	}
	e.org(http.MethodGet, "/conversations/"+id, nil).json(t, &conv)
	if conv.AgentNote == nil || conv.AgentNote.ID != created.Note.ID {
		t.Errorf("the conversation's agentNote is %+v, want the latest", conv.AgentNote)
	}
	if res := e.org(http.MethodPost, "/conversations/"+kustomer.NewID()+"/note", map[string]any{"note": "x"}); res.StatusCode != http.StatusNotFound {
		t.Errorf("a note on an unknown conversation: %d, want 404", res.StatusCode)
	}
	// Nothing the customer can read carries a note.
	for _, path := range []string{"/api/v1/conversations/" + id, "/api/v1/conversations/" + id + "/messages", "/api/v1/conversations", "/conversations/" + id} {
		if body := string(customer.get(path).Body); strings.Contains(body, "VIP-SECRET-7") || strings.Contains(body, "üüü") {
			t.Errorf("%s shows the customer an agents' note", path)
		}
	}
}

// TestAgentNoteConsole: an agent writes the note in the console; the
// panel shows it with who wrote it and keeps the earlier one below.
func TestAgentNoteConsole(t *testing.T) {
	e := newEnv(t)
	dana, _ := e.agentClient(t, "Dana", kustomer.RoleAgent)
	id := e.client().handoff(t)
	for _, note := range []string{"Called on Monday", "Refund approved"} {
		if res := dana.postForm("/agent/conversations/"+id+"/note", url.Values{"note": {note}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("save note: %d %s", res.StatusCode, res.Body)
		}
	}
	doc := dana.get("/agent/conversations/" + id).doc(t)
	if got := doc.Find(`[data-testid="note-text"]`).Text(); got != "Refund approved" {
		t.Errorf("note box %q, want the latest note", got)
	}
	if by := doc.Find(`[data-testid="note-by"]`).Text(); !strings.Contains(by, "Dana") {
		t.Errorf("note by %q, want Dana", by)
	}
	if items := doc.Find(`[data-testid="note-history-item"]`); items.Length() != 1 || !strings.Contains(items.Text(), "Called on Monday") {
		t.Errorf("history %q", items.Text())
	}
	res := dana.postForm("/agent/conversations/"+id+"/note", url.Values{"note": {"bad \xff"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an invalid note: %d", res.StatusCode)
	}
	if msg := res.doc(t).Find(`[data-testid="note-error"]`).Text(); !strings.Contains(msg, "UTF-8") {
		t.Errorf("error %q", msg)
	}
}

// TestOrgConversationUnreadByParticipant: the organization's view of a
// conversation counts each participant's unread messages by user id.
func TestOrgConversationUnreadByParticipant(t *testing.T) {
	e := newEnv(t)
	dana, agent := e.agentClient(t, "Dana", kustomer.RoleAgent)
	customer := e.client()
	id := customer.handoff(t)
	if res := dana.postForm("/agent/conversations/"+id+"/join", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("join: %d", res.StatusCode)
	}
	e.org(http.MethodPost, "/conversations/"+id+"/messages", map[string]any{"body": "Hello", "authorName": "Dana"})
	var conv struct {
		CustomerID string         `json:"customerId"`
		Unread     map[string]int `json:"numberOfunreadMessages"`
	}
	e.org(http.MethodGet, "/conversations/"+id, nil).json(t, &conv)
	if len(conv.Unread) != 2 || conv.Unread[conv.CustomerID] != 1 || conv.Unread[agent.ID] != 1 {
		t.Errorf("numberOfunreadMessages %v, want the customer 1 (the reply) and Dana 1 (the form's message)", conv.Unread)
	}
}

// TestTransferForms: the organization API and the console transfer to an
// agent in a skill's queue, back to the queue, or only suggest an agent,
// who accepts it in the console.
func TestTransferForms(t *testing.T) {
	e := newEnv(t)
	dana, danaAgent := e.agentClient(t, "Dana", kustomer.RoleAgent)
	lee, leeAgent := e.agentClient(t, "Lee", kustomer.RoleAgent)
	id := e.client().handoff(t)
	var conv kustomer.Conversation
	res := e.org(http.MethodPost, "/conversations/"+id+"/transfer", map[string]any{"agentId": danaAgent.ID, "skill": "sales"})
	res.json(t, &conv)
	if res.StatusCode != http.StatusOK || conv.AssigneeID != danaAgent.ID || conv.Skill != "sales" {
		t.Fatalf("transfer to an agent and a skill: %d %s", res.StatusCode, res.Body)
	}
	conv = kustomer.Conversation{}
	res = e.org(http.MethodPost, "/conversations/"+id+"/transfer", map[string]any{})
	res.json(t, &conv)
	if res.StatusCode != http.StatusOK || conv.AssigneeID != "" || conv.Skill != "sales" {
		t.Errorf("transfer to neither: %d %s", res.StatusCode, res.Body)
	}

	// Dana suggests it to Lee in the console; Lee sees it and accepts.
	res = dana.postForm("/agent/conversations/"+id+"/transfer", url.Values{"agentId": {leeAgent.ID}, "suggest": {"1"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("suggest: %d %s", res.StatusCode, res.Body)
	}
	if got := dana.get("/agent/conversations/" + id).doc(t).Find(`[data-testid="panel-suggested"]`).Text(); !strings.Contains(got, "Suggested to Lee") {
		t.Errorf("Dana's panel says %q", got)
	}
	doc := lee.get("/agent/conversations/" + id).doc(t)
	if doc.Find(`[data-testid="action-accept"]`).Length() != 1 {
		t.Fatal("Lee's panel offers no Accept")
	}
	if res := dana.postForm("/agent/conversations/"+id+"/accept", nil); res.StatusCode != http.StatusConflict {
		t.Errorf("Dana accepts Lee's suggestion: %d, want 409", res.StatusCode)
	}
	if res := lee.postForm("/agent/conversations/"+id+"/accept", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("Lee accepts: %d %s", res.StatusCode, res.Body)
	}
	stored, _ := e.store.Conversation(t.Context(), id)
	if stored.AssigneeID != leeAgent.ID || stored.SuggestedAgentID != "" {
		t.Errorf("after accepting: assignee %q suggested %q", stored.AssigneeID, stored.SuggestedAgentID)
	}
	// Over the API too.
	e.org(http.MethodPost, "/conversations/"+id+"/transfer", map[string]any{"agentId": danaAgent.ID, "suggest": true})
	conv = kustomer.Conversation{}
	res = e.org(http.MethodPost, "/conversations/"+id+"/accept", map[string]any{"agentId": danaAgent.ID})
	res.json(t, &conv)
	if res.StatusCode != http.StatusOK || conv.AssigneeID != danaAgent.ID {
		t.Errorf("accept over the API: %d %s", res.StatusCode, res.Body)
	}
}

// TestTTROperations: the organization API and the console set a
// conversation's time to respond and a manual expected time; the
// conversation says when the answer is due.
func TestTTROperations(t *testing.T) {
	e := newEnv(t)
	dana, _ := e.agentClient(t, "Dana", kustomer.RoleAgent)
	id := e.client().handoff(t)
	var conv kustomer.Conversation
	e.org(http.MethodGet, "/conversations/"+id, nil).json(t, &conv)
	if conv.TTR.Type != "NORMAL" || conv.TTREffective == nil || !conv.TTREffective.Equal(conv.AwaitingSince.Add(5*time.Minute)) {
		t.Fatalf("a new contact conversation: ttr %+v due %v, want NORMAL, due 5 minutes (the form's ttrTarget) after it started waiting", conv.TTR, conv.TTREffective)
	}
	res := e.org(http.MethodPut, "/conversations/"+id+"/ttr", map[string]any{"ttrType": "CUSTOM", "value": 600})
	res.json(t, &conv)
	if res.StatusCode != http.StatusOK || conv.TTR.Type != "CUSTOM" || !conv.TTREffective.Equal(conv.AwaitingSince.Add(10*time.Minute)) {
		t.Errorf("PUT ttr: %d %s", res.StatusCode, res.Body)
	}
	if res := e.org(http.MethodPut, "/conversations/"+id+"/ttr", map[string]any{"ttrType": "LATER"}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an unknown ttrType: %d", res.StatusCode)
	}
	when := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Millisecond)
	res = e.org(http.MethodPut, "/conversations/"+id+"/ettr", map[string]any{"time": when.Format(time.RFC3339Nano)})
	conv = kustomer.Conversation{}
	res.json(t, &conv)
	if res.StatusCode != http.StatusOK || conv.TTR.ManualETTR == nil || !conv.TTREffective.Equal(when) {
		t.Errorf("PUT ettr: %d %s", res.StatusCode, res.Body)
	}
	for _, bad := range []any{"tomorrow", time.Now().Add(-time.Hour).Format(time.RFC3339)} {
		if res := e.org(http.MethodPut, "/conversations/"+id+"/ettr", map[string]any{"time": bad}); res.StatusCode < 400 || res.StatusCode >= 500 {
			t.Errorf("ettr %v: %d, want a client error", bad, res.StatusCode)
		}
	}
	res = e.org(http.MethodPut, "/conversations/"+id+"/ettr", map[string]any{"time": nil})
	conv = kustomer.Conversation{}
	res.json(t, &conv)
	if res.StatusCode != http.StatusOK || conv.TTR.ManualETTR != nil {
		t.Errorf("clearing the ettr: %d %s", res.StatusCode, res.Body)
	}

	// In the console.
	if res := dana.postForm("/agent/conversations/"+id+"/ttr", url.Values{"ttrType": {"URGENT"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("console ttr: %d %s", res.StatusCode, res.Body)
	}
	doc := dana.get("/agent/conversations/" + id).doc(t)
	if got := doc.Find(`[data-testid="panel-ttr-type"]`).Text(); got != "Urgent" {
		t.Errorf("panel ttr type %q", got)
	}
	if doc.Find(`[data-testid="panel-ttr-due"] time`).Length() != 1 {
		t.Error("the panel does not say when the answer is due")
	}
	if res := dana.postForm("/agent/conversations/"+id+"/ttr", url.Values{"ttrType": {"CUSTOM"}, "customMinutes": {"soon"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.doc(t).Find(`[data-testid="action-error"]`).Text(), "minutes") {
		t.Errorf("console custom without minutes: %d", res.StatusCode)
	}
	if res := dana.postForm("/agent/conversations/"+id+"/ttr", url.Values{"expectMinutes": {"30"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("console ettr: %d %s", res.StatusCode, res.Body)
	}
	stored, _ := e.store.Conversation(t.Context(), id)
	if stored.TTR.ManualETTR == nil || stored.TTR.ManualETTR.Sub(time.Now()) < 29*time.Minute || stored.TTR.ManualETTR.Sub(time.Now()) > 31*time.Minute {
		t.Errorf("console ettr stored %v, want about 30 minutes from now", stored.TTR.ManualETTR)
	}
	if !strings.Contains(dana.get("/agent/conversations/"+id).doc(t).Find(`[data-testid="panel-ttr-due"]`).Text(), "expected by") {
		t.Error("the panel does not say the expected time is manual")
	}
}

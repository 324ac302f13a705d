package handlers

import (
	"encoding/json"
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
	if res := e.orgInvalid(http.MethodPut, "/conversations/"+id+"/ttr", map[string]any{"ttrType": "LATER"}); res.StatusCode != http.StatusUnprocessableEntity {
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
		if res := e.orgInvalid(http.MethodPut, "/conversations/"+id+"/ettr", map[string]any{"time": bad}); res.StatusCode < 400 || res.StatusCode >= 500 {
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
	if stored.TTR.ManualETTR == nil || time.Until(*stored.TTR.ManualETTR) < 29*time.Minute || time.Until(*stored.TTR.ManualETTR) > 31*time.Minute {
		t.Errorf("console ettr stored %v, want about 30 minutes from now", stored.TTR.ManualETTR)
	}
	if !strings.Contains(dana.get("/agent/conversations/"+id).doc(t).Find(`[data-testid="panel-ttr-due"]`).Text(), "expected by") {
		t.Error("the panel does not say the expected time is manual")
	}
}

// TestTypedEvents: beside the sentence a person reads, the system
// messages carry typed events for integrations; the TTR ones are private,
// and the customer never reads them.
func TestTypedEvents(t *testing.T) {
	e := newEnv(t)
	dana, danaAgent := e.agentClient(t, "Dana", kustomer.RoleAgent)
	_, leeAgent := e.agentClient(t, "Lee", kustomer.RoleAgent)
	customer := e.client()
	id := customer.handoff(t)
	if res := dana.postForm("/agent/conversations/"+id+"/join", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("join: %d", res.StatusCode)
	}
	e.org(http.MethodPost, "/conversations/"+id+"/transfer", map[string]any{"agentId": leeAgent.ID, "skill": "sales"})
	e.org(http.MethodPost, "/conversations/"+id+"/transfer", map[string]any{})
	e.org(http.MethodPut, "/conversations/"+id+"/ttr", map[string]any{"ttrType": "URGENT"})
	when := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	e.org(http.MethodPut, "/conversations/"+id+"/ettr", map[string]any{"time": when})
	e.org(http.MethodPost, "/conversations/"+id+"/end", nil)

	var list struct {
		Messages []messageResponse `json:"messages"`
	}
	e.org(http.MethodGet, "/conversations/"+id+"/messages", nil).json(t, &list)
	var got []string
	for _, m := range list.Messages {
		var meta struct {
			Event *kustomer.SystemEvent `json:"event"`
		}
		if json.Unmarshal(m.Meta, &meta) != nil || meta.Event == nil {
			continue
		}
		for _, ev := range meta.Event.Events {
			s := ev.Type
			switch ev.Type {
			case kustomer.EventParticipantAdded, kustomer.EventParticipantRemoved:
				s += " " + map[string]string{danaAgent.ID: "dana", leeAgent.ID: "lee"}[ev.ParticipantID]
			case kustomer.EventTransferAgent:
				s += " to " + map[string]string{leeAgent.ID: "lee"}[ev.ToAgentID] + " in " + ev.SkillID
			case kustomer.EventBackToQueue:
				s += " " + ev.SkillID
			case kustomer.EventTTRChange:
				s += " " + ev.TTRType
			case kustomer.EventManualETTRChange:
				if ev.Time == nil || !ev.Time.Equal(when) {
					t.Errorf("manual-ettr-change time %v, want %v", ev.Time, when)
				}
			case kustomer.EventDialogClose:
				s += " " + ev.ClosedBy
			}
			if *m.Private != (ev.Type == kustomer.EventTTRChange || ev.Type == kustomer.EventManualETTRChange) {
				t.Errorf("%s: private %v", ev.Type, *m.Private)
			}
			got = append(got, s)
		}
	}
	want := []string{"participant-added dana", "participant-removed dana", "participant-added lee", "transfer-agent to lee in sales",
		"participant-removed lee", "back-to-queue sales", "ttr-change URGENT", "manual-ettr-change", "dialog:close SYSTEM"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("typed events\n got %q\nwant %q", got, want)
	}
	body := string(customer.get("/api/v1/conversations/" + id + "/messages").Body)
	if strings.Contains(body, "ttr-change") || strings.Contains(body, "Time to respond") || strings.Contains(body, "Answer expected") {
		t.Errorf("the customer reads a TTR change: %s", body)
	}
}

// TestAgentQuickReplies: an agent's message with quick replies asks the
// customer as an assistant's button question does: the chat shows the
// buttons live, a click without JavaScript sends the button's label with
// its payload, and then the buttons are spent.
func TestAgentQuickReplies(t *testing.T) {
	e := newEnv(t)
	customer := e.client()
	id := customer.handoff(t)
	res := e.org(http.MethodPost, "/conversations/"+id+"/messages", map[string]any{"body": "Which plan are you on?", "authorName": "Dana",
		"quickReplies": []map[string]string{{"label": "Starter", "payload": "plan-starter"}, {"label": "Team", "payload": "plan-team"}}})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("send with quick replies: %d %s", res.StatusCode, res.Body)
	}
	doc := customer.get("/conversations/" + id).doc(t)
	live := doc.Find(`[data-testid="question"][data-live="true"]`)
	if live.Length() != 1 || live.Find(`[data-testid="quick-reply"]`).Length() != 2 {
		t.Fatalf("live question: %d, buttons %d", live.Length(), live.Find(`[data-testid="quick-reply"]`).Length())
	}
	step, _ := live.Attr("data-step")
	action, _ := doc.Find(`form[data-testid="quick-replies"]`).Attr("action")
	if res := customer.postForm(action, url.Values{"step": {step}, "payload": {"plan-team"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("click: %d %s", res.StatusCode, res.Body)
	}
	var list struct {
		Messages []messageResponse `json:"messages"`
	}
	customer.get("/api/v1/conversations/"+id+"/messages").json(t, &list)
	last := list.Messages[len(list.Messages)-1]
	if last.Body != "Team" || !strings.Contains(string(last.Payload), `"plan-team"`) {
		t.Errorf("the click sent %q with %s, want Team with its payload", last.Body, last.Payload)
	}
	if customer.get("/conversations/"+id).doc(t).Find(`[data-testid="question"][data-live="true"]`).Length() != 0 {
		t.Error("the buttons are still live after the answer")
	}

	for name, body := range map[string]map[string]any{
		"a button without a label": {"body": "Pick", "quickReplies": []map[string]string{{"label": "", "payload": "x"}}},
		"two buttons, one payload": {"body": "Pick", "quickReplies": []map[string]string{{"label": "A", "payload": "x"}, {"label": "B", "payload": "x"}}},
		"buttons on a note":        {"body": "Pick", "private": true, "quickReplies": []map[string]string{{"label": "A", "payload": "a"}}},
	} {
		if res := e.org(http.MethodPost, "/conversations/"+id+"/messages", body); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", name, res.StatusCode)
		}
	}
}

// TestAgentQuickRepliesFromTheConsole: the console's composer sends quick
// replies, one button per line, over its socket and without JavaScript.
func TestAgentQuickRepliesFromTheConsole(t *testing.T) {
	e := newEnv(t)
	dana, _ := e.agentClient(t, "Dana", kustomer.RoleAgent)
	customer := e.client()
	id := customer.handoff(t)
	if res := dana.postForm("/agent/conversations/"+id+"/messages", url.Values{"body": {"Shall I call you?"}, "quickReplies": {"Yes, please\n\nNo thanks\n"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("console send: %d %s", res.StatusCode, res.Body)
	}
	buttons := customer.get("/conversations/" + id).doc(t).Find(`[data-testid="question"][data-live="true"] [data-testid="quick-reply"]`)
	if buttons.Length() != 2 || buttons.First().Text() != "Yes, please" {
		t.Fatalf("buttons %d %q", buttons.Length(), buttons.Text())
	}
	conn := dana.dialPath(t, "/agent/conversations/"+id+"/ws")
	defer conn.Close()
	if err := conn.WriteJSON(map[string]any{"type": "hello", "afterSeq": 100}); err != nil {
		t.Fatal(err)
	}
	if err := conn.WriteJSON(map[string]any{"type": "send", "clientMessageId": "qr-1", "body": "Morning or afternoon?",
		"quickReplies": []map[string]string{{"label": "Morning", "payload": "Morning"}, {"label": "Afternoon", "payload": "Afternoon"}}}); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var f frame
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatalf("read: %v", err)
		}
		if f.Type == "error" {
			t.Fatalf("refused: %+v", f)
		}
		if f.Type == "ack" && f.ClientMessageID == "qr-1" {
			break
		}
	}
	buttons = customer.get("/conversations/" + id).doc(t).Find(`[data-testid="question"][data-live="true"] [data-testid="quick-reply"]`)
	if buttons.Length() != 2 || buttons.Last().Text() != "Afternoon" {
		t.Errorf("buttons after the socket send %d %q, want the newest question's", buttons.Length(), buttons.Text())
	}
}

package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer"
)

// question is an assistant message's answer controls, as stored in meta.
type question struct {
	Step    string `json:"step"`
	Buttons []struct {
		Label   string `json:"label"`
		Payload string `json:"payload"`
	} `json:"buttons"`
	InputType string `json:"inputType"`
}

func questionOf(t testing.TB, m kustomer.Message) *question {
	t.Helper()
	if len(m.Meta) == 0 {
		return nil
	}
	var meta struct {
		Question *question `json:"question"`
	}
	if err := json.Unmarshal(m.Meta, &meta); err != nil {
		t.Fatalf("meta %s: %v", m.Meta, err)
	}
	return meta.Question
}

// waitAssistant reads frames until an assistant message whose question is
// step arrives (or, with step "", any assistant message), and returns it.
func (w *ws) waitAssistant(t testing.TB, step string) kustomer.Message {
	t.Helper()
	for i := 0; i < 50; i++ {
		f := w.next()
		if f.Type != "message" {
			continue
		}
		var m kustomer.Message
		if err := json.Unmarshal(f.Message, &m); err != nil {
			t.Fatal(err)
		}
		if m.SentBy.Type != kustomer.AuthorAssistant {
			continue
		}
		if step == "" {
			return m
		}
		if q := questionOf(t, m); q != nil && q.Step == step {
			return m
		}
	}
	t.Fatalf("no assistant question %q", step)
	return kustomer.Message{}
}

func TestSalesAssistantQualifies(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	res := c.postForm("/forms/sales", url.Values{"name": {"Ann"}, "email": {"ann@example.com"}, "message": {"Pricing for my team?"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: %d %s", res.StatusCode, res.Body)
	}
	id := strings.TrimPrefix(res.Header.Get("Location"), "/conversations/")
	ctx := context.Background()
	conv, _ := e.store.Conversation(ctx, id)
	if !conv.IsInAssistantMode || conv.AssistantID != "qualify" {
		t.Fatalf("conversation %+v: want the qualify assistant in charge", conv)
	}
	msgs, _ := e.store.Messages(ctx, id, kustomer.MessageQuery{})
	// The form's message does not answer a button question: it is asked.
	if len(msgs) != 3 || msgs[1].SentBy.Type != kustomer.AuthorAssistant || msgs[1].SentBy.DisplayName != "Sam from Sales" {
		t.Fatalf("thread after the hand-off: %+v", msgs)
	}
	q := questionOf(t, msgs[2])
	if q == nil || q.Step != "teamSize" || len(q.Buttons) != 3 || msgs[2].Direction != kustomer.DirectionOut {
		t.Fatalf("first question %+v", msgs[2])
	}
	if !strings.Contains(string(c.get("/conversations/"+id).Body), "How big is the team") {
		t.Errorf("the chat page does not show the question")
	}

	w := c.mustDial(t, id, 3)
	click := map[string]any{"type": "send", "clientMessageId": "click-1", "body": "11-50 people", "payload": map[string]any{"step": "teamSize", "payload": "medium"}}
	w.send(click)
	company := w.waitAssistant(t, "company")
	if q := questionOf(t, company); q.InputType != "text" {
		t.Errorf("company question input %q", q.InputType)
	}
	// A second click on the same button is stored but applies nothing.
	click["clientMessageId"] = "click-2"
	w.send(click)
	for {
		if f := w.next(); f.Type == "ack" && f.ClientMessageID == "click-2" {
			break
		}
	}
	conv, _ = e.store.Conversation(ctx, id)
	if conv.CustomAttributes["teamSizeNum"] != 30.0 {
		t.Errorf("teamSizeNum %v, want 30", conv.CustomAttributes["teamSizeNum"])
	}
	before := conv.LastSeq

	// A restart: a new engine over the same store continues the dialog.
	restarted := kustomer.NewEngine(e.store, e.hub, e.engine.Config(), nil)
	restarted.Assistants = e.engine.Assistants
	actor := kustomer.CustomerActor(conv.CustomerID)
	if _, _, err := restarted.SendMessage(ctx, actor, kustomer.SendMessageInput{ConversationID: id, Body: "Acme Corp", ClientMessageID: "company-1",
		Payload: json.RawMessage(`{"step":"company"}`)}); err != nil {
		t.Fatal(err)
	}
	articles := w.waitAssistant(t, "articles")
	if articles.Seq <= before+1 {
		t.Errorf("the double click produced assistant messages (seq %d after %d)", articles.Seq, before)
	}
	w.send(map[string]any{"type": "send", "clientMessageId": "defl-1", "body": "I still need help",
		"payload": map[string]any{"step": "articles", "payload": "not_helped", "visited": []string{"pricing"}}})
	w.waitAssistant(t, "") // the hand-off message (after the business-hours branch)

	conv, _ = e.store.Conversation(ctx, id)
	if conv.IsInAssistantMode || conv.Skill != "sales" || conv.CustomAttributes["companyStr"] != "Acme Corp" || conv.CustomAttributes["teamSizeNum"] != 30.0 {
		t.Fatalf("after the assistant: %+v", conv)
	}
	queue, _, _ := e.store.Conversations(ctx, kustomer.ConversationFilter{Queue: kustomer.QueueUnassigned, Skill: "sales"}, 0, 10)
	if len(queue) != 1 || queue[0].ID != id {
		t.Errorf("conversation not in the sales queue: %+v", queue)
	}
	msgs, _ = e.store.Messages(ctx, id, kustomer.MessageQuery{Max: 100})
	var deflectionReply *kustomer.Message
	for i := range msgs {
		if msgs[i].ClientMessageID == "defl-1" {
			deflectionReply = &msgs[i]
		}
	}
	if deflectionReply == nil || !strings.Contains(string(deflectionReply.Meta), `"lastDeflection"`) || !strings.Contains(string(deflectionReply.Meta), `"visited":true`) {
		t.Errorf("the deflection reply does not carry lastDeflection with the visited article: %+v", deflectionReply)
	}
	// The org API shows the attributes the assistant filled.
	var full kustomer.Conversation
	e.org(http.MethodGet, "/conversations/"+id, nil).json(t, &full)
	if full.CustomAttributes["companyStr"] != "Acme Corp" || full.IsInAssistantMode {
		t.Errorf("org API: %+v", full)
	}
}

func TestAssistantBadAnswerIsAskedAgain(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	res := c.postForm("/forms/sales", url.Values{"name": {"Ann"}, "email": {"ann@example.com"}, "company": {"Acme"}, "message": {"Hi"}})
	id := strings.TrimPrefix(res.Header.Get("Location"), "/conversations/")
	w := c.mustDial(t, id, 3)
	// Typed text that is none of the buttons re-asks the button question.
	w.send(map[string]any{"type": "send", "clientMessageId": "t1", "body": "about twenty"})
	again := w.waitAssistant(t, "teamSize")
	if again.Seq < 5 {
		t.Errorf("re-asked question seq %d", again.Seq)
	}
	// The company is known from the form, so that question is skipped.
	w.send(map[string]any{"type": "send", "clientMessageId": "t2", "body": "1-10 people", "payload": map[string]any{"step": "teamSize", "payload": "small"}})
	if m := w.waitAssistant(t, "articles"); m.Seq == 0 {
		t.Fatal("no deflection")
	}
}

func TestAssistantAnsweredWithoutJavaScript(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	res := c.postForm("/forms/sales", url.Values{"name": {"Ann"}, "email": {"ann@example.com"}, "message": {"Hi"}})
	id := strings.TrimPrefix(res.Header.Get("Location"), "/conversations/")
	doc := c.get("/conversations/" + id).doc(t)
	live := doc.Find(`[data-testid="question"][data-live="true"]`)
	if live.Length() != 1 || live.Find(`[data-testid="quick-reply"]`).Length() != 3 {
		t.Fatalf("live question on the page: %d, buttons %d", live.Length(), live.Find(`[data-testid="quick-reply"]`).Length())
	}
	if doc.Find(`[data-testid="assistant-tag"]`).Length() == 0 {
		t.Errorf("the customer cannot tell the assistant from an agent")
	}
	action, _ := live.Find("form").Attr("action")
	res = c.postForm(action, url.Values{"step": {"teamSize"}, "payload": {"large"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("quick reply post: %d %s", res.StatusCode, res.Body)
	}
	msgs, _ := e.store.Messages(context.Background(), id, kustomer.MessageQuery{})
	if msgs[3].Body != "More than 50" || msgs[3].SentBy.Type != kustomer.AuthorCustomer {
		t.Errorf("the click was stored as %q, want the button's label", msgs[3].Body)
	}
	conv, _ := e.store.Conversation(context.Background(), id)
	if conv.CustomAttributes["teamSizeNum"] != 100.0 {
		t.Errorf("teamSizeNum %v, want 100", conv.CustomAttributes["teamSizeNum"])
	}
	doc = c.get("/conversations/" + id).doc(t)
	if n := doc.Find(`[data-testid="question"][data-live="true"]`).Length(); n != 1 {
		t.Errorf("%d live questions, want only the newest", n)
	}
	if step, _ := doc.Find(`[data-testid="question"][data-live="true"]`).Attr("data-step"); step != "company" {
		t.Errorf("live question %q, want company", step)
	}
	if _, disabled := doc.Find(`[data-step="teamSize"] [data-testid="quick-reply"]`).First().Attr("disabled"); !disabled {
		t.Errorf("the answered question's buttons are not disabled")
	}
	// The same click again (the back button) is stored but changes nothing.
	c.postForm(action, url.Values{"step": {"teamSize"}, "payload": {"small"}})
	conv, _ = e.store.Conversation(context.Background(), id)
	if conv.CustomAttributes["teamSizeNum"] != 100.0 {
		t.Errorf("a stale click changed teamSizeNum to %v", conv.CustomAttributes["teamSizeNum"])
	}
}

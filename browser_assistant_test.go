package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The assistant's browser tests: Sam from Sales greets the sales form,
// asks its questions, offers articles and hands the conversation to the
// sales queue; an operator switches the contact form's assistant.

const (
	samGreeting     = "Hi, I'm Sam. Two quick questions so the right specialist can help you."
	samTransfer     = "Thanks! A sales specialist will join this chat."
	samCompanyStep  = "company"
	samTeamSizeStep = "teamSize"
	samArticlesStep = "articles"
)

// orgConversation is a conversation as the organization API returns it.
type orgConversation struct {
	ID                string         `json:"conversationId"`
	IsInAssistantMode bool           `json:"isInAssistantMode"`
	CustomAttributes  map[string]any `json:"customAttributes"`
	Skill             string         `json:"skill"`
	AssistantID       string         `json:"assistantId"`
}

// orgGet reads path from the organization API into out.
func (s *testServer) orgGet(t testing.TB, path string, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	res, err := apiClient(t).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, res.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("GET %s: decode %s: %v", path, data, err)
	}
}

// salesForm is what a customer types into the sales form.
type salesForm struct {
	Name, Email, Company, Message string
}

// startSalesConversation fills and submits the sales form and returns the
// id of the conversation the customer lands in.
func (p *tab) startSalesConversation(srv *testServer, f salesForm) string {
	p.t.Helper()
	p.open(srv, "/forms/sales", http.StatusOK)
	steps := []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(tid("handoff-form"))}
	for _, kv := range [][2]string{{"name", f.Name}, {"email", f.Email}, {"company", f.Company}, {"message", f.Message}} {
		if kv[1] != "" {
			steps = append(steps, chromedp.SendKeys(tid("field-"+kv[0]), kv[1]))
		}
	}
	p.do("fill the sales form", steps...)
	res := p.navigate("submit the sales form", chromedp.Click(tid("submit")))
	if res.Status != http.StatusOK {
		p.fatalf("submit the sales form: landed with status %d, want 200", res.Status)
	}
	m := conversationPath.FindStringSubmatch(p.path())
	if m == nil {
		p.fatalf("submit the sales form: landed on %s, want /conversations/{24 hex}", p.path())
	}
	p.do("show the chat", chromedp.WaitVisible(tid("chat")))
	return m[1]
}

// questionCSS selects the question of an assistant step.
func questionCSS(step string) string {
	return `[data-testid="thread"] [data-testid="question"][data-step="` + step + `"]`
}

// questionLiveJS is a predicate: exactly one question of step is shown,
// live, with its controls enabled.
func questionLiveJS(step string) string {
	return `(() => {
		const qs = Array.from(document.querySelectorAll(` + jsString(questionCSS(step)) + `));
		if (qs.length !== 1 || qs[0].dataset.live !== "true" || qs[0].getClientRects().length === 0) return false;
		return Array.from(qs[0].querySelectorAll("button, input, select")).every(el => !el.disabled);
	})()`
}

// assistantMessageJS is a predicate: exactly one message of the thread is
// body, written by the assistant, tagged as one and named Sam.
func assistantMessageJS(body string) string {
	return `(() => {
		const items = Array.from(document.querySelectorAll('[data-testid="thread"] > li[data-testid="message"]'))
			.filter(li => { const b = li.querySelector('[data-testid="message-body"]'); return b && b.textContent.trim() === ` + jsString(body) + `; });
		if (items.length !== 1) return false;
		const li = items[0], tag = li.querySelector('[data-testid="assistant-tag"]'), author = li.querySelector('[data-testid="message-author"]');
		return li.dataset.authorType === "assistant" && !!tag && tag.getClientRects().length > 0 &&
			!!author && author.textContent.includes("Sam from Sales");
	})()`
}

// countAssistantJS is an expression: how many assistant messages the thread
// shows.
const countAssistantJS = `document.querySelectorAll('[data-testid="thread"] > li[data-testid="message"][data-author-type="assistant"]').length`

// TestBrowserAssistantQualifies walks Sam from Sales through the sales
// form: the button question (clicked twice), the company question, the
// articles and the hand-off to the sales queue, where an agent sees the
// attributes the assistant set.
func TestBrowserAssistantQualifies(t *testing.T) {
	srv := startServer(t)
	browser := newBrowser(t)

	customer := browser.isolatedTab()
	customer.do("set the viewport", chromedp.EmulateViewport(1100, 900))
	const first = "We are looking at a plan for our support team."
	id := customer.startSalesConversation(srv, salesForm{Name: "Kim Lee", Email: "kim@acme.example", Message: first})
	customer.waitLive()

	// Sam greets and asks the button question, which is live.
	customer.waitFor("the customer's message is shown", messageIsShownJS(first, "in"))
	customer.waitFor("Sam's greeting is shown", assistantMessageJS(samGreeting))
	customer.waitFor("the team-size question is live", questionLiveJS(samTeamSizeStep))
	type reply struct {
		Payload string `json:"payload"`
		Label   string `json:"label"`
	}
	replies := runAction(customer, "read the quick replies", chromedp.Evaluate[[]reply](`Array.from(document.querySelectorAll(`+
		jsString(questionCSS(samTeamSizeStep)+` [data-testid="quick-reply"]`)+`)).map(b => ({payload: b.dataset.payload, label: b.textContent.trim()}))`))
	if len(replies) != 3 || replies[1].Label != "11-50 people" {
		customer.fatalf("quick replies = %+v, want 3 with 11-50 people second", replies)
	}
	// The company question is not asked yet.
	if n := runAction(customer, "count company questions", chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(questionCSS(samCompanyStep))+`).length`)); n != 0 {
		customer.fatalf("the company question is shown before the team size is answered (%d)", n)
	}
	customer.screenshot("chat-assistant.png")

	// A quick double click answers once.
	medium := chromedp.CSS(questionCSS(samTeamSizeStep) + ` [data-testid="quick-reply"][data-payload="` + replies[1].Payload + `"]`)
	customer.do("click 11-50 people twice", chromedp.Click(medium), chromedp.Click(medium))
	customer.waitFor("the answer is shown once, acknowledged", messageIsShownJS("11-50 people", "in"))
	customer.waitFor("the company question is live", questionLiveJS(samCompanyStep))
	customer.waitFor("the team-size question is spent", `document.querySelector(`+jsString(questionCSS(samTeamSizeStep))+`).dataset.live === "false"`)

	// The customer types the company.
	input := chromedp.CSS(questionCSS(samCompanyStep) + ` [data-testid="attribute-input"]`)
	customer.do("answer the company", chromedp.SendKeys(input, "Acme Corp"),
		chromedp.Click(chromedp.CSS(questionCSS(samCompanyStep)+` [data-testid="attribute-submit"]`)))
	customer.waitFor("the company answer is shown", messageIsShownJS("Acme Corp", "in"))
	customer.waitFor("the articles question is live", questionLiveJS(samArticlesStep))
	links := runAction(customer, "read the article links", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(`+
		jsString(questionCSS(samArticlesStep)+` [data-testid="article-link"]`)+`)).map(a => a.textContent.trim())`))
	if len(links) != 2 {
		customer.fatalf("article links = %q, want 2", links)
	}

	// "I still need help" hands the conversation to the sales queue.
	customer.do("still need help", chromedp.Click(chromedp.CSS(questionCSS(samArticlesStep)+` [data-testid="quick-reply"][data-label="I still need help"]`)))
	customer.waitFor("the transfer message is shown", assistantMessageJS(samTransfer))
	customer.waitFor("every question is spent", `(() => {
		const qs = Array.from(document.querySelectorAll('[data-testid="thread"] [data-testid="question"]'));
		return qs.length === 3 && qs.every(q => q.dataset.live === "false" &&
			Array.from(q.querySelectorAll("button, input, select")).every(el => el.disabled));
	})()`)
	for _, body := range []string{"11-50 people", "Acme Corp"} {
		if n := runAction(customer, "count "+body, chromedp.Evaluate[int](countBodyJS(body))); n != 1 {
			customer.fatalf("%q is shown %d times, want once", body, n)
		}
	}
	if n := runAction(customer, "count company questions", chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(questionCSS(samCompanyStep))+`).length`)); n != 1 {
		customer.fatalf("the company question is shown %d times, want once", n)
	}

	// The organization API: attributes set, out of assistant mode, sales.
	var conv orgConversation
	srv.orgGet(t, "/api/v1/org/conversations/"+id, &conv)
	if conv.CustomAttributes["teamSizeNum"] != float64(30) || conv.CustomAttributes["companyStr"] != "Acme Corp" ||
		conv.IsInAssistantMode || conv.Skill != "sales" {
		t.Fatalf("conversation = %+v, want teamSizeNum 30, companyStr Acme Corp, not in assistant mode, skill sales", conv)
	}
	var msgs struct {
		Messages []struct {
			Body      string `json:"body"`
			Direction string `json:"direction"`
		} `json:"messages"`
	}
	srv.orgGet(t, "/api/v1/org/conversations/"+id+"/messages", &msgs)
	n := 0
	for _, m := range msgs.Messages {
		if m.Body == "11-50 people" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the server stored %d messages \"11-50 people\", want 1: %+v", n, msgs.Messages)
	}

	// Lee (sales) finds it in the sales queue, with the attributes.
	team := newConsoleTeam(srv, browser)
	lee := browser.isolatedTab()
	lee.signIn(srv, team.lee.Email, team.lee.Password)
	lee.open(srv, "/agent?queue=unassigned&skill=sales", http.StatusOK)
	if _, ok := findRow(lee.inboxRows(), id); !ok {
		lee.fatalf("the sales queue does not list conversation %s", id)
	}
	lee.clickTo("open the conversation", chromedp.CSS(inboxRowCSS(id)+` [data-testid="inbox-link"]`), "/agent/conversations/"+id)
	size := runAction(lee, "read teamSizeNum", chromedp.Value(tid("attr-teamSizeNum")))
	company := runAction(lee, "read companyStr", chromedp.Value(tid("attr-companyStr")))
	if size != "30" || company != "Acme Corp" {
		lee.fatalf("panel attributes teamSizeNum %q, companyStr %q; want 30 and Acme Corp", size, company)
	}
	if got := lee.text(tid("panel-skill")); got != "Sales" {
		lee.fatalf("panel skill = %q, want Sales", got)
	}
}

// TestBrowserOperatorSwitchesAssistant: the admin gives the contact form
// the qualify assistant, which greets the next hand-off, then takes it
// away again.
func TestBrowserOperatorSwitchesAssistant(t *testing.T) {
	srv := startServer(t)
	admin := newBrowser(t)
	admin.do("set the viewport", chromedp.EmulateViewport(1100, 800))
	admin.signIn(srv, testAdminEmail, testAdminPassword)
	adminName := admin.text(tid("signed-in-agent"))

	card := `[data-testid="admin-form"][data-form-id="contact"]`
	setAssistant := func(value string) {
		t.Helper()
		admin.open(srv, "/agent", http.StatusOK)
		admin.clickTo("open the forms page", tid("nav-forms"), "/admin/forms")
		admin.do("choose the assistant", chromedp.SetValue(chromedp.CSS(card+` [data-testid="assistant-select"]`), value))
		admin.clickTo("save the assistant", chromedp.CSS(card+` [data-testid="assistant-save"]`), "/admin/forms")
		if got := admin.text(tid("notice")); !strings.Contains(got, "Saved") {
			admin.fatalf("notice after saving = %q, want it to say saved", got)
		}
		want := value
		if want == "" {
			want = "None"
		}
		if got := admin.text(chromedp.CSS(card + ` [data-testid="form-assistant"]`)); got != want {
			admin.fatalf("the contact card shows assistant %q, want %q", got, want)
		}
		if got := runAction(admin, "read the select", chromedp.Value(chromedp.CSS(card+` [data-testid="assistant-select"]`))); got != value {
			admin.fatalf("the contact card's select is %q, want %q", got, value)
		}
	}
	type auditRow struct {
		Who  string `json:"who"`
		Form string `json:"form"`
		From string `json:"from"`
		To   string `json:"to"`
	}
	auditRows := func() []auditRow {
		t.Helper()
		return runAction(admin, "read the audit", chromedp.Evaluate[[]auditRow](`Array.from(document.querySelectorAll('[data-testid="audit-row"]')).map(r => {
			const text = id => { const el = r.querySelector('[data-testid="' + id + '"]'); return el ? el.textContent.trim() : ""; };
			return {who: text("audit-who"), form: text("audit-form"), from: text("audit-from"), to: text("audit-to")};
		})`))
	}

	setAssistant("qualify")
	rows := auditRows()
	if len(rows) != 1 || rows[0] != (auditRow{Who: adminName, Form: "contact", From: "none", To: "qualify"}) {
		admin.fatalf("audit rows = %+v, want one: %s, contact, none → qualify", rows, adminName)
	}
	admin.screenshot("console-forms.png")

	// The next contact hand-off is greeted by Sam.
	customer := admin.isolatedTab()
	const first = "Do you offer a discount for schools?"
	id := customer.startConversation(srv, contactForm{Name: "Ana", Email: "ana@example.com", Topic: "other", Message: first})
	customer.waitLive()
	customer.waitFor("Sam's greeting is shown", assistantMessageJS(samGreeting))
	var conv orgConversation
	srv.orgGet(t, "/api/v1/org/conversations/"+id, &conv)
	if conv.AssistantID != "qualify" || !conv.IsInAssistantMode {
		t.Fatalf("contact conversation = %+v, want assistant qualify, in assistant mode", conv)
	}

	// Back to none: the next hand-off has no assistant.
	setAssistant("")
	rows = auditRows()
	if len(rows) != 2 || !containsRow(rows, auditRow{Who: adminName, Form: "contact", From: "qualify", To: "none"}) {
		admin.fatalf("audit rows = %+v, want two, one of them %s, contact, qualify → none", rows, adminName)
	}
	other := admin.isolatedTab()
	const second = "My invoice is wrong."
	id2 := other.startConversation(srv, contactForm{Name: "Bo", Email: "bo@example.com", Topic: "billing", Message: second})
	other.waitLive()
	other.waitFor("the customer's message is shown", messageIsShownJS(second, "in"))
	var conv2 orgConversation
	srv.orgGet(t, "/api/v1/org/conversations/"+id2, &conv2)
	if conv2.AssistantID != "" || conv2.IsInAssistantMode {
		t.Fatalf("contact conversation after the switch back = %+v, want no assistant", conv2)
	}
	// The page and the stored thread agree: no assistant message.
	if n := runAction(other, "count assistant messages", chromedp.Evaluate[int](countAssistantJS)); n != 0 {
		other.fatalf("the contact chat shows %d assistant messages after the assistant was removed, want 0", n)
	}
	var msgs struct {
		Messages []struct {
			SentBy struct {
				Type string `json:"type"`
			} `json:"sentBy"`
		} `json:"messages"`
	}
	srv.orgGet(t, "/api/v1/org/conversations/"+id2+"/messages", &msgs)
	for _, m := range msgs.Messages {
		if m.SentBy.Type == "assistant" {
			t.Fatalf("the stored thread of %s holds an assistant message after the assistant was removed", id2)
		}
	}
}

func containsRow[T comparable](rows []T, want T) bool {
	for _, r := range rows {
		if r == want {
			return true
		}
	}
	return false
}

// TestBrowserAgentQuickReplies: an agent asks with quick replies; the
// customer's chat shows the buttons live, a click sends the label, the
// agent sees it, and the buttons are spent. On a desktop and a phone.
func TestBrowserAgentQuickReplies(t *testing.T) {
	srv := startServer(t)
	browser := newBrowser(t)
	atBothSizes(t, func(t *testing.T, d display) {
		customer := browser.tabAt(t, d)
		id := customer.startConversation(srv, contactForm{Name: "Ines Roy", Email: "ines@example.com", Topic: "billing", Message: "Can I change my plan?"})
		customer.waitLive()
		customer.markPage()
		var sent struct {
			Meta struct {
				Question struct {
					Step string `json:"step"`
				} `json:"question"`
			} `json:"meta"`
		}
		srv.orgPost(t, "/api/v1/org/conversations/"+id+"/messages", map[string]any{"body": "Which plan would you like?", "authorName": "Dana",
			"quickReplies": []map[string]string{{"label": "Starter", "payload": "starter"}, {"label": "Team", "payload": "team"}}}, &sent)
		step := sent.Meta.Question.Step
		if step == "" {
			t.Fatal("the agent's message carries no question")
		}
		customer.waitFor("the agent's buttons are live", questionLiveJS(step))
		customer.do("click Team", chromedp.Click(chromedp.CSS(questionCSS(step)+` [data-testid="quick-reply"][data-payload="team"]`)))
		customer.waitFor("the answer is shown, acknowledged", messageIsShownJS("Team", "in"))
		customer.waitFor("the buttons are spent", `document.querySelector(`+jsString(questionCSS(step))+`).dataset.live === "false"`)
		var list struct {
			Messages []struct {
				Body    string          `json:"body"`
				Payload json.RawMessage `json:"payload"`
			} `json:"messages"`
		}
		srv.orgGet(t, "/api/v1/org/conversations/"+id+"/messages", &list)
		last := list.Messages[len(list.Messages)-1]
		if last.Body != "Team" || !strings.Contains(string(last.Payload), `"team"`) {
			t.Errorf("the organization got %q with %s, want Team and its payload", last.Body, last.Payload)
		}
		customer.checkNotReloaded("answering with a quick reply")
	})
}

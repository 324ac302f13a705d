package views

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/handoff/handoff/static"
)

var testTime = time.Date(2025, 3, 4, 15, 4, 5, 0, time.UTC)

// render renders c and parses the result.
func render(t testing.TB, c templ.Component) (*goquery.Document, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	html := buf.String()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc, html
}

// byTestID finds the elements with data-testid=id.
func byTestID(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find(`[data-testid="` + id + `"]`)
}

// one finds exactly one element with data-testid=id.
func one(t testing.TB, doc *goquery.Document, id string) *goquery.Selection {
	t.Helper()
	s := byTestID(doc, id)
	if s.Length() != 1 {
		t.Fatalf("data-testid=%q: found %d elements, want 1", id, s.Length())
	}
	return s
}

// none asserts that no element has data-testid=id.
func none(t testing.TB, doc *goquery.Document, id string) {
	t.Helper()
	if n := byTestID(doc, id).Length(); n != 0 {
		t.Fatalf("data-testid=%q: found %d elements, want none", id, n)
	}
}

// attr returns the attribute name of s, failing when it is missing.
func attr(t testing.TB, s *goquery.Selection, name string) string {
	t.Helper()
	v, ok := s.Attr(name)
	if !ok {
		t.Fatalf("attribute %q missing on %s", name, goquery.NodeName(s))
	}
	return v
}

// hasAttr reports whether s carries the attribute name.
func hasAttr(s *goquery.Selection, name string) bool {
	_, ok := s.Attr(name)
	return ok
}

// text returns the whitespace-normalised text of s.
func text(s *goquery.Selection) string {
	return strings.Join(strings.Fields(s.Text()), " ")
}

// assertNoInlineCode checks the CSP-relevant rules: no inline scripts, no
// inline event handlers and no style attributes.
func assertNoInlineCode(t testing.TB, doc *goquery.Document) {
	t.Helper()
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if src, _ := s.Attr("src"); src == "" {
			t.Errorf("inline script found: %q", s.Text())
		}
	})
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s> has attribute %q", goquery.NodeName(s), a.Key)
			}
		}
	})
}

func TestLayout(t *testing.T) {
	tests := []struct {
		name      string
		page      Page
		wantNav   bool
		wantBrand bool
		wantClass string
	}{
		{name: "plain", page: Page{Title: "Contact"}, wantBrand: true},
		{name: "with conversations", page: Page{Title: "Contact", ShowConversationsLink: true}, wantNav: true, wantBrand: true},
		{name: "embedded", page: Page{Title: "Contact", Embed: true, ShowConversationsLink: true}, wantClass: "embed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := render(t, IndexView(IndexPage{Page: tt.page}))
			if got := text(doc.Find("title")); got != "Contact · handoff" {
				t.Errorf("title = %q", got)
			}
			if n := doc.Find(`meta[name="viewport"]`).Length(); n != 1 {
				t.Errorf("viewport meta: %d", n)
			}
			if n := doc.Find(`link[rel="stylesheet"][href="` + static.Path("css/app.css") + `"]`).Length(); n != 1 {
				t.Errorf("stylesheet link: %d", n)
			}
			if got := byTestID(doc, "nav-conversations").Length() == 1; got != tt.wantNav {
				t.Errorf("conversations link shown = %v, want %v", got, tt.wantNav)
			}
			if tt.wantNav {
				if href := attr(t, byTestID(doc, "nav-conversations"), "href"); href != "/conversations" {
					t.Errorf("conversations link href = %q", href)
				}
			}
			brand := byTestID(doc, "brand")
			if got := brand.Length() == 1; got != tt.wantBrand {
				t.Errorf("brand shown = %v, want %v", got, tt.wantBrand)
			}
			if tt.wantBrand && (attr(t, brand, "href") != "/" || text(brand) != "handoff") {
				t.Errorf("brand = %q -> %q", text(brand), attr(t, brand, "href"))
			}
			if got := doc.Find("header.site-header, footer.site-footer").Length() > 0; got != tt.wantBrand {
				t.Errorf("header/footer shown = %v, want %v", got, tt.wantBrand)
			}
			if got, _ := doc.Find("body").Attr("class"); got != tt.wantClass {
				t.Errorf("body class = %q, want %q", got, tt.wantClass)
			}
			assertNoInlineCode(t, doc)
		})
	}
}

func TestIndexViewListsForms(t *testing.T) {
	doc, _ := render(t, IndexView(IndexPage{
		Page: Page{Title: "Get in touch"},
		Forms: []FormSummary{
			{Title: "Sales", Intro: "Talk to sales", URL: "/forms/sales"},
			{Title: "Support", URL: "/forms/support"},
		},
	}))
	links := byTestID(doc, "form-link")
	if links.Length() != 2 {
		t.Fatalf("form links = %d, want 2", links.Length())
	}
	if href := attr(t, links.First(), "href"); href != "/forms/sales" {
		t.Errorf("first href = %q", href)
	}
	if got := text(links.First()); !strings.Contains(got, "Sales") || !strings.Contains(got, "Talk to sales") {
		t.Errorf("first card = %q", got)
	}
	none(t, doc, "empty-state")

	empty, _ := render(t, IndexView(IndexPage{}))
	one(t, empty, "empty-state")
}

func contactForm() FormPage {
	return FormPage{
		Page:         Page{Title: "Contact us"},
		FormID:       "contact",
		SubmitLabel:  "Start chat",
		Action:       "/forms/contact",
		SubmissionID: "sub-123",
		Fields: []FieldView{
			{Name: "name", Label: "Your name", Type: "text", Required: true, MaxLength: 80, Value: "Ada", Help: "As you like to be called"},
			{Name: "email", Label: "Email", Type: "email", Required: true, Value: "not-an-email", Error: "Enter a valid email address"},
			{Name: "topic", Label: "Topic", Type: "select", Required: true, Options: []OptionView{
				{Value: "billing", Label: "Billing"},
				{Value: "bug", Label: "A bug", Selected: true},
			}},
			{Name: "message", Label: "Message", Type: "textarea", Required: true, MaxLength: 8000, Value: "Line one\nLine <two>", Error: "Tell us a bit more"},
			{Name: "newsletter", Label: "Send me news", Type: "checkbox", Checked: true},
			{Name: "terms", Label: "I agree", Type: "checkbox", Required: true, Error: "You must agree"},
		},
	}
}

func TestFormViewKeepsValuesAndShowsErrors(t *testing.T) {
	doc, _ := render(t, FormView(contactForm()))
	assertNoInlineCode(t, doc)

	form := one(t, doc, "handoff-form")
	if got := attr(t, form, "method"); got != "post" {
		t.Errorf("method = %q", got)
	}
	if got := attr(t, form, "action"); got != "/forms/contact" {
		t.Errorf("action = %q", got)
	}
	if !hasAttr(form, "novalidate") {
		t.Error("form lacks novalidate")
	}
	if got := attr(t, form.Find(`input[type="hidden"][name="submissionId"]`), "value"); got != "sub-123" {
		t.Errorf("submissionId = %q", got)
	}
	if got := text(one(t, doc, "submit")); got != "Start chat" {
		t.Errorf("submit label = %q", got)
	}

	tests := []struct {
		name      string
		tag       string
		value     string // value attribute or text content
		wantError string
	}{
		{name: "name", tag: "input", value: "Ada"},
		{name: "email", tag: "input", value: "not-an-email", wantError: "Enter a valid email address"},
		{name: "message", tag: "textarea", value: "Line one\nLine <two>", wantError: "Tell us a bit more"},
		{name: "terms", tag: "input", value: "true", wantError: "You must agree"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := one(t, doc, "field-"+tt.name)
			if got := goquery.NodeName(input); got != tt.tag {
				t.Errorf("tag = %q, want %q", got, tt.tag)
			}
			if got := attr(t, input, "id"); got != "field-"+tt.name {
				t.Errorf("id = %q", got)
			}
			if n := doc.Find(`label[for="field-` + tt.name + `"]`).Length(); n != 1 {
				t.Errorf("labels for field = %d, want 1", n)
			}
			got := input.Text()
			if tt.tag == "input" {
				got = attr(t, input, "value")
			}
			if got != tt.value {
				t.Errorf("value = %q, want %q", got, tt.value)
			}
			if tt.wantError == "" {
				none(t, doc, "error-"+tt.name)
				if hasAttr(input, "aria-invalid") {
					t.Error("valid field has aria-invalid")
				}
				return
			}
			errEl := one(t, doc, "error-"+tt.name)
			if got := text(errEl); got != tt.wantError {
				t.Errorf("error = %q, want %q", got, tt.wantError)
			}
			if got := attr(t, errEl, "id"); got != "error-"+tt.name {
				t.Errorf("error id = %q", got)
			}
			// The error sits inside the same field wrapper as its input.
			if errEl.Parent().Get(0) != input.Closest(".field").Get(0) {
				t.Error("error is not beside its field")
			}
			if got := attr(t, input, "aria-invalid"); got != "true" {
				t.Errorf("aria-invalid = %q", got)
			}
			if got := attr(t, input, "aria-describedby"); !strings.Contains(got, "error-"+tt.name) {
				t.Errorf("aria-describedby = %q", got)
			}
		})
	}

	name := one(t, doc, "field-name")
	if got := attr(t, name, "maxlength"); got != "80" {
		t.Errorf("maxlength = %q", got)
	}
	if !hasAttr(name, "required") {
		t.Error("required field lacks required")
	}
	if got := attr(t, name, "aria-describedby"); got != "help-name" {
		t.Errorf("name aria-describedby = %q", got)
	}
	if got := text(one(t, doc, "help-name")); got != "As you like to be called" {
		t.Errorf("help = %q", got)
	}
	if got := attr(t, one(t, doc, "field-email"), "type"); got != "email" {
		t.Errorf("email type = %q", got)
	}

	if !hasAttr(one(t, doc, "field-newsletter"), "checked") {
		t.Error("checked checkbox lost its state")
	}
	if hasAttr(one(t, doc, "field-terms"), "checked") {
		t.Error("unchecked checkbox rendered checked")
	}

	options := one(t, doc, "field-topic").Find("option")
	if options.Length() != 3 {
		t.Fatalf("options = %d, want 3", options.Length())
	}
	if v := attr(t, options.First(), "value"); v != "" || text(options.First()) != "Choose…" {
		t.Errorf("first option = %q %q", v, text(options.First()))
	}
	selected := options.Filter("[selected]")
	if selected.Length() != 1 || attr(t, selected, "value") != "bug" {
		t.Errorf("selected options = %d (%q)", selected.Length(), selected.AttrOr("value", ""))
	}

	summary := one(t, doc, "error-summary")
	if got := text(summary.Find("h2")); got != "Please fix the 3 highlighted fields" {
		t.Errorf("summary = %q", got)
	}
	if n := summary.Find(`a[href="#field-email"]`).Length(); n != 1 {
		t.Errorf("summary links to email field: %d", n)
	}
	none(t, doc, "form-error")
}

func TestFormViewSelectsByValue(t *testing.T) {
	p := FormPage{Fields: []FieldView{{
		Name: "topic", Type: "select", Value: "billing",
		Options: []OptionView{{Value: "billing", Label: "Billing"}, {Value: "bug", Label: "Bug"}},
	}}}
	doc, _ := render(t, FormView(p))
	selected := one(t, doc, "field-topic").Find("option[selected]")
	if selected.Length() != 1 || selected.AttrOr("value", "") != "billing" {
		t.Errorf("selected = %d %q", selected.Length(), selected.AttrOr("value", ""))
	}
}

func TestFormViewFormError(t *testing.T) {
	p := contactForm()
	for i := range p.Fields {
		p.Fields[i].Error = ""
	}
	p.Error = "Too many submissions. Try again in a minute."
	doc, _ := render(t, FormView(p))
	alert := one(t, doc, "form-error")
	if got := attr(t, alert, "role"); got != "alert" {
		t.Errorf("role = %q", got)
	}
	if got := text(alert); got != p.Error {
		t.Errorf("form error = %q", got)
	}
	none(t, doc, "error-summary")
	if n := doc.Find(`[aria-invalid]`).Length(); n != 0 {
		t.Errorf("aria-invalid fields = %d, want 0", n)
	}
}

func TestMessageItem(t *testing.T) {
	tests := []struct {
		name       string
		msg        MessageView
		wantClass  []string
		wantAuthor string // empty: no author shown
	}{
		{
			name:       "own message",
			msg:        MessageView{ID: "m1", Seq: 7, ClientMessageID: "c1", Body: "hello", Direction: "in", AuthorType: "customer", AuthorName: "Ada", Mine: true, CreatedAt: testTime},
			wantClass:  []string{"msg", "msg-in", "msg-customer", "msg-mine"},
			wantAuthor: "You",
		},
		{
			name:       "named agent",
			msg:        MessageView{ID: "m2", Seq: 8, Body: "hi", Direction: "out", AuthorType: "agent", AuthorName: "Grace", CreatedAt: testTime},
			wantClass:  []string{"msg", "msg-out", "msg-agent"},
			wantAuthor: "Grace",
		},
		{
			name:       "anonymous assistant",
			msg:        MessageView{ID: "m3", Seq: 9, Body: "How can I help?", Direction: "out", AuthorType: "assistant", CreatedAt: testTime},
			wantClass:  []string{"msg", "msg-out", "msg-assistant"},
			wantAuthor: "Assistant",
		},
		{
			name:      "system event",
			msg:       MessageView{ID: "m4", Seq: 10, Body: "Grace joined", Direction: "out", AuthorType: "system", CreatedAt: testTime},
			wantClass: []string{"msg", "msg-out", "msg-system"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := render(t, MessageItem(tt.msg))
			li := one(t, doc, "message")
			if goquery.NodeName(li) != "li" {
				t.Errorf("tag = %q", goquery.NodeName(li))
			}
			for _, c := range tt.wantClass {
				if !li.HasClass(c) {
					t.Errorf("class %q missing in %q", c, li.AttrOr("class", ""))
				}
			}
			if li.HasClass("msg-mine") != tt.msg.Mine {
				t.Errorf("msg-mine = %v, want %v", li.HasClass("msg-mine"), tt.msg.Mine)
			}
			wantAttrs := map[string]string{
				"data-seq":               itoa(tt.msg.Seq),
				"data-message-id":        tt.msg.ID,
				"data-client-message-id": tt.msg.ClientMessageID,
				"data-direction":         tt.msg.Direction,
				"data-author-type":       tt.msg.AuthorType,
			}
			for name, want := range wantAttrs {
				if got := attr(t, li, name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			author := byTestID(doc, "message-author")
			if tt.wantAuthor == "" {
				if author.Length() != 0 {
					t.Errorf("author shown: %q", text(author))
				}
				if n := li.Find(".msg-event").Length(); n != 1 {
					t.Errorf("event line = %d, want 1", n)
				}
			} else if got := text(author); got != tt.wantAuthor {
				t.Errorf("author = %q, want %q", got, tt.wantAuthor)
			}
			tm := one(t, doc, "message-time")
			if got := attr(t, tm, "datetime"); got != "2025-03-04T15:04:05Z" {
				t.Errorf("datetime = %q", got)
			}
			if got := text(tm); got != "15:04" {
				t.Errorf("time text = %q", got)
			}
		})
	}
}

func TestMessageItemEscapesBody(t *testing.T) {
	body := "<script>alert(1)</script>\n<b>bold</b> & \"quotes\""
	doc, html := render(t, MessageItem(MessageView{ID: "m1", Seq: 1, Body: body, Direction: "in", AuthorType: "customer", AuthorName: `<img src=x onerror=alert(1)>`}))
	if strings.Contains(html, "<script>") || strings.Contains(html, "<b>") || strings.Contains(html, "<img") {
		t.Fatalf("markup from the body or name reached the output: %s", html)
	}
	if n := doc.Find("script, b, img").Length(); n != 0 {
		t.Errorf("elements injected: %d", n)
	}
	if got := one(t, doc, "message-body").Text(); got != body {
		t.Errorf("body text = %q, want %q (line breaks kept)", got, body)
	}
}

func chatPage() ChatPage {
	return ChatPage{
		Page:            Page{Title: "Support chat"},
		ConversationID:  "conv-1",
		FormTitle:       "Contact us",
		CreatedAt:       testTime,
		LastSeq:         2,
		SocketURL:       "/conversations/conv-1/ws",
		PostURL:         "/conversations/conv-1/messages",
		NewURL:          "/forms/contact",
		ListURL:         "/conversations",
		ClientMessageID: "cm-fresh",
		Messages: []MessageView{
			{ID: "m1", Seq: 1, Body: "Hello", Direction: "in", AuthorType: "customer", Mine: true, CreatedAt: testTime},
			{ID: "m2", Seq: 2, Body: "Hi, how can I help?", Direction: "out", AuthorType: "agent", AuthorName: "Grace", CreatedAt: testTime},
		},
	}
}

func TestChatView(t *testing.T) {
	doc, _ := render(t, ChatView(chatPage()))
	assertNoInlineCode(t, doc)

	chat := one(t, doc, "chat")
	for name, want := range map[string]string{
		"id":                   "chat",
		"data-conversation-id": "conv-1",
		"data-socket-url":      "/conversations/conv-1/ws",
		"data-last-seq":        "2",
		"data-ended":           "false",
	} {
		if got := attr(t, chat, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := text(doc.Find("h1")); got != "Contact us" {
		t.Errorf("heading = %q", got)
	}
	status := one(t, doc, "connection-status")
	if text(status) != "Offline" || attr(t, status, "data-state") != "offline" {
		t.Errorf("status = %q / %q", text(status), status.AttrOr("data-state", ""))
	}
	thread := one(t, doc, "thread")
	if attr(t, thread, "id") != "thread" {
		t.Error("thread lacks its id")
	}
	// The scrolling log around it is a labelled, focusable live region.
	log := one(t, doc, "thread-log")
	for name, want := range map[string]string{"role": "log", "aria-live": "polite", "aria-label": "Messages", "tabindex": "0"} {
		if got := attr(t, log, name); got != want {
			t.Errorf("thread log %s = %q, want %q", name, got, want)
		}
	}
	if log.Find(`[data-testid="thread"]`).Length() != 1 {
		t.Error("the thread is not inside its log")
	}
	msgs := thread.Find(`[data-testid="message"]`)
	if msgs.Length() != 2 {
		t.Fatalf("messages = %d, want 2", msgs.Length())
	}
	if got := msgs.Last().AttrOr("data-seq", ""); got != "2" {
		t.Errorf("last seq = %q", got)
	}
	if !hasAttr(one(t, doc, "typing"), "hidden") {
		t.Error("typing indicator visible at first")
	}
	none(t, doc, "earlier-messages")
	none(t, doc, "composer-error")

	composer := one(t, doc, "composer")
	if attr(t, composer, "id") != "composer" || attr(t, composer, "action") != "/conversations/conv-1/messages" || attr(t, composer, "method") != "post" {
		t.Errorf("composer = %v", composer.Nodes[0].Attr)
	}
	if got := attr(t, composer.Find(`input[type="hidden"][name="clientMessageId"]`), "value"); got != "cm-fresh" {
		t.Errorf("clientMessageId = %q", got)
	}
	body := one(t, doc, "composer-body")
	// Not required: a message may be a file alone.
	// No maxlength: the browser would cut a long paste silently; the
	// script counts and refuses instead, the server refuses without it.
	if attr(t, body, "name") != "body" || hasAttr(body, "maxlength") || hasAttr(body, "required") || body.AttrOr("data-max-length", "") == "" {
		t.Errorf("composer body = %v", body.Nodes[0].Attr)
	}
	if attr(t, composer, "enctype") != "multipart/form-data" || attr(t, one(t, doc, "composer-file"), "name") != "file" {
		t.Errorf("the composer cannot post a file without JavaScript: %v", composer.Nodes[0].Attr)
	}

	if got, want := scriptSources(doc), []string{static.Path("js/chat-core.js"), static.Path("js/chat.js"), static.Path("js/times.js")}; !slices.Equal(got, want) {
		t.Errorf("scripts = %q, want %q", got, want)
	}
	if !hasAttr(one(t, doc, "chat-assignee"), "hidden") {
		t.Errorf("assignee line shown with nobody assigned")
	}
	none(t, doc, "rating-form")
	none(t, doc, "rating-thanks")
}

// scriptSources lists the src of every script, in document order.
func scriptSources(doc *goquery.Document) []string {
	var srcs []string
	doc.Find("script").Each(func(_ int, s *goquery.Selection) { srcs = append(srcs, s.AttrOr("src", "")) })
	return srcs
}

func TestChatViewEnded(t *testing.T) {
	tests := []struct {
		name  string
		ended bool
	}{
		{name: "open", ended: false},
		{name: "ended", ended: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := chatPage()
			p.Ended = tt.ended
			doc, _ := render(t, ChatView(p))

			if got := attr(t, one(t, doc, "chat"), "data-ended"); got != boolAttr(tt.ended) {
				t.Errorf("data-ended = %q", got)
			}
			banner := one(t, doc, "ended-banner")
			if hidden := hasAttr(banner, "hidden"); hidden == tt.ended {
				t.Errorf("banner hidden = %v with ended = %v", hidden, tt.ended)
			}
			if !strings.Contains(text(banner), "This conversation has ended.") {
				t.Errorf("banner = %q", text(banner))
			}
			link := banner.Find("a")
			if text(link) != "Start a new conversation" || link.AttrOr("href", "") != "/forms/contact" {
				t.Errorf("new link = %q -> %q", text(link), link.AttrOr("href", ""))
			}
			for _, id := range []string{"composer-body", "send"} {
				if got := hasAttr(one(t, doc, id), "disabled"); got != tt.ended {
					t.Errorf("%s disabled = %v, want %v", id, got, tt.ended)
				}
			}
			if got := hasAttr(one(t, doc, "composer"), "hidden"); got != tt.ended {
				t.Errorf("composer hidden = %v, want %v", got, tt.ended)
			}
		})
	}
}

func TestChatViewDraftAndEarlier(t *testing.T) {
	p := chatPage()
	p.Draft = "my <draft>"
	p.DraftError = "Your message is too long."
	p.EarlierURL = "/conversations/conv-1?before=1"
	p.FormTitle = ""
	doc, _ := render(t, ChatView(p))

	if got := one(t, doc, "composer-body").Text(); got != p.Draft {
		t.Errorf("draft = %q", got)
	}
	errEl := one(t, doc, "composer-error")
	if text(errEl) != p.DraftError || attr(t, errEl, "role") != "alert" {
		t.Errorf("composer error = %q role %q", text(errEl), errEl.AttrOr("role", ""))
	}
	if got := attr(t, one(t, doc, "composer-body"), "aria-invalid"); got != "true" {
		t.Errorf("aria-invalid = %q", got)
	}
	if got := attr(t, one(t, doc, "earlier-messages"), "href"); got != p.EarlierURL {
		t.Errorf("earlier href = %q", got)
	}
	if got := text(doc.Find("h1")); got != "Conversation" {
		t.Errorf("heading = %q", got)
	}
}

func TestConversationListView(t *testing.T) {
	rows := []ConversationRow{
		{ID: "c2", URL: "/conversations/c2", FormTitle: "Sales", Preview: "Pricing <question>", CreatedAt: testTime, LastMessageAt: testTime.Add(time.Hour), AssistantMode: true, Unread: 3},
		{ID: "c1", URL: "/conversations/c1", FormTitle: "Support", Preview: "Bug", CreatedAt: testTime, LastMessageAt: testTime, Ended: true},
	}
	tests := []struct {
		name      string
		pager     Pager
		wantLinks map[string]string // data-testid -> href; absent ids must not render
		wantPage  string
	}{
		{
			name:      "first page",
			pager:     Pager{Current: 1, NextURL: "/conversations?page=2"},
			wantLinks: map[string]string{"page-next": "/conversations?page=2"},
			wantPage:  "Page 1",
		},
		{
			name:      "middle page",
			pager:     Pager{Current: 2, FirstURL: "/conversations?page=1", PreviousURL: "/conversations?page=1", NextURL: "/conversations?page=3"},
			wantLinks: map[string]string{"page-first": "/conversations?page=1", "page-previous": "/conversations?page=1", "page-next": "/conversations?page=3"},
			wantPage:  "Page 2",
		},
		{
			name:      "last page",
			pager:     Pager{Current: 3, FirstURL: "/conversations?page=1", PreviousURL: "/conversations?page=2"},
			wantLinks: map[string]string{"page-first": "/conversations?page=1", "page-previous": "/conversations?page=2"},
			wantPage:  "Page 3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := render(t, ConversationListView(ConversationListPage{
				Page: Page{Title: "Your conversations"}, Rows: rows, Total: 42, Pager: tt.pager, NewURL: "/",
			}))
			assertNoInlineCode(t, doc)
			for _, id := range []string{"page-first", "page-previous", "page-next"} {
				want, ok := tt.wantLinks[id]
				if !ok {
					none(t, doc, id)
					continue
				}
				if got := attr(t, one(t, doc, id), "href"); got != want {
					t.Errorf("%s href = %q, want %q", id, got, want)
				}
			}
			if got := text(one(t, doc, "page-current")); got != tt.wantPage {
				t.Errorf("page = %q, want %q", got, tt.wantPage)
			}
		})
	}

	doc, _ := render(t, ConversationListView(ConversationListPage{Rows: rows, Total: 42, Pager: Pager{Current: 1}}))
	if got := text(doc.Find("h1")); got != "Your conversations" {
		t.Errorf("heading = %q", got)
	}
	if got := text(one(t, doc, "conversation-total")); got != "42 conversations" {
		t.Errorf("total = %q", got)
	}
	none(t, doc, "empty-state")
	list := byTestID(doc, "conversation-row")
	if list.Length() != 2 {
		t.Fatalf("rows = %d, want 2", list.Length())
	}
	first, second := list.Eq(0), list.Eq(1)
	if got := first.Find(`[data-testid="conversation-link"]`).AttrOr("href", ""); got != "/conversations/c2" {
		t.Errorf("first link = %q", got)
	}
	if got := text(first.Find(`[data-testid="conversation-preview"]`)); got != "Pricing <question>" {
		t.Errorf("preview = %q", got)
	}
	if got := first.Find("time").Length(); got != 2 {
		t.Errorf("times = %d, want 2", got)
	}
	badges := []struct {
		row      *goquery.Selection
		id       string
		want     bool
		wantText string
	}{
		{first, "badge-unread", true, "3 unread"},
		{first, "badge-assistant", true, "Assistant"},
		{first, "badge-ended", false, ""},
		{first, "badge-open", true, "Open"},
		{second, "badge-unread", false, ""},
		{second, "badge-assistant", false, ""},
		{second, "badge-ended", true, "Ended"},
		{second, "badge-open", false, ""},
	}
	for i, b := range badges {
		s := b.row.Find(`[data-testid="` + b.id + `"]`)
		if got := s.Length() == 1; got != b.want {
			t.Errorf("badge %d %s shown = %v, want %v", i, b.id, got, b.want)
			continue
		}
		if b.want && text(s) != b.wantText {
			t.Errorf("badge %d %s = %q, want %q", i, b.id, text(s), b.wantText)
		}
	}
}

func TestConversationListViewEmpty(t *testing.T) {
	doc, _ := render(t, ConversationListView(ConversationListPage{NewURL: "/forms/contact", Pager: Pager{Current: 1}}))
	empty := one(t, doc, "empty-state")
	if got := empty.Find("a").AttrOr("href", ""); got != "/forms/contact" {
		t.Errorf("empty state link = %q", got)
	}
	none(t, doc, "conversation-row")
	none(t, doc, "pager")
	if got := text(one(t, doc, "conversation-total")); got != "0 conversations" {
		t.Errorf("total = %q", got)
	}
}

func TestErrorView(t *testing.T) {
	tests := []struct {
		name        string
		page        ErrorPage
		wantHeading string
		wantRef     string // empty: no reference shown
	}{
		{
			name:        "with request id",
			page:        ErrorPage{Status: 500, Heading: "Something went wrong", Detail: "Please try again.", RequestID: "req-abc"},
			wantHeading: "Something went wrong",
			wantRef:     "Reference: req-abc",
		},
		{
			name:        "default heading",
			page:        ErrorPage{Status: 404},
			wantHeading: "Not Found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := render(t, ErrorView(tt.page))
			if got := text(one(t, doc, "error-status")); got != itoa(tt.page.Status) {
				t.Errorf("status = %q", got)
			}
			if got := text(one(t, doc, "error-heading")); got != tt.wantHeading {
				t.Errorf("heading = %q, want %q", got, tt.wantHeading)
			}
			if tt.page.Detail != "" {
				if got := text(one(t, doc, "error-detail")); got != tt.page.Detail {
					t.Errorf("detail = %q", got)
				}
			} else {
				none(t, doc, "error-detail")
			}
			if tt.wantRef == "" {
				none(t, doc, "error-reference")
				return
			}
			if got := text(one(t, doc, "error-reference")); got != tt.wantRef {
				t.Errorf("reference = %q, want %q", got, tt.wantRef)
			}
		})
	}
}

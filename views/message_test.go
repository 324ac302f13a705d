package views

import (
	"slices"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// assistantQuestion is an assistant's message asking q.
func assistantQuestion(q QuestionView) MessageView {
	return MessageView{
		ID: "m5", Seq: 5, Body: "Which plan are you on?", Direction: "out", AuthorType: "assistant",
		AuthorName: "Ava", AvatarURL: "/static/img/ava.png", CreatedAt: testTime, Question: &q,
	}
}

// formFields lists the names of the successful controls a form posts,
// submit buttons included, in document order.
func formFields(form *goquery.Selection) []string {
	var names []string
	form.Find("input, select, textarea, button").Each(func(_ int, s *goquery.Selection) {
		if name, ok := s.Attr("name"); ok {
			names = append(names, name)
		}
	})
	return names
}

func TestMessageItemAssistantLabel(t *testing.T) {
	tests := []struct {
		name       string
		msg        MessageView
		wantAuthor string
		wantAvatar string // empty: no avatar
	}{
		{
			name:       "named with avatar",
			msg:        MessageView{ID: "m1", Seq: 1, Body: "Hi", Direction: "out", AuthorType: "assistant", AuthorName: "Ava", AvatarURL: "/static/img/ava.png", CreatedAt: testTime},
			wantAuthor: "Ava",
			wantAvatar: "/static/img/ava.png",
		},
		{
			name:       "anonymous without avatar",
			msg:        MessageView{ID: "m2", Seq: 2, Body: "Hi", Direction: "out", AuthorType: "assistant", CreatedAt: testTime},
			wantAuthor: "Assistant",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := render(t, MessageItem(tt.msg))
			if !one(t, doc, "message").HasClass("msg-assistant") {
				t.Errorf("class msg-assistant missing")
			}
			if got := text(one(t, doc, "message-author")); got != tt.wantAuthor {
				t.Errorf("author = %q, want %q", got, tt.wantAuthor)
			}
			if got := text(one(t, doc, "assistant-tag")); got != "Assistant" {
				t.Errorf("tag = %q, want Assistant", got)
			}
			avatar := byTestID(doc, "assistant-avatar")
			if tt.wantAvatar == "" {
				if avatar.Length() != 0 {
					t.Errorf("avatar shown without an AvatarURL")
				}
			} else {
				if avatar.Length() != 1 || goquery.NodeName(avatar) != "img" {
					t.Fatalf("avatar: found %d, want one img", avatar.Length())
				}
				if got := attr(t, avatar, "src"); got != tt.wantAvatar {
					t.Errorf("avatar src = %q, want %q", got, tt.wantAvatar)
				}
				if got := attr(t, avatar, "alt"); got != "" {
					t.Errorf("avatar alt = %q, want empty (the name is beside it)", got)
				}
			}
			none(t, doc, "question")
		})
	}
}

// TestMessageItemOthersHaveNoAssistantMarkup checks that the assistant's
// tag reaches the page only on an assistant's message, a question only on
// an assistant's or an agent's (quick replies), and an avatar besides only
// on an agent's (their picture, else their initials).
func TestMessageItemOthersHaveNoAssistantMarkup(t *testing.T) {
	q := &QuestionView{Step: "s1", Live: true, PostURL: "/conversations/c1/messages", Buttons: []ButtonView{{Label: "Yes", Payload: "yes"}}}
	for _, m := range []MessageView{
		{ID: "m1", Seq: 1, Body: "hello", Direction: "in", AuthorType: "customer", AuthorName: "Ada", Mine: true, CreatedAt: testTime},
		{ID: "m2", Seq: 2, Body: "hi", Direction: "out", AuthorType: "agent", AuthorName: "Grace", CreatedAt: testTime},
	} {
		t.Run(m.AuthorType, func(t *testing.T) {
			plainDoc, plain := render(t, MessageItem(m))
			if m.AuthorType == "agent" {
				if got := text(one(t, plainDoc, "agent-avatar")); got != "G" {
					t.Errorf("agent without a picture: initials %q, want G", got)
				}
				m.Question = q
				doc, _ := render(t, MessageItem(m))
				m.AvatarURL = "/static/img/grace.png"
				withPicture, _ := render(t, MessageItem(m))
				if got := attr(t, one(t, withPicture, "agent-avatar"), "src"); got != m.AvatarURL {
					t.Errorf("agent's picture %q", got)
				}
				for _, id := range []string{"assistant-avatar", "assistant-tag"} {
					none(t, doc, id)
				}
				// An agent's quick replies ask as an assistant's buttons do.
				one(t, doc, "question")
				return
			}
			m.AvatarURL = "/static/img/grace.png"
			m.Question = q
			doc, got := render(t, MessageItem(m))
			if got != plain {
				t.Errorf("an avatar or question changed the %s's markup:\n got %s\nwant %s", m.AuthorType, got, plain)
			}
			for _, id := range []string{"assistant-avatar", "assistant-tag", "question"} {
				none(t, doc, id)
			}
		})
	}
}

func TestMessageItemQuickReplies(t *testing.T) {
	buttons := []ButtonView{{Label: "Basic", Payload: "plan_basic"}, {Label: `Pro "annual"`, Payload: `{"plan":"pro"}`}, {Label: "Not sure", Payload: "unsure"}}
	for _, live := range []bool{true, false} {
		t.Run("live="+boolAttr(live), func(t *testing.T) {
			doc, _ := render(t, MessageItem(assistantQuestion(QuestionView{
				Step: "plan", Live: live, PostURL: "/conversations/c1/messages", Buttons: buttons,
			})))
			q := one(t, doc, "question")
			if got := attr(t, q, "data-step"); got != "plan" {
				t.Errorf("data-step = %q", got)
			}
			if got := attr(t, q, "data-live"); got != boolAttr(live) {
				t.Errorf("data-live = %q, want %v", got, live)
			}
			if q.Closest(".msg-bubble").Length() != 0 || q.PrevAll().Filter(".msg-bubble").Length() != 1 {
				t.Errorf("question is not under the bubble")
			}
			form := one(t, doc, "quick-replies")
			if goquery.NodeName(form) != "form" || attr(t, form, "method") != "post" || attr(t, form, "action") != "/conversations/c1/messages" {
				t.Errorf("form = <%s method=%q action=%q>", goquery.NodeName(form), form.AttrOr("method", ""), form.AttrOr("action", ""))
			}
			if got, want := formFields(form), []string{"step", "payload", "payload", "payload"}; !slices.Equal(got, want) {
				t.Errorf("posted fields = %q, want %q", got, want)
			}
			step := form.Find(`input[name="step"]`)
			if attr(t, step, "type") != "hidden" || attr(t, step, "value") != "plan" {
				t.Errorf("step input = type %q value %q", step.AttrOr("type", ""), step.AttrOr("value", ""))
			}
			replies := byTestID(doc, "quick-reply")
			if replies.Length() != len(buttons) {
				t.Fatalf("quick replies = %d, want %d", replies.Length(), len(buttons))
			}
			replies.Each(func(i int, b *goquery.Selection) {
				want := buttons[i]
				checks := map[string]string{"type": "submit", "name": "payload", "value": want.Payload, "data-payload": want.Payload, "data-label": want.Label}
				for name, v := range checks {
					if got := attr(t, b, name); got != v {
						t.Errorf("button %d %s = %q, want %q", i, name, got, v)
					}
				}
				if got := text(b); got != want.Label {
					t.Errorf("button %d text = %q, want %q", i, got, want.Label)
				}
				if hasAttr(b, "disabled") == live {
					t.Errorf("button %d disabled = %v, want %v", i, hasAttr(b, "disabled"), !live)
				}
			})
			none(t, doc, "articles")
			none(t, doc, "attribute-answer")
		})
	}
}

func TestMessageItemDeflection(t *testing.T) {
	articles := []ArticleView{
		{ID: "a1", Title: "Resetting your password", URL: "https://help.example.com/a1"},
		{ID: "a2", Title: "Two-factor sign-in", URL: "https://help.example.com/a2"},
	}
	doc, _ := render(t, MessageItem(assistantQuestion(QuestionView{
		Step: "deflect", Live: true, PostURL: "/conversations/c1/messages", Articles: articles,
		Buttons: []ButtonView{{Label: "That helped", Payload: "resolved"}, {Label: "I still need help", Payload: "unresolved"}},
	})))
	links := byTestID(doc, "article-link")
	if links.Length() != len(articles) {
		t.Fatalf("article links = %d, want %d", links.Length(), len(articles))
	}
	links.Each(func(i int, a *goquery.Selection) {
		want := articles[i]
		if goquery.NodeName(a) != "a" {
			t.Errorf("link %d is <%s>", i, goquery.NodeName(a))
		}
		checks := map[string]string{"href": want.URL, "data-article-id": want.ID, "target": "_blank", "rel": "noopener"}
		for name, v := range checks {
			if got := attr(t, a, name); got != v {
				t.Errorf("link %d %s = %q, want %q", i, name, got, v)
			}
		}
		if got := text(a); got != want.Title {
			t.Errorf("link %d text = %q, want %q", i, got, want.Title)
		}
	})
	if n := byTestID(doc, "quick-reply").Length(); n != 2 {
		t.Errorf("answers = %d, want 2", n)
	}
	if one(t, doc, "articles").NextAllFiltered(`[data-testid="quick-replies"]`).Length() != 1 {
		t.Errorf("the articles are not shown above the answers")
	}
}

func TestMessageItemAttributeAnswer(t *testing.T) {
	tests := []struct {
		inputType   string
		wantTag     string
		wantType    string   // the input's type; empty for a select
		wantStep    string   // the input's step attribute; empty: absent
		wantOptions []string // a select's option values
	}{
		{inputType: "text", wantTag: "input", wantType: "text"},
		{inputType: "number", wantTag: "input", wantType: "number", wantStep: "any"},
		{inputType: "email", wantTag: "input", wantType: "email"},
		{inputType: "url", wantTag: "input", wantType: "url"},
		{inputType: "datetime", wantTag: "input", wantType: "datetime-local"},
		{inputType: "checkbox", wantTag: "select", wantOptions: []string{"", "true", "false"}},
		{inputType: "unknown", wantTag: "input", wantType: "text"},
	}
	for _, tt := range tests {
		for _, live := range []bool{true, false} {
			t.Run(tt.inputType+"/live="+boolAttr(live), func(t *testing.T) {
				doc, _ := render(t, MessageItem(assistantQuestion(QuestionView{
					Step: "ask-company", Live: live, PostURL: "/conversations/c1/messages", InputType: tt.inputType, Attribute: "companyStr",
				})))
				if got := attr(t, one(t, doc, "question"), "data-live"); got != boolAttr(live) {
					t.Errorf("data-live = %q, want %v", got, live)
				}
				form := one(t, doc, "attribute-answer")
				if goquery.NodeName(form) != "form" || attr(t, form, "method") != "post" || attr(t, form, "action") != "/conversations/c1/messages" {
					t.Errorf("form = <%s method=%q action=%q>", goquery.NodeName(form), form.AttrOr("method", ""), form.AttrOr("action", ""))
				}
				if got, want := formFields(form), []string{"step", "body"}; !slices.Equal(got, want) {
					t.Errorf("posted fields = %q, want %q", got, want)
				}
				if got := form.Find(`input[name="step"][type="hidden"]`).AttrOr("value", ""); got != "ask-company" {
					t.Errorf("step = %q", got)
				}
				in := one(t, doc, "attribute-input")
				if goquery.NodeName(in) != tt.wantTag || attr(t, in, "name") != "body" || !hasAttr(in, "required") {
					t.Errorf("input = <%s name=%q required=%v>, want <%s name=body required>", goquery.NodeName(in), in.AttrOr("name", ""), hasAttr(in, "required"), tt.wantTag)
				}
				if tt.wantType != "" {
					if got := attr(t, in, "type"); got != tt.wantType {
						t.Errorf("type = %q, want %q", got, tt.wantType)
					}
				}
				if got := in.AttrOr("step", ""); got != tt.wantStep {
					t.Errorf("step attribute = %q, want %q", got, tt.wantStep)
				}
				var options []string
				in.Find("option").Each(func(_ int, o *goquery.Selection) { options = append(options, attr(t, o, "value")) })
				if !slices.Equal(options, tt.wantOptions) {
					t.Errorf("options = %q, want %q", options, tt.wantOptions)
				}
				submit := one(t, doc, "attribute-submit")
				if attr(t, submit, "type") != "submit" || text(submit) != "Send" {
					t.Errorf("submit = type %q text %q", submit.AttrOr("type", ""), text(submit))
				}
				for _, s := range []*goquery.Selection{in, submit} {
					if hasAttr(s, "disabled") == live {
						t.Errorf("<%s> disabled = %v, want %v", goquery.NodeName(s), hasAttr(s, "disabled"), !live)
					}
				}
				none(t, doc, "quick-replies")
			})
		}
	}
}

func TestMessageItemCheckboxAnswerLabels(t *testing.T) {
	doc, _ := render(t, MessageItem(assistantQuestion(QuestionView{Step: "s", Live: true, PostURL: "/p", InputType: "checkbox"})))
	got := map[string]string{}
	one(t, doc, "attribute-input").Find("option").Each(func(_ int, o *goquery.Selection) { got[o.AttrOr("value", "")] = text(o) })
	if got["true"] != "Yes" || got["false"] != "No" {
		t.Errorf("options = %q, want true=Yes false=No", got)
	}
}

// TestMessageItemQuestionInConsole checks that agents see the question an
// assistant asked but cannot answer it for the customer.
func TestMessageItemQuestionInConsole(t *testing.T) {
	m := assistantQuestion(QuestionView{
		Step: "plan", Live: true, PostURL: "/conversations/c1/messages",
		Buttons: []ButtonView{{Label: "Basic", Payload: "basic"}}, InputType: "text",
	})
	m.AgentView = true
	doc, _ := render(t, MessageItem(m))
	if got := attr(t, one(t, doc, "question"), "data-live"); got != "false" {
		t.Errorf("data-live = %q, want false in the console", got)
	}
	doc.Find(`[data-testid="question"] button, [data-testid="question"] input:not([type="hidden"]), [data-testid="question"] select`).Each(func(_ int, s *goquery.Selection) {
		if !hasAttr(s, "disabled") {
			t.Errorf("<%s data-testid=%q> enabled in the console", goquery.NodeName(s), s.AttrOr("data-testid", ""))
		}
	})
}

func TestMessageItemQuestionEscapes(t *testing.T) {
	evil := `"><script>alert(1)</script>`
	doc, html := render(t, MessageItem(assistantQuestion(QuestionView{
		Step: evil, Live: true, PostURL: "/p",
		Buttons:  []ButtonView{{Label: evil, Payload: evil}},
		Articles: []ArticleView{{ID: evil, Title: evil, URL: "javascript:alert(1)"}},
	})))
	if doc.Find("script").Length() != 0 {
		t.Fatalf("markup injected: %s", html)
	}
	if got := attr(t, one(t, doc, "quick-reply"), "data-payload"); got != evil {
		t.Errorf("payload = %q, want it intact", got)
	}
	if got := attr(t, one(t, doc, "article-link"), "href"); got == "javascript:alert(1)" {
		t.Errorf("unsafe article URL rendered as is")
	}
}

func TestMessageItemAttachments(t *testing.T) {
	m := MessageView{ID: "m3", Seq: 3, Direction: "in", AuthorType: "customer", CreatedAt: testTime, Attachments: []AttachmentView{
		{Name: "photo <1>.png", URL: "/conversations/c1/attachments/a1", Size: 2048, Image: true},
		{Name: "quote.pdf", URL: "/conversations/c1/attachments/a2", Size: 1_572_864},
	}}
	doc, _ := render(t, MessageItem(m))
	img := one(t, doc, "attachment-image")
	if src, _ := img.Attr("src"); src != "/conversations/c1/attachments/a1" {
		t.Errorf("image src %q", src)
	}
	if alt, _ := img.Attr("alt"); alt != "photo <1>.png" {
		t.Errorf("image alt %q", alt)
	}
	link := one(t, doc, "attachment-link")
	if href, _ := link.Attr("href"); href != "/conversations/c1/attachments/a2" || text(link) != "quote.pdf" {
		t.Errorf("file link %q %q", href, text(link))
	}
	if got := text(one(t, doc, "attachment-size")); got != "1.5 MB" {
		t.Errorf("size %q, want 1.5 MB", got)
	}
	// A message without files has no list.
	doc, _ = render(t, MessageItem(MessageView{ID: "m4", Seq: 4, Body: "hi", Direction: "in", AuthorType: "customer", CreatedAt: testTime}))
	if n := doc.Find(`[data-testid="attachments"]`).Length(); n != 0 {
		t.Errorf("%d attachment lists on a message without files", n)
	}
}

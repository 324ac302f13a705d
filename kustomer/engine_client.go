package kustomer

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Bounds on what an SDK client says of its own state.
const (
	maxClientArticles        = 20
	maxInitialMessages       = 20
	maxInitialMessageBytes   = 8 << 10
	maxAssistantRefLen       = 64
	maxClientArticleIDLen    = 200
	maxClientArticleTitleLen = 500
)

// checkClientState validates the SDK state a send carries: only a
// customer's send carries it; the assistant named must exist; the
// articles must look like articles.
func (e *Engine) checkClientState(verr *ValidationError, actor Actor, in SendMessageInput) {
	if in.InitAssistant == nil && in.ClientAssistantMode == nil && in.ClientDeflection == nil {
		return
	}
	if !actor.IsCustomer() {
		verr.Add("initAssistantPayload", "only a customer's client sends its assistant state")
		return
	}
	if p := in.InitAssistant; p != nil {
		switch _, _, ok := e.assistantProfile(p.Assistant); {
		case p.Assistant == "":
			verr.Add("initAssistantPayload.assistant", "is required: the assistant's id")
		case !ok:
			verr.Add("initAssistantPayload.assistant", fmt.Sprintf("%q is not an assistant of this organization", p.Assistant))
		}
		if len(p.Dialog) > maxAssistantRefLen {
			verr.Add("initAssistantPayload.dialog", fmt.Sprintf("must be at most %d characters", maxAssistantRefLen))
		}
		if len(p.Node) > maxAssistantRefLen {
			verr.Add("initAssistantPayload.node", fmt.Sprintf("must be at most %d characters", maxAssistantRefLen))
		}
		if len(p.InitialMessages) > maxInitialMessages {
			verr.Add("initAssistantPayload.initialMessages", fmt.Sprintf("must be at most %d messages", maxInitialMessages))
		}
		for i, m := range p.InitialMessages {
			if len(m) > maxInitialMessageBytes || len(m) == 0 || m[0] != '{' || !json.Valid(m) {
				verr.Add(fmt.Sprintf("initAssistantPayload.initialMessages[%d]", i), fmt.Sprintf("must be a JSON object of at most %d bytes", maxInitialMessageBytes))
			}
		}
	}
	if d := in.ClientDeflection; d != nil {
		if len(d.Articles) > maxClientArticles {
			verr.Add("lastDeflection.articles", fmt.Sprintf("must be at most %d articles", maxClientArticles))
			return
		}
		for i, a := range d.Articles {
			at := fmt.Sprintf("lastDeflection.articles[%d].", i)
			if a.ID == "" || len(a.ID) > maxClientArticleIDLen || !utf8.ValidString(a.ID) {
				verr.Add(at+"id", fmt.Sprintf("must be 1 to %d characters", maxClientArticleIDLen))
			}
			if a.Version < 0 {
				verr.Add(at+"version", "must be 0 or more")
			}
			if _, ok := normalizeLang(a.Lang); !ok {
				verr.Add(at+"lang", "must be a language tag such as en, es or pt-BR")
			}
			if utf8.RuneCountInString(a.Title) > maxClientArticleTitleLen || !utf8.ValidString(a.Title) {
				verr.Add(at+"title", fmt.Sprintf("must be at most %d characters", maxClientArticleTitleLen))
			}
			if !articleURL(a.URL) {
				verr.Add(at+"url", "must be an http(s) address or a path starting with /")
			}
		}
	}
}

// articleURL reports whether s is an article's address: absolute http(s)
// or a path on this site, at most MaxURLLen.
func articleURL(s string) bool {
	if s == "" || len(s) > MaxURLLen {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	if u.Scheme == "" && u.Host == "" {
		return len(s) > 1 && s[0] == '/' && s[1] != '/'
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// assistantProfile is Assistants.Profile, false when there are none.
func (e *Engine) assistantProfile(id string) (string, string, bool) {
	if e.Assistants == nil || id == "" {
		return "", "", false
	}
	return e.Assistants.Profile(id)
}

// formAllowsAssistant reports whether a client may start assistant id on
// a conversation of form formID: the form's own assistant, or any where
// the form allows clients to choose (allowAssistantOverride).
func (e *Engine) formAllowsAssistant(formID, id string) bool {
	f, ok := e.config.Form(formID)
	if !ok {
		return true // a conversation started without a form: the API's own
	}
	return f.AssistantID == id || f.AllowAssistantOverride
}

// withClientState records in a message's meta what the client said of its
// state, under "client", beside what the server decided.
func withClientState(meta json.RawMessage, mode *bool, d *ClientDeflection) json.RawMessage {
	fields := map[string]json.RawMessage{}
	if len(meta) > 0 {
		_ = json.Unmarshal(meta, &fields)
	}
	client := map[string]any{}
	if mode != nil {
		client["isInAssistantMode"] = *mode
	}
	if d != nil {
		if d.Articles == nil {
			d.Articles = []ClientArticle{}
		}
		client["lastDeflection"] = d
	}
	b, err := json.Marshal(client)
	if err != nil {
		return meta
	}
	fields["client"] = b
	out, err := json.Marshal(fields)
	if err != nil {
		return meta
	}
	return out
}

// Bounds of an agent's quick replies.
const (
	MaxQuickReplies       = 10
	maxQuickReplyLabelLen = 80
	maxQuickReplyPayload  = 256
)

// checkQuickReplies validates an agent's buttons: the organization's only,
// on a public message that asks something, each labelled, with a payload
// of its own.
func checkQuickReplies(verr *ValidationError, actor Actor, in SendMessageInput, body string) {
	if len(in.QuickReplies) == 0 {
		return
	}
	switch {
	case actor.IsCustomer():
		verr.Add("quickReplies", "only agents send quick replies")
		return
	case in.Private:
		verr.Add("quickReplies", "a private note cannot ask the customer")
		return
	case body == "":
		verr.Add("body", "a message with quick replies needs the question as its body")
	case len(in.QuickReplies) > MaxQuickReplies:
		verr.Add("quickReplies", fmt.Sprintf("at most %d buttons", MaxQuickReplies))
		return
	}
	seen := map[string]bool{}
	for i, q := range in.QuickReplies {
		at := fmt.Sprintf("quickReplies[%d].", i)
		if l := utf8.RuneCountInString(strings.TrimSpace(q.Label)); l == 0 || l > maxQuickReplyLabelLen || !utf8.ValidString(q.Label) {
			verr.Add(at+"label", fmt.Sprintf("must be 1 to %d characters", maxQuickReplyLabelLen))
		}
		switch {
		case q.Payload == "" || len(q.Payload) > maxQuickReplyPayload || !utf8.ValidString(q.Payload):
			verr.Add(at+"payload", fmt.Sprintf("must be 1 to %d bytes of text", maxQuickReplyPayload))
		case seen[q.Payload]:
			verr.Add(at+"payload", "is used by another button")
		}
		seen[q.Payload] = true
	}
}

// quickRepliesMeta is the meta of an agent's message with buttons: the
// question an assistant's button question carries, so that every page and
// client renders and answers it the same way.
func quickRepliesMeta(messageID, body string, replies []QuickReply) json.RawMessage {
	type button struct {
		Label   string `json:"label"`
		Payload string `json:"payload"`
	}
	q := struct {
		Step     string   `json:"step"`
		Text     string   `json:"text"`
		Buttons  []button `json:"buttons"`
		Question bool     `json:"question"`
	}{Step: "reply-" + messageID, Text: body, Question: true}
	for _, r := range replies {
		q.Buttons = append(q.Buttons, button{Label: strings.TrimSpace(r.Label), Payload: r.Payload})
	}
	b, _ := json.Marshal(map[string]any{"question": q})
	return b
}

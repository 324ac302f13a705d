package handlers

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/assistant"
	"github.com/handoff/handoff/views/locale"
)

// helperConfig is a form greeted by an assistant whose texts are written in
// English and Spanish; its question has no words of its own for a bad
// answer, so the re-ask comes from the catalogs.
const helperConfig = `
attributes:
  conversation:
    - {name: teamSizeNum, displayName: Team size}
forms:
  - id: ask
    title: {en: Ask us, es: Pregúntanos}
    assistantId: helper
    fields:
      - {name: name, label: Name, type: text, role: name, required: true}
      - {name: email, label: Email, type: email, role: email, required: true}
      - {name: message, label: Message, type: textarea, role: message, required: true}
assistants:
  - id: helper
    publicName: Helper
    steps:
      - id: welcome
        type: message
        text: {en: "Hello! One quick question first.", es: "¡Hola! Primero, una pregunta rápida."}
        next: size
      - id: size
        type: attribute
        attribute: teamSizeNum
        text: {en: "How many people are on your team?", es: "¿Cuántas personas hay en tu equipo?"}
        next: bye
      - id: bye
        type: transfer
        text: {en: "Thanks! Someone will join this chat.", es: "¡Gracias! Alguien se unirá a este chat."}
`

// TestAssistantSpeaksTheConversationsLanguage: a conversation started in
// Spanish hears the assistant's Spanish texts and a Spanish re-ask from the
// catalogs, at the hand-off (the form's message answers the question) and
// on a later reply; one started in English on the same form hears English.
// The stored messages hold what the customer read.
func TestAssistantSpeaksTheConversationsLanguage(t *testing.T) {
	e := newEnvConfig(t, []byte(helperConfig))
	for _, tt := range []struct {
		lang  string
		greet string
		ask   string
		again string // the re-ask of a number that is not one
		bye   string
	}{
		{"es", "¡Hola! Primero, una pregunta rápida.", "¿Cuántas personas hay en tu equipo?",
			"El valor de «Team size» debe ser un número.", "¡Gracias! Alguien se unirá a este chat."},
		{"en", "Hello! One quick question first.", "How many people are on your team?",
			"Team size must be a number.", "Thanks! Someone will join this chat."},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			c := e.client()
			form := url.Values{"name": {"Ana"}, "email": {"ana@example.com"}, "message": {"Hola, somos bastantes"}}
			if tt.lang != "en" {
				form.Set("handoff-lang", tt.lang)
			}
			res := c.postForm("/forms/ask", form)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("submit: %d %s", res.StatusCode, res.Body)
			}
			id := strings.TrimPrefix(res.Header.Get("Location"), "/conversations/")
			ctx := context.Background()
			if conv, _ := e.store.Conversation(ctx, id); conv.Lang != tt.lang && !(tt.lang == "en" && conv.Lang == "") {
				t.Fatalf("conversation language %q, want %q", conv.Lang, tt.lang)
			}
			said := func() []string {
				t.Helper()
				msgs, err := e.store.Messages(ctx, id, kustomer.MessageQuery{Max: 100})
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, m := range msgs {
					if m.SentBy.Type == kustomer.AuthorAssistant {
						out = append(out, m.Body)
					}
				}
				return out
			}
			// The form's message answers the question, badly: re-asked.
			want := []string{tt.greet, tt.again, tt.ask}
			if got := said(); !slices.Equal(got, want) {
				t.Errorf("at the hand-off the assistant said %q, want %q", got, want)
			}
			if !strings.Contains(string(c.get("/conversations/"+id).Body), tt.again) {
				t.Errorf("the chat page does not show the re-ask %q", tt.again)
			}

			if res := c.postForm("/conversations/"+id+"/messages", url.Values{"body": {"muchos"}, "step": {"size"}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("typed answer: %d %s", res.StatusCode, res.Body)
			}
			want = append(want, tt.again, tt.ask)
			if got := said(); !slices.Equal(got, want) {
				t.Errorf("after a bad reply the assistant said %q, want %q", got, want)
			}
			if res := c.postForm("/conversations/"+id+"/messages", url.Values{"body": {"12"}, "step": {"size"}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("typed answer: %d %s", res.StatusCode, res.Body)
			}
			want = append(want, tt.bye)
			if got := said(); !slices.Equal(got, want) {
				t.Errorf("after the answer the assistant said %q, want %q", got, want)
			}
		})
	}
}

// TestAssistantSentencesInTheCatalogs: every sentence the assistant says
// of its own is in the catalogs (TestCatalogsComplete then finds it in
// every language).
func TestAssistantSentencesInTheCatalogs(t *testing.T) {
	data := map[string]any{"Name": "Team size", "Number": 256, "Length": 300}
	for _, id := range assistant.Sentences() {
		if s := locale.AssistantWords("en", id, data); s == "" || strings.Contains(s, "{{") {
			t.Errorf("assistant.%s: %q in the English catalog", id, s)
		}
	}
}

package handlers

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/handoff/handoff/kustomer"
)

// replyTitlesIn reads the titles of a list of the saved replies page.
func replyTitlesIn(doc *goquery.Document, list string) []string {
	var out []string
	doc.Find(`[data-testid="replies-` + list + `"] [data-testid="reply-title"]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, s.Text())
	})
	return out
}

// TestSavedRepliesPages: an admin adds a team reply, an agent one of their
// own; a refused reply is shown again with its errors and the input kept;
// each agent sees the team's and their own, and may change only what is
// theirs (an agent never another's, nor the team's).
func TestSavedRepliesPages(t *testing.T) {
	e := newEnv(t)
	admin, _ := e.agentClient(t, "Root", kustomer.RoleAdmin)
	grace, _ := e.agentClient(t, "Grace", kustomer.RoleAgent)
	linus, _ := e.agentClient(t, "Linus", kustomer.RoleAgent)

	doc := grace.get("/agent/replies").doc(t)
	if doc.Find(`[data-testid="nav-replies"][aria-current="page"]`).Length() != 1 {
		t.Errorf("Saved replies is not the current page of the navigation")
	}
	if doc.Find(`[data-testid="replies-shared-empty"]`).Length() != 1 || doc.Find(`[data-testid="reply-field-shared"]`).Length() != 0 {
		t.Errorf("an agent's empty page: empty state %d, share box %d (want 1, 0)",
			doc.Find(`[data-testid="replies-shared-empty"]`).Length(), doc.Find(`[data-testid="reply-field-shared"]`).Length())
	}

	res := admin.postForm("/agent/replies", url.Values{"title": {"Refunds"}, "body": {"Hi {{customer.firstName|there}}, refunds take 5 days."}, "shared": {"true"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin adds a team reply: %d %s", res.StatusCode, res.Body)
	}
	// Refused: the input kept, the error beside its field.
	res = grace.postForm("/agent/replies", url.Values{"title": {"Sign-off"}, "body": {"Best, {{agent.nickname}}"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a reply with an unknown placeholder: %d", res.StatusCode)
	}
	doc = res.doc(t)
	if msg := doc.Find(`[data-testid="reply-error-body"]`).Text(); !strings.Contains(msg, "{{agent.nickname}}") {
		t.Errorf("body error = %q", msg)
	}
	if v := doc.Find(`[data-testid="reply-field-title"]`).AttrOr("value", ""); v != "Sign-off" {
		t.Errorf("title not kept: %q", v)
	}
	if v := doc.Find(`[data-testid="reply-field-body"]`).Text(); v != "Best, {{agent.nickname}}" {
		t.Errorf("body not kept: %q", v)
	}
	// An agent ticking "shared" by hand is refused.
	if res := grace.postForm("/agent/replies", url.Values{"title": {"Team?"}, "body": {"x"}, "shared": {"true"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("an agent adds a team reply: %d", res.StatusCode)
	}
	if res := grace.postForm("/agent/replies", url.Values{"title": {"Sign-off"}, "body": {"Best, {{agent.firstName}}"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("an agent adds their own: %d %s", res.StatusCode, res.Body)
	}
	if res := grace.postForm("/agent/replies", url.Values{"title": {"sign-off"}, "body": {"again"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.doc(t).Find(`[data-testid="reply-error-title"]`).Text(), "already") {
		t.Errorf("a taken title: %d", res.StatusCode)
	}

	doc = grace.get("/agent/replies").doc(t)
	if got := replyTitlesIn(doc, "shared"); !slices.Equal(got, []string{"Refunds"}) {
		t.Errorf("Grace's team replies = %q", got)
	}
	if got := replyTitlesIn(doc, "personal"); !slices.Equal(got, []string{"Sign-off"}) {
		t.Errorf("Grace's own replies = %q", got)
	}
	if doc.Find(`[data-testid="replies-shared"] [data-testid="reply-edit"]`).Length() != 0 {
		t.Errorf("an agent is offered to edit a team reply")
	}
	mine := doc.Find(`[data-testid="replies-personal"] [data-testid="reply-row"]`).AttrOr("data-reply-id", "")
	team := doc.Find(`[data-testid="replies-shared"] [data-testid="reply-row"]`).AttrOr("data-reply-id", "")
	if got := replyTitlesIn(linus.get("/agent/replies").doc(t), "personal"); len(got) != 0 {
		t.Errorf("Linus sees another's replies: %q", got)
	}
	for _, path := range []string{"/agent/replies/" + mine, "/agent/replies/" + mine + "/delete"} {
		if res := linus.postForm(path, url.Values{"title": {"Mine now"}, "body": {"x"}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("Linus POST %s: %d, want 404", path, res.StatusCode)
		}
	}
	if res := linus.get("/agent/replies/" + mine); res.StatusCode != http.StatusNotFound {
		t.Errorf("Linus GET Grace's reply: %d", res.StatusCode)
	}
	for _, path := range []string{"/agent/replies/" + team, "/agent/replies/" + team + "/delete"} {
		if res := grace.postForm(path, url.Values{"title": {"Changed"}, "body": {"x"}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("Grace POST %s: %d, want 403", path, res.StatusCode)
		}
	}

	// Edit: refused with the input kept, then saved; delete.
	res = grace.postForm("/agent/replies/"+mine, url.Values{"title": {""}, "body": {"Cheers"}})
	if res.StatusCode != http.StatusUnprocessableEntity || res.doc(t).Find(`[data-testid="reply-field-body"]`).Text() != "Cheers" {
		t.Errorf("an edit without a title: %d", res.StatusCode)
	}
	if res := grace.postForm("/agent/replies/"+mine, url.Values{"title": {"Sign-off"}, "body": {"Cheers, {{agent.firstName}}"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("edit: %d", res.StatusCode)
	}
	if res := admin.postForm("/agent/replies/"+team+"/delete", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the admin deletes the team reply: %d", res.StatusCode)
	}
	if got := replyTitlesIn(grace.get("/agent/replies").doc(t), "shared"); len(got) != 0 {
		t.Errorf("team replies after the delete: %q", got)
	}
	if res := e.client().get("/agent/replies"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("signed out: %d", res.StatusCode)
	}
}

// TestConversationReplies: the composer's list has the team's replies and
// the agent's own, their placeholders filled in for the conversation, and
// only for a conversation the agent may see.
func TestConversationReplies(t *testing.T) {
	e := newEnv(t)
	admin, _ := e.agentClient(t, "Root", kustomer.RoleAdmin)
	grace, _ := e.agentClient(t, "Grace Hopper", kustomer.RoleAgent)
	admin.postForm("/agent/replies", url.Values{"title": {"Order"}, "body": {"Hi {{customer.firstName|there}}, about {{attributes.orderNumberStr|your order}} from {{form.title}}…"}, "shared": {"true"}})
	grace.postForm("/agent/replies", url.Values{"title": {"Sign-off"}, "body": {"— {{agent.firstName}} <{{customer.email}}>"}})
	id := e.client().handoff(t)

	var got []struct {
		Title, Text string
		Shared      bool
	}
	res := grace.get("/agent/conversations/" + id + "/replies")
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("replies: %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	res.json(t, &got)
	want := []string{"Order|Hi Dana, about A-10042 from Contact support…|true", "Sign-off|— Grace <dana@example.com>|false"}
	var have []string
	for _, r := range got {
		have = append(have, r.Title+"|"+r.Text+"|"+map[bool]string{true: "true", false: "false"}[r.Shared])
	}
	if !slices.Equal(have, want) {
		t.Errorf("replies = %q, want %q", have, want)
	}
	if res := e.client().get("/agent/conversations/" + id + "/replies"); res.StatusCode == http.StatusOK {
		t.Errorf("signed out: %d", res.StatusCode)
	}
	if res := grace.get("/agent/conversations/" + kustomer.NewID() + "/replies"); res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown conversation: %d", res.StatusCode)
	}
}

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

// labelRows reads the names on the labels page.
func labelRows(doc *goquery.Document) []string {
	var out []string
	doc.Find(`[data-testid="label-name"]`).Each(func(_ int, s *goquery.Selection) { out = append(out, s.Text()) })
	return out
}

// TestAdminLabels: admins add, rename and delete labels (a refused one
// shown again with its errors and input); agents can neither see nor
// change them there, but label conversations from the panel, and the inbox
// shows the labels and filters by them.
func TestAdminLabels(t *testing.T) {
	e := newEnv(t)
	admin, _ := e.agentClient(t, "Root", kustomer.RoleAdmin)
	agent, _ := e.agentClient(t, "Grace", kustomer.RoleAgent)

	if doc := admin.get("/admin/labels").doc(t); doc.Find(`[data-testid="labels-empty"]`).Length() != 1 ||
		doc.Find(`[data-testid="nav-labels"][aria-current="page"]`).Length() != 1 {
		t.Errorf("empty labels page: empty state or current nav link missing")
	}
	res := admin.postForm("/admin/labels", url.Values{"name": {strings.Repeat("x", 41)}, "color": {"red"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a long name: %d", res.StatusCode)
	}
	doc := res.doc(t)
	if doc.Find(`[data-testid="label-error-name"]`).Length() != 1 || doc.Find(`[data-testid="label-field-name"]`).AttrOr("value", "") != strings.Repeat("x", 41) {
		t.Errorf("a long name: no error, or the input was not kept")
	}
	if _, ok := doc.Find(`[data-testid="label-color-red"]`).Attr("checked"); !ok {
		t.Errorf("a long name: the chosen color was not kept")
	}
	for _, in := range []url.Values{{"name": {"Refund"}, "color": {"red"}}, {"name": {"VIP"}, "color": {"purple"}}} {
		if res := admin.postForm("/admin/labels", in); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("add %s: %d", in.Get("name"), res.StatusCode)
		}
	}
	if res := admin.postForm("/admin/labels", url.Values{"name": {"refund"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a taken name: %d", res.StatusCode)
	}
	if got := labelRows(admin.get("/admin/labels").doc(t)); !slices.Equal(got, []string{"Refund", "VIP"}) {
		t.Errorf("labels = %q", got)
	}
	labels, _ := e.engine.Labels(t.Context())
	refund, vip := labels[0], labels[1]
	if res := admin.postForm("/admin/labels/"+vip.ID, url.Values{"name": {"VIP customer"}, "color": {"blue"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("rename: %d", res.StatusCode)
	}
	for _, path := range []string{"/admin/labels", "/admin/labels/" + vip.ID} {
		if res := agent.get(path); res.StatusCode != http.StatusForbidden {
			t.Errorf("agent GET %s: %d", path, res.StatusCode)
		}
	}
	if res := agent.postForm("/admin/labels/"+vip.ID+"/delete", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent deletes a label: %d", res.StatusCode)
	}

	// An agent labels two conversations; the inbox filters by label.
	first, second := e.client().handoff(t), e.client().handoff(t)
	doc = agent.get("/agent/conversations/" + first).doc(t)
	if n := doc.Find(`[data-testid="label-choice"]`).Length(); n != 2 {
		t.Fatalf("label choices in the panel: %d, want 2", n)
	}
	if res := agent.postForm("/agent/conversations/"+first+"/labels", url.Values{"label": {refund.ID, vip.ID}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("label the first: %d", res.StatusCode)
	}
	agent.postForm("/agent/conversations/"+second+"/labels", url.Values{"label": {refund.ID}})
	doc = agent.get("/agent/conversations/" + first).doc(t)
	var ticked []string
	doc.Find(`[data-testid="label-choice"][checked]`).Each(func(_ int, s *goquery.Selection) { ticked = append(ticked, s.AttrOr("data-label-name", "")) })
	if !slices.Equal(ticked, []string{"Refund", "VIP customer"}) {
		t.Errorf("ticked labels = %q", ticked)
	}
	if res := agent.postForm("/agent/conversations/"+first+"/labels", url.Values{"label": {kustomer.NewID()}}); res.StatusCode != http.StatusUnprocessableEntity ||
		res.doc(t).Find(`[data-testid="labels-error"]`).Length() != 1 {
		t.Errorf("an unknown label: %d", res.StatusCode)
	}
	inbox := func(query string) map[string][]string {
		out := map[string][]string{}
		agent.get("/agent?queue=open" + query).doc(t).Find(`[data-testid="inbox-row"]`).Each(func(_ int, r *goquery.Selection) {
			var names []string
			r.Find(`[data-testid="inbox-label"]`).Each(func(_ int, s *goquery.Selection) { names = append(names, s.Text()) })
			out[r.AttrOr("data-conversation-id", "")] = names
		})
		return out
	}
	all := inbox("")
	if len(all) != 2 || !slices.Equal(all[first], []string{"Refund", "VIP customer"}) || !slices.Equal(all[second], []string{"Refund"}) {
		t.Errorf("inbox labels = %v", all)
	}
	if got := inbox("&label=" + vip.ID); len(got) != 1 || got[first] == nil {
		t.Errorf("inbox filtered by VIP = %v, want the first only", got)
	}
	doc = agent.get("/agent?queue=open&label=" + vip.ID).doc(t)
	if doc.Find(`[data-testid="filter-label"] option[selected]`).AttrOr("value", "") != vip.ID {
		t.Errorf("the label filter does not show VIP as chosen")
	}
	if href := doc.Find(`[data-testid="queue-mine"]`).AttrOr("href", ""); !strings.Contains(href, "label="+vip.ID) {
		t.Errorf("queue tab %q does not keep the label", href)
	}

	// Deleting a label takes it off the conversations.
	if res := admin.postForm("/admin/labels/"+refund.ID+"/delete", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if got := inbox(""); len(got[second]) != 0 || !slices.Equal(got[first], []string{"VIP customer"}) {
		t.Errorf("inbox labels after the delete = %v", got)
	}
}

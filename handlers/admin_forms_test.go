package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/handoff/handoff/kustomer"
)

func TestAdminChangesFormAssistant(t *testing.T) {
	e := newEnv(t)
	admin, _ := e.agentClient(t, "Root", kustomer.RoleAdmin)
	doc := admin.get("/admin/forms").doc(t)
	card := doc.Find(`[data-testid="admin-form"][data-form-id="contact"]`)
	if card.Length() != 1 || !strings.Contains(card.Find(`[data-testid="form-assistant"]`).Text(), "None") {
		t.Fatalf("contact card: %q", card.Text())
	}
	if card.Find(`[data-testid="form-field"]`).Length() != 5 || !strings.Contains(card.Text(), "topicStr (Str)") {
		t.Errorf("fields and their mapping not shown")
	}
	if card.Find(`[data-testid="assistant-select"] option[value="qualify"]`).Length() != 1 {
		t.Errorf("qualify is not offered")
	}
	if res := admin.postForm("/admin/forms/contact/assistant", url.Values{"assistantId": {"ghost"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.doc(t).Find(`[data-testid="admin-error"]`).Text(), "not a defined assistant") {
		t.Errorf("unknown assistant: %d", res.StatusCode)
	}
	if res := admin.postForm("/admin/forms/contact/assistant", url.Values{"assistantId": {"qualify"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d %s", res.StatusCode, res.Body)
	}
	// The next hand-off uses it.
	id := e.client().handoff(t)
	conv, _ := e.store.Conversation(context.Background(), id)
	if conv.AssistantID != "qualify" || !conv.IsInAssistantMode {
		t.Errorf("next contact hand-off: assistant %q mode %v", conv.AssistantID, conv.IsInAssistantMode)
	}
	doc = admin.get("/admin/forms").doc(t)
	rows := doc.Find(`[data-testid="audit-row"]`)
	if rows.Length() != 1 || !strings.Contains(rows.Text(), "Root") || !strings.Contains(rows.Text(), "qualify") || !strings.Contains(rows.Text(), "contact") {
		t.Errorf("audit: %q", rows.Text())
	}
	// Stored: another engine over the same store (a restart) sees it.
	restarted := kustomer.NewEngine(e.store, e.hub, e.engine.Config(), nil)
	if a, overridden, err := restarted.FormAssistant(context.Background(), "contact"); err != nil || a != "qualify" || !overridden {
		t.Errorf("after a restart: %q %v %v", a, overridden, err)
	}
	// Back to none.
	admin.postForm("/admin/forms/contact/assistant", url.Values{"assistantId": {""}})
	id = e.client().handoff(t)
	conv, _ = e.store.Conversation(context.Background(), id)
	if conv.AssistantID != "" || conv.IsInAssistantMode {
		t.Errorf("after choosing none: %q %v", conv.AssistantID, conv.IsInAssistantMode)
	}
	// Agents who are not admins cannot change it.
	agent, _ := e.agentClient(t, "Dana", kustomer.RoleAgent)
	if res := agent.postForm("/admin/forms/contact/assistant", url.Values{"assistantId": {"qualify"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent changing a form: %d", res.StatusCode)
	}
}

func TestAPIAssistantOverride(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	res := c.sendJSON(http.MethodPost, "/api/v1/conversations", map[string]any{"message": "hi", "formId": "contact", "assistantId": "qualify"})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), "/assistantId") {
		t.Errorf("override on a form that does not allow it: %d %s", res.StatusCode, res.Body)
	}
	res = c.sendJSON(http.MethodPost, "/api/v1/conversations", map[string]any{"message": "hi", "formId": "sales", "assistantId": "ghost"})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("unknown assistant: %d %s", res.StatusCode, res.Body)
	}
	res = c.sendJSON(http.MethodPost, "/api/v1/conversations", map[string]any{"message": "hi", "formId": "sales", "assistantId": "qualify"})
	var created map[string]any
	res.json(t, &created)
	if res.StatusCode != http.StatusCreated || created["isInAssistantMode"] != true {
		t.Errorf("allowed override: %d %s", res.StatusCode, res.Body)
	}
	if n := e.conversationCount(); n != 1 {
		t.Errorf("%d conversations stored, want 1", n)
	}
}

func TestAdminChangesFormOrigins(t *testing.T) {
	e := newEnv(t)
	admin, _ := e.agentClient(t, "Root", kustomer.RoleAdmin)
	ctx := context.Background()
	const originsPath = "/admin/forms/contact/origins"
	card := func(doc *goquery.Document) *goquery.Selection {
		t.Helper()
		c := doc.Find(`[data-testid="admin-form"][data-form-id="contact"]`)
		if c.Length() != 1 {
			t.Fatalf("contact cards: %d", c.Length())
		}
		return c
	}
	list := func(c *goquery.Selection) []string {
		var got []string
		c.Find(`[data-testid="origins-list-contact"] [data-testid="form-origin"]`).Each(func(_ int, s *goquery.Selection) {
			got = append(got, strings.TrimSpace(s.Text()))
		})
		return got
	}

	// handoff.yaml's list to begin with.
	f, _ := e.engine.Config().Form("contact")
	yaml := f.AllowedOrigins
	c := card(admin.get("/admin/forms").doc(t))
	if got := list(c); !slices.Equal(got, yaml) {
		t.Errorf("origins shown = %q, want handoff.yaml's %q", got, yaml)
	}
	if src := c.Find(`[data-testid="origins-source-contact"]`).Text(); !strings.Contains(src, "from handoff.yaml") {
		t.Errorf("source = %q", src)
	}
	form := c.Find(`form[data-testid="origins-form-contact"]`)
	if form.AttrOr("action", "") != originsPath || form.AttrOr("method", "") != "post" ||
		form.Find(`textarea[name="origins"][data-testid="origins-contact"]`).Length() != 1 ||
		form.Find(`[data-testid="origins-save-contact"]`).Length() != 1 {
		t.Fatalf("origins form: %s", goquery.NodeName(form))
	}
	if !strings.Contains(form.Text(), "Empty: the form cannot be embedded.") {
		t.Errorf("no explanation under the textarea")
	}
	if form.Find(`[data-testid="origins-reset-contact"]`).Length() != 0 {
		t.Errorf("reset offered while handoff.yaml's list applies")
	}

	// Saved, normalized, without repeats; it applies to the form's page.
	res := admin.postForm(originsPath, url.Values{"origins": {"HTTPS://Shop.Example.com:443/\r\n\r\n  http://localhost:8080  \r\nhttps://shop.example.com\r\n"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/forms" {
		t.Fatalf("save: %d %s", res.StatusCode, res.Body)
	}
	want := []string{"https://shop.example.com", "http://localhost:8080"}
	doc := admin.get("/admin/forms").doc(t)
	if notice := doc.Find(`[data-testid="notice"]`).Text(); !strings.Contains(notice, "Saved") {
		t.Errorf("notice = %q", notice)
	}
	c = card(doc)
	if got := list(c); !slices.Equal(got, want) {
		t.Errorf("origins shown = %q, want %q", got, want)
	}
	if src := c.Find(`[data-testid="origins-source-contact"]`).Text(); !strings.Contains(src, "set here") {
		t.Errorf("source = %q", src)
	}
	if got := c.Find(`[data-testid="origins-contact"]`).Text(); got != strings.Join(want, "\n") {
		t.Errorf("textarea = %q", got)
	}
	if c.Find(`[data-testid="origins-reset-contact"]`).AttrOr("name", "") != "reset" {
		t.Errorf("no reset button once set here")
	}
	if got, overridden, err := e.engine.FormOrigins(ctx, "contact"); err != nil || !overridden || !slices.Equal(got, want) {
		t.Errorf("FormOrigins = %q %v %v", got, overridden, err)
	}
	if csp := admin.get("/forms/contact").Header.Get("Content-Security-Policy"); !strings.Contains(csp, "https://shop.example.com") || !strings.Contains(csp, "http://localhost:8080") {
		t.Errorf("form page CSP %q does not allow the saved origins", csp)
	}

	// Refused lists keep the typed text and say why, beside the textarea.
	bad := "https://ok.example.com\nftp://files.example.com\n"
	tooMany := make([]string, kustomer.MaxAllowedOrigins+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("https://site%d.example.com", i)
	}
	for _, tt := range []struct{ name, text, msg string }{
		{"bad origin", bad, `"ftp://files.example.com" is not an origin like https://www.example.com`},
		{"wildcard", "https://*.example.com", `"https://*.example.com" is not an origin`},
		{"too many", strings.Join(tooMany, "\n"), "At most 20 origins"},
	} {
		res := admin.postForm(originsPath, url.Values{"origins": {tt.text}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", tt.name, res.StatusCode)
			continue
		}
		c := card(res.doc(t))
		ta := c.Find(`[data-testid="origins-contact"]`)
		if ta.Text() != tt.text || ta.AttrOr("aria-invalid", "") != "true" {
			t.Errorf("%s: textarea %q (aria-invalid %q), want the typed text, invalid", tt.name, ta.Text(), ta.AttrOr("aria-invalid", ""))
		}
		msg := c.Find(`[data-testid="origins-error-contact"]`)
		if !strings.Contains(msg.Text(), tt.msg) || msg.AttrOr("role", "") != "alert" || !strings.Contains(ta.AttrOr("aria-describedby", ""), msg.AttrOr("id", "-")) {
			t.Errorf("%s: error %q (role %q), want it to say %q and describe the textarea", tt.name, msg.Text(), msg.AttrOr("role", ""), tt.msg)
		}
		if got := list(c); !slices.Equal(got, want) {
			t.Errorf("%s: the list in effect changed to %q", tt.name, got)
		}
	}
	if got, _, _ := e.engine.FormOrigins(ctx, "contact"); !slices.Equal(got, want) {
		t.Errorf("after refusals: %q", got)
	}

	// Survives a restart: another engine over the same store.
	restarted := kustomer.NewEngine(e.store, e.hub, e.engine.Config(), nil)
	if got, overridden, err := restarted.FormOrigins(ctx, "contact"); err != nil || !overridden || !slices.Equal(got, want) {
		t.Errorf("after a restart: %q %v %v", got, overridden, err)
	}

	// An empty list: nothing may embed the form, which differs from
	// handoff.yaml's list only in where it comes from.
	if res := admin.postForm(originsPath, url.Values{"origins": {"\r\n  \r\n"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("empty: %d %s", res.StatusCode, res.Body)
	}
	c = card(admin.get("/admin/forms").doc(t))
	if got := list(c); len(got) != 0 || !strings.Contains(c.Find(`[data-testid="origins-list-contact"]`).Text(), "Not embeddable") ||
		!strings.Contains(c.Find(`[data-testid="origins-source-contact"]`).Text(), "set here") {
		t.Errorf("after emptying: %q, %q", got, c.Find(`[data-testid="origins-source-contact"]`).Text())
	}
	if csp := admin.get("/forms/contact").Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'none'") {
		t.Errorf("form page CSP %q, want frame-ancestors 'none'", csp)
	}

	// Back to handoff.yaml's list.
	if res := admin.postForm(originsPath, url.Values{"reset": {"1"}, "origins": {"https://ignored.example.com"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d %s", res.StatusCode, res.Body)
	}
	c = card(admin.get("/admin/forms").doc(t))
	if got := list(c); !slices.Equal(got, yaml) || !strings.Contains(c.Find(`[data-testid="origins-source-contact"]`).Text(), "from handoff.yaml") {
		t.Errorf("after the reset: %q, %q", got, c.Find(`[data-testid="origins-source-contact"]`).Text())
	}
	if _, overridden, _ := e.engine.FormOrigins(ctx, "contact"); overridden {
		t.Errorf("still overridden after the reset")
	}

	// The audit: three changes of allowed origins (the order, newest first,
	// is the store's to keep; changes in one millisecond tie).
	rows := admin.get("/admin/forms").doc(t).Find(`[data-testid="audit-row"]`)
	type row struct{ who, form, setting, from, to string }
	var got []row
	rows.Each(func(_ int, r *goquery.Selection) {
		cell := func(id string) string { return strings.TrimSpace(r.Find(`[data-testid="` + id + `"]`).Text()) }
		got = append(got, row{cell("audit-who"), cell("audit-form"), cell("audit-setting"), cell("audit-from"), cell("audit-to")})
	})
	yamlText := orNone(strings.Join(yaml, " "))
	wantRows := []row{
		{"Root", "contact", "Allowed origins", "none", yamlText},
		{"Root", "contact", "Allowed origins", strings.Join(want, " "), "none"},
		{"Root", "contact", "Allowed origins", yamlText, strings.Join(want, " ")},
	}
	byText := func(a, b row) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) }
	slices.SortFunc(got, byText)
	slices.SortFunc(wantRows, byText)
	if !slices.Equal(got, wantRows) {
		t.Errorf("audit:\n got %q\nwant %q", got, wantRows)
	}

	// Unknown forms are not found; agents who are not admins are refused.
	if res := admin.postForm("/admin/forms/nope/origins", url.Values{"origins": {"https://a.example"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown form: %d", res.StatusCode)
	}
	agent, _ := e.agentClient(t, "Dana", kustomer.RoleAgent)
	for _, v := range []url.Values{{"origins": {"https://evil.example"}}, {"reset": {"1"}}} {
		if res := agent.postForm(originsPath, v); res.StatusCode != http.StatusForbidden {
			t.Errorf("agent posting %v: %d", v, res.StatusCode)
		}
	}
	if _, overridden, _ := e.engine.FormOrigins(ctx, "contact"); overridden {
		t.Errorf("an agent changed the origins")
	}
}

func TestAdminFormsAuditSetting(t *testing.T) {
	e := newEnv(t)
	admin, _ := e.agentClient(t, "Root", kustomer.RoleAdmin)
	admin.postForm("/admin/forms/sales/assistant", url.Values{"assistantId": {""}})
	admin.postForm("/admin/forms/sales/origins", url.Values{"origins": {"https://shop.example.com"}})
	rows := admin.get("/admin/forms").doc(t).Find(`[data-testid="audit-row"]`)
	var settings []string
	rows.Each(func(_ int, r *goquery.Selection) {
		settings = append(settings, strings.TrimSpace(r.Find(`[data-testid="audit-setting"]`).Text()))
	})
	// Both changes may share a millisecond, so their order is not checked.
	slices.Sort(settings)
	if !slices.Equal(settings, []string{"Allowed origins", "Assistant"}) {
		t.Errorf("audit settings = %q", settings)
	}
}

// orNone is s, or "none" (as the audit shows an empty value) when empty.
func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

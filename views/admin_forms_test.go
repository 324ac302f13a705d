package views

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

func adminFormsPage() AdminFormsPage {
	return AdminFormsPage{
		AgentPage: AgentPage{Title: "Forms", AgentName: "Ada", IsAdmin: true, Nav: "forms"},
		Forms: []AdminForm{
			{
				ID: "support", Title: "Support", URL: "/forms/support",
				Fields: []AdminField{
					{Name: "name", Label: "Your name", Type: "text", Required: true, Maps: "customer name"},
					{Name: "topic", Label: "Topic", Type: "select", Maps: "topicStr (Str)"},
				},
				AllowedOrigins: []string{"https://shop.example.com", "https://help.example.com"},
				DefaultOrigins: []string{"https://shop.example.com", "https://help.example.com"},
				OriginsAction:  "/admin/forms/support/origins",
				OriginsText:    "https://shop.example.com\nhttps://help.example.com",
				AssistantID:    "triage", DefaultID: "triage",
				AllowOverride: true,
				Assistants: []OptionView{
					{Value: "", Label: "None"},
					{Value: "triage", Label: "triage", Selected: true},
					{Value: "billing", Label: "billing"},
				},
				Action: "/admin/forms/support/assistant",
			},
			{
				ID: "sales", Title: "Sales", URL: "/forms/sales",
				Fields:            []AdminField{{Name: "message", Label: "Message", Type: "textarea", Required: true, Maps: "message"}},
				OriginsOverridden: true,
				DefaultOrigins:    []string{"https://www.example.com"},
				OriginsAction:     "/admin/forms/sales/origins",
				OriginsText:       "https://ok.example.com\nftp://nope",
				OriginsError:      `"ftp://nope" is not an origin like https://www.example.com.`,
				AssistantID:       "", DefaultID: "triage", Overridden: true,
				Assistants: []OptionView{
					{Value: "", Selected: true},
					{Value: "triage", Label: "triage"},
				},
				Action: "/admin/forms/sales/assistant",
			},
		},
		Error: "Unknown assistant “nope”.",
		Audit: []AuditEntry{
			{At: testTime, Who: "Ada", FormID: "sales", Setting: "assistant", From: "triage", To: ""},
			{At: testTime.Add(-time.Hour), Who: "Linus", FormID: "support", Setting: "assistant", From: "", To: "triage"},
			{At: testTime.Add(-2 * time.Hour), Who: "Linus", FormID: "sales", Setting: "allowedOrigins", From: "https://www.example.com", To: "https://a.example https://b.example"},
		},
	}
}

func TestAdminFormsView(t *testing.T) {
	doc, _ := render(t, AdminFormsView(adminFormsPage()))
	assertNoInlineCode(t, doc)

	if got := text(doc.Find("h1")); got != "Forms" {
		t.Errorf("heading = %q", got)
	}
	if got := attr(t, one(t, doc, "nav-forms"), "aria-current"); got != "page" {
		t.Errorf("forms nav aria-current = %q", got)
	}
	alert := one(t, doc, "admin-error")
	if text(alert) != "Unknown assistant “nope”." || alert.AttrOr("role", "") != "alert" {
		t.Errorf("admin error = %q", text(alert))
	}

	cards := byTestID(doc, "admin-form")
	if cards.Length() != 2 {
		t.Fatalf("cards = %d, want 2", cards.Length())
	}
	tests := []struct {
		id           string
		wantTitle    string
		wantURL      string
		wantFields   [][]string // name, label, type, required, maps
		wantOrigins  string
		wantSourceO  string
		wantText     string
		wantError    string
		wantReset    bool
		wantOverride string
		wantAssist   string
		wantSource   string
		wantSelected string
		wantOptions  []string // option texts
		wantAction   string
	}{
		{
			id: "support", wantTitle: "Support", wantURL: "/forms/support",
			wantFields: [][]string{
				{"name", "Your name", "text", "Yes", "customer name"},
				{"topic", "Topic", "select", "No", "topicStr (Str)"},
			},
			wantOrigins:  "https://shop.example.com https://help.example.com",
			wantSourceO:  "(from handoff.yaml)",
			wantText:     "https://shop.example.com\nhttps://help.example.com",
			wantOverride: "Yes",
			wantAssist:   "triage",
			wantSource:   "(default from handoff.yaml)",
			wantSelected: "triage",
			wantOptions:  []string{"None", "triage", "billing"},
			wantAction:   "/admin/forms/support/assistant",
		},
		{
			id: "sales", wantTitle: "Sales", wantURL: "/forms/sales",
			wantFields:   [][]string{{"message", "Message", "textarea", "Yes", "message"}},
			wantOrigins:  "Not embeddable",
			wantSourceO:  "(set here; handoff.yaml: https://www.example.com)",
			wantText:     "https://ok.example.com\nftp://nope",
			wantError:    `"ftp://nope" is not an origin like https://www.example.com.`,
			wantReset:    true,
			wantOverride: "No",
			wantAssist:   "None",
			wantSource:   "(chosen by an operator; default: triage)",
			wantSelected: "",
			wantOptions:  []string{"None", "triage"},
			wantAction:   "/admin/forms/sales/assistant",
		},
	}
	for i, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			card := cards.Eq(i)
			if got := attr(t, card, "data-form-id"); got != tt.id {
				t.Errorf("form id = %q", got)
			}
			if got := text(card.Find("h2")); got != tt.wantTitle {
				t.Errorf("title = %q", got)
			}
			if got := card.Find(`[data-testid="form-public-link"]`).AttrOr("href", ""); got != tt.wantURL {
				t.Errorf("public link = %q", got)
			}
			rows := card.Find(`[data-testid="form-field"]`)
			if rows.Length() != len(tt.wantFields) {
				t.Fatalf("field rows = %d, want %d", rows.Length(), len(tt.wantFields))
			}
			for j, want := range tt.wantFields {
				var got []string
				rows.Eq(j).Find("td").Each(func(_ int, td *goquery.Selection) { got = append(got, text(td)) })
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("field %d = %q, want %q", j, got, want)
				}
			}
			origins := card.Find(`[data-testid="origins-list-` + tt.id + `"]`)
			if items := origins.Find(`[data-testid="form-origin"]`); items.Length() > 0 {
				var got []string
				items.Each(func(_ int, o *goquery.Selection) { got = append(got, text(o)) })
				if strings.Join(got, " ") != tt.wantOrigins {
					t.Errorf("origins = %q, want %q", got, tt.wantOrigins)
				}
			} else if got := text(origins); got != tt.wantOrigins {
				t.Errorf("origins = %q, want %q", got, tt.wantOrigins)
			}
			if got := text(card.Find(`[data-testid="origins-source-` + tt.id + `"]`)); got != tt.wantSourceO {
				t.Errorf("origins source = %q, want %q", got, tt.wantSourceO)
			}
			checkOriginsForm(t, card, tt.id, tt.wantText, tt.wantError, tt.wantReset)
			if got := text(card.Find(`[data-testid="form-allow-override"]`)); got != tt.wantOverride {
				t.Errorf("allow override = %q, want %q", got, tt.wantOverride)
			}
			if got := text(card.Find(`[data-testid="form-assistant"]`)); got != tt.wantAssist {
				t.Errorf("assistant = %q, want %q", got, tt.wantAssist)
			}
			if got := text(card.Find(`[data-testid="form-assistant-source"]`)); got != tt.wantSource {
				t.Errorf("source = %q, want %q", got, tt.wantSource)
			}
			form := card.Find(`[data-testid="assistant-form"]`)
			if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != tt.wantAction {
				t.Errorf("assistant form = %v", form.Nodes[0].Attr)
			}
			sel := form.Find(`select[data-testid="assistant-select"]`)
			if sel.AttrOr("name", "") != "assistantId" {
				t.Errorf("select name = %q", sel.AttrOr("name", ""))
			}
			if id := sel.AttrOr("id", ""); id == "" || form.Find(`label[for="`+id+`"]`).Length() != 1 {
				t.Errorf("select %q has no label", id)
			}
			selected := sel.Find("option[selected]")
			if selected.Length() != 1 {
				t.Fatalf("selected options = %d, want 1", selected.Length())
			}
			if got, ok := selected.Attr("value"); !ok || got != tt.wantSelected {
				t.Errorf("selected = %q (present %v), want %q", got, ok, tt.wantSelected)
			}
			var opts []string
			sel.Find("option").Each(func(_ int, o *goquery.Selection) { opts = append(opts, text(o)) })
			if strings.Join(opts, "|") != strings.Join(tt.wantOptions, "|") {
				t.Errorf("options = %q, want %q", opts, tt.wantOptions)
			}
			save := form.Find(`[data-testid="assistant-save"]`)
			if text(save) != "Save" || save.AttrOr("type", "") != "submit" {
				t.Errorf("save = %q", text(save))
			}
		})
	}

	rows := byTestID(doc, "audit-row")
	if rows.Length() != 3 {
		t.Fatalf("audit rows = %d, want 3", rows.Length())
	}
	none(t, doc, "audit-empty")
	var heads []string
	doc.Find(".audit-table th").Each(func(_ int, th *goquery.Selection) { heads = append(heads, text(th)) })
	if strings.Join(heads, "|") != "When|Who|Form|Setting|Change" {
		t.Errorf("audit columns = %q", heads)
	}
	audit := []struct {
		datetime, shown, who, form, setting, change string
	}{
		{"2025-03-04T15:04:05Z", "4 Mar 2025 15:04 UTC", "Ada", "sales", "Assistant", "triage → none"},
		{"2025-03-04T14:04:05Z", "4 Mar 2025 14:04 UTC", "Linus", "support", "Assistant", "none → triage"},
		{"2025-03-04T13:04:05Z", "4 Mar 2025 13:04 UTC", "Linus", "sales", "Allowed origins", "https://www.example.com → https://a.example https://b.example"},
	}
	for i, want := range audit {
		row := rows.Eq(i)
		tm := row.Find("time")
		if got := tm.AttrOr("datetime", ""); got != want.datetime {
			t.Errorf("row %d datetime = %q, want %q", i, got, want.datetime)
		}
		if got := text(tm); got != want.shown {
			t.Errorf("row %d time = %q, want %q", i, got, want.shown)
		}
		for id, w := range map[string]string{"audit-who": want.who, "audit-form": want.form, "audit-setting": want.setting, "audit-change": want.change} {
			if got := text(row.Find(`[data-testid="` + id + `"]`)); got != w {
				t.Errorf("row %d %s = %q, want %q", i, id, got, w)
			}
		}
	}
}

// checkOriginsForm checks a card's form that changes the allowed origins:
// where it posts, the labelled textarea with its text, help and error, and
// the buttons.
func checkOriginsForm(t *testing.T, card *goquery.Selection, id, wantText, wantError string, wantReset bool) {
	t.Helper()
	form := card.Find(`form[data-testid="origins-form-` + id + `"]`)
	if form.Length() != 1 || form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/admin/forms/"+id+"/origins" {
		t.Fatalf("origins form: %d, action %q", form.Length(), form.AttrOr("action", ""))
	}
	ta := form.Find(`textarea[data-testid="origins-` + id + `"]`)
	if ta.AttrOr("name", "") != "origins" {
		t.Errorf("textarea name = %q", ta.AttrOr("name", ""))
	}
	if taID := ta.AttrOr("id", ""); taID == "" || form.Find(`label[for="`+taID+`"]`).Length() != 1 {
		t.Errorf("textarea %q has no label", taID)
	}
	if got := ta.Text(); got != wantText {
		t.Errorf("textarea = %q, want %q", got, wantText)
	}
	describedBy := strings.Fields(ta.AttrOr("aria-describedby", ""))
	help := form.Find("#origins-help-" + id)
	if !slices.Contains(describedBy, "origins-help-"+id) || text(help) != "Pages on these origins may embed this form (and its chats). One origin per line, like https://www.example.com. Empty: the form cannot be embedded." {
		t.Errorf("help %q, described by %q", text(help), describedBy)
	}
	errEl := form.Find(`[data-testid="origins-error-` + id + `"]`)
	if wantError == "" {
		if errEl.Length() != 0 || hasAttr(ta, "aria-invalid") || len(describedBy) != 1 {
			t.Errorf("error shown without one: %q, aria-invalid %v, described by %q", text(errEl), hasAttr(ta, "aria-invalid"), describedBy)
		}
	} else {
		if text(errEl) != wantError || errEl.AttrOr("role", "") != "alert" {
			t.Errorf("error = %q (role %q), want %q", text(errEl), errEl.AttrOr("role", ""), wantError)
		}
		if ta.AttrOr("aria-invalid", "") != "true" || !slices.Contains(describedBy, errEl.AttrOr("id", "-")) {
			t.Errorf("textarea aria-invalid %q, described by %q: want invalid, described by the error", ta.AttrOr("aria-invalid", ""), describedBy)
		}
	}
	save := form.Find(`[data-testid="origins-save-` + id + `"]`)
	if text(save) != "Save" || save.AttrOr("type", "") != "submit" || hasAttr(save, "name") {
		t.Errorf("save = %q", text(save))
	}
	reset := form.Find(`[data-testid="origins-reset-` + id + `"]`)
	if got := reset.Length() == 1; got != wantReset {
		t.Fatalf("reset shown = %v, want %v", got, wantReset)
	}
	if wantReset && (text(reset) != "Use handoff.yaml's list" || reset.AttrOr("name", "") != "reset" || reset.AttrOr("value", "") != "1" || reset.AttrOr("type", "") != "submit") {
		t.Errorf("reset = %q name %q value %q", text(reset), reset.AttrOr("name", ""), reset.AttrOr("value", ""))
	}
}

func TestAdminFormsViewEmpty(t *testing.T) {
	p := adminFormsPage()
	p.Error, p.Audit, p.Forms = "", nil, p.Forms[:1]
	doc, _ := render(t, AdminFormsView(p))
	none(t, doc, "admin-error")
	none(t, doc, "audit-row")
	if got := text(one(t, doc, "audit-empty")); got == "" {
		t.Error("empty audit state has no text")
	}
	if n := byTestID(doc, "admin-form").Length(); n != 1 {
		t.Errorf("cards = %d, want 1", n)
	}
}

func TestConsoleNavForms(t *testing.T) {
	tests := []struct {
		name       string
		page       AgentPage
		wantForms  bool
		wantActive string
	}{
		{name: "agent", page: agentPage(), wantActive: "nav-inbox"},
		{name: "admin on inbox", page: AgentPage{AgentName: "Ada", IsAdmin: true, Nav: "inbox"}, wantForms: true, wantActive: "nav-inbox"},
		{name: "admin on forms", page: AgentPage{AgentName: "Ada", IsAdmin: true, Nav: "forms"}, wantForms: true, wantActive: "nav-forms"},
		{name: "signed out", page: AgentPage{Title: "Sign in"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := render(t, SignInView(SignInPage{AgentPage: tt.page}))
			link := byTestID(doc, "nav-forms")
			if got := link.Length() == 1; got != tt.wantForms {
				t.Fatalf("forms link shown = %v, want %v", got, tt.wantForms)
			}
			if tt.wantForms {
				if got := attr(t, link, "href"); got != "/admin/forms" || text(link) != "Forms" {
					t.Errorf("forms link = %q -> %q", text(link), got)
				}
				if prev := link.Prev(); prev.AttrOr("data-testid", "") != "nav-agents" {
					t.Errorf("forms link follows %q, want nav-agents", prev.AttrOr("data-testid", ""))
				}
			}
			current := doc.Find(`nav [aria-current="page"]`)
			if tt.wantActive == "" {
				if current.Length() != 0 {
					t.Errorf("active links = %d", current.Length())
				}
			} else if current.Length() != 1 || current.AttrOr("data-testid", "") != tt.wantActive {
				t.Errorf("active link = %d %q, want %q", current.Length(), current.AttrOr("data-testid", ""), tt.wantActive)
			}
		})
	}
}

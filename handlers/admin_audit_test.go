package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/handoff/handoff/kustomer"
)

// TestAdminAudit: the changes admins make through the pages (an account,
// a form's assistant, a webhook) are on the audit log, newest first, with
// who made them and what changed, never a secret; the log filters by area
// and pages back; agents cannot read it.
func TestAdminAudit(t *testing.T) {
	e := newEnv(t)
	admin, root := e.agentClient(t, "Root", kustomer.RoleAdmin)
	if res := admin.postForm("/admin/agents", url.Values{"name": {"Sam"}, "email": {"sam@example.com"}, "password": {"a long enough password"}, "role": {"agent"}, "skills": {"billing"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create agent: %d", res.StatusCode)
	}
	sam, err := e.engine.Authenticate(context.Background(), "sam@example.com", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if res := admin.postForm("/admin/agents/"+sam.ID, url.Values{"name": {"Samantha"}, "role": {"admin"}, "skills": {"billing"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit agent: %d", res.StatusCode)
	}
	w := e.createWebhook(t, root, "https://hooks.example.com/in")
	if res := admin.postForm("/admin/webhooks/"+w.ID+"/secret", url.Values{}); res.StatusCode >= 400 {
		t.Fatalf("rotate secret: %d", res.StatusCode)
	}
	rotated, _ := e.engine.Webhook(context.Background(), w.ID)

	res := admin.get("/admin/audit")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/audit: %d", res.StatusCode)
	}
	doc := res.doc(t)
	if doc.Find(`[data-testid="nav-audit"][aria-current="page"]`).AttrOr("href", "") != "/admin/audit" {
		t.Errorf("the Audit log link is not the current page of the navigation")
	}
	rows := auditRows(doc)
	want := []string{
		"Root | Webhooks: hooks.example.com signing secret replaced | secret changed",
		"Root | Webhooks: hooks.example.com created | URL → https://hooks.example.com/in; events → " + strings.Join(kustomer.WebhookEventTypes, ", ") + "; private → no; enabled → yes",
		"Root | Agents: Sam changed | name Sam → Samantha; role agent → admin",
		"Root | Agents: Sam created | email → sam@example.com; role → agent; skills → billing; capacity → 5",
		"handoff | Agents: Root created | email → root@example.com; role → admin; capacity → 5",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	for _, secret := range []string{w.Secret, rotated.Secret, "a long enough password", "$2a$"} {
		if strings.Contains(string(res.Body), secret) {
			t.Errorf("the audit page shows a secret (%.8s…)", secret)
		}
	}

	// By area; an unknown area starts over.
	doc = admin.get("/admin/audit?area=agents").doc(t)
	if got := auditRows(doc); len(got) != 3 || !strings.Contains(got[0], "Samantha") {
		t.Errorf("agents only: %q", got)
	}
	if doc.Find(`[data-testid="audit-area"] option[selected]`).AttrOr("value", "") != "agents" {
		t.Errorf("the area filter does not show agents as chosen")
	}
	if got := auditRows(admin.get("/admin/audit?area=labels").doc(t)); len(got) != 0 {
		t.Errorf("labels: %q", got)
	}
	if res := admin.get("/admin/audit?area=nonsense"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/audit" {
		t.Errorf("unknown area: %d %q", res.StatusCode, res.Header.Get("Location"))
	}

	// Pages of fifty, newest first, the area kept.
	for i := range kustomer.AuditPageSize {
		name := fmt.Sprintf("Sam %d", i)
		if _, err := e.engine.UpdateAgent(context.Background(), root.Actor(), sam.ID, kustomer.UpdateAgentInput{Name: &name}); err != nil {
			t.Fatal(err)
		}
	}
	doc = admin.get("/admin/audit?area=agents").doc(t)
	first := auditRows(doc)
	older := doc.Find(`[data-testid="audit-older"]`).AttrOr("href", "")
	if len(first) != kustomer.AuditPageSize || !strings.Contains(first[0], fmt.Sprintf("Sam %d", kustomer.AuditPageSize-1)) || !strings.Contains(older, "area=agents") {
		t.Fatalf("first page: %d rows, first %q, older link %q", len(first), first[0], older)
	}
	doc = admin.get(older).doc(t)
	second := auditRows(doc)
	if len(second) != 3 || !strings.Contains(second[0], "Sam → Samantha") || !strings.Contains(second[2], "Root created") {
		t.Errorf("second page: %q", second)
	}
	if doc.Find(`[data-testid="audit-older"]`).Length() != 0 || doc.Find(`[data-testid="audit-newest"]`).AttrOr("href", "") != "/admin/audit?area=agents" {
		t.Errorf("last page's links: older %d, newest %q", doc.Find(`[data-testid="audit-older"]`).Length(), doc.Find(`[data-testid="audit-newest"]`).AttrOr("href", ""))
	}

	// Agents cannot read it.
	agent, _ := e.agentClient(t, "Grace", kustomer.RoleAgent)
	if res := agent.get("/admin/audit"); res.StatusCode != http.StatusForbidden || strings.Contains(string(res.Body), "Samantha") {
		t.Errorf("agent GET /admin/audit: %d", res.StatusCode)
	}
}

// auditRows reads the audit page's rows as "who | what | changes".
func auditRows(doc *goquery.Document) []string {
	var rows []string
	doc.Find(`[data-testid="audit-row"]`).Each(func(_ int, r *goquery.Selection) {
		var changes []string
		r.Find(`[data-testid="audit-change"]`).Each(func(_ int, c *goquery.Selection) {
			changes = append(changes, strings.Join(strings.Fields(c.Text()), " "))
		})
		rows = append(rows, strings.Join([]string{
			strings.TrimSpace(r.Find(`[data-testid="audit-actor"]`).Text()),
			strings.Join(strings.Fields(r.Find(`[data-testid="audit-target"]`).Text()), " "),
			strings.Join(changes, "; "),
		}, " | "))
	})
	return rows
}

package handlers

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/kustomer/mail"
)

// dirFiles adapts mail.Dir as main.go does.
type dirFiles struct{ mail.Dir }

func (d dirFiles) Names() ([]MailFileInfo, error) {
	files, err := d.Files()
	var out []MailFileInfo
	for _, f := range files {
		out = append(out, MailFileInfo{Name: f.Name, ModTime: f.ModTime})
	}
	return out, err
}

// TestAdminMail shows admins a parked email with its error and, without
// SMTP, the written .eml files, which they can read; agents get 403.
func TestAdminMail(t *testing.T) {
	e := newEnv(t)
	dir := mail.Dir{Path: filepath.Join(t.TempDir(), "mail")}
	e.srv.opts.MailFiles = dirFiles{dir}
	ctx := context.Background()
	id := e.client().handoff(t)
	if err := dir.Send(ctx, mail.Message{ID: "followup-1@chat.example.com", From: "a@example.com", To: "dana@example.com",
		Subject: "Grace replied", Text: "Hello Dana", HTML: "<p>Hello Dana</p>"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Enqueue(ctx, kustomer.OutboxItem{Kind: kustomer.OutboxFollowUp, Key: "followup-x", ConversationID: id, DueAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	items, err := e.store.ClaimOutbox(ctx, kustomer.OutboxFollowUp, time.Now().Add(time.Second), time.Minute, 1)
	if err != nil || len(items) != 1 {
		t.Fatalf("claim: %v %v", items, err)
	}
	if err := e.store.ParkOutbox(ctx, items[0], "mail: permanent failure: smtp 550", time.Now()); err != nil {
		t.Fatal(err)
	}

	admin, _ := e.agentClient(t, "Root", kustomer.RoleAdmin)
	res := admin.get("/admin/mail")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/mail: %d", res.StatusCode)
	}
	d := res.doc(t)
	if d.Find(`[data-testid="failed-row"]`).Length() != 1 || d.Find(`[data-testid="failed-state"]`).Text() != "parked" ||
		d.Find(`[data-testid="failed-error"]`).Text() != "mail: permanent failure: smtp 550" {
		t.Errorf("failed rows:\n%s", res.Body)
	}
	link, _ := d.Find(`[data-testid="mail-file"] a`).Attr("href")
	if link != "/admin/mail/files/followup-1_chat.example.com.eml" {
		t.Fatalf("file link %q", link)
	}
	res = admin.get(link)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") ||
		!strings.Contains(string(res.Body), "Message-ID: <followup-1@chat.example.com>") {
		t.Errorf("GET %s: %d %s\n%s", link, res.StatusCode, res.Header.Get("Content-Type"), res.Body)
	}
	for _, bad := range []string{"/admin/mail/files/..%2Fsession-keys", "/admin/mail/files/nope.eml"} {
		if res := admin.get(bad); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", bad, res.StatusCode)
		}
	}
	agent, _ := e.agentClient(t, "Grace", kustomer.RoleAgent)
	if res := agent.get("/admin/mail"); res.StatusCode != http.StatusForbidden {
		t.Errorf("an agent got /admin/mail: %d", res.StatusCode)
	}
	// With SMTP there are no files to list.
	e.srv.opts.MailFiles = nil
	if res := admin.get(link); res.StatusCode != http.StatusNotFound {
		t.Errorf("file with SMTP configured: %d, want 404", res.StatusCode)
	}
}

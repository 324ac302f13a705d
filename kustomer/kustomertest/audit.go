package kustomertest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer"
)

// auditEntry returns an entry of the audit log made at at(n).
func auditEntry(n int, area kustomer.AuditArea, targetID, action string, changes ...kustomer.AuditChange) kustomer.AuditEntry {
	return kustomer.AuditEntry{
		ID: kustomer.NewID(), At: at(n), ActorID: "admin-1", ActorName: "Ada", Area: area,
		TargetID: targetID, TargetName: "name of " + targetID, Action: action, Changes: changes,
	}
}

// auditIDs lists the entries' IDs.
func auditIDs(entries []kustomer.AuditEntry) []string {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	return ids
}

// testAuditLog checks that the changes that take audit entries record them
// with the change, in the same transaction (a refused change records
// nothing), and that the log lists them newest first, by area, in pages.
func testAuditLog(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	list := func(what string, q kustomer.AuditQuery) []kustomer.AuditEntry {
		t.Helper()
		if q.Limit == 0 {
			q.Limit = 100
		}
		got, err := s.AuditLog(ctx, q)
		must(t, what, err)
		if got == nil {
			t.Errorf("%s: AuditLog = nil, want an empty list", what)
		}
		return got
	}
	if got := list("empty log", kustomer.AuditQuery{}); len(got) != 0 {
		t.Fatalf("AuditLog of a new store = %+v, want none", got)
	}

	grace := newAgent("Grace", "grace@example.com", kustomer.RoleAgent)
	created := auditEntry(1, kustomer.AuditAgents, grace.ID, kustomer.AuditCreated, kustomer.AuditChange{Field: "role", To: "agent"})
	must(t, "SaveAgent with audit", s.SaveAgent(ctx, grace, created))

	// A refused change records nothing: the entry is in its transaction.
	impostor := newAgent("Impostor", "grace@example.com", kustomer.RoleAdmin)
	wantErr(t, "SaveAgent with a taken email", s.SaveAgent(ctx, impostor, auditEntry(2, kustomer.AuditAgents, impostor.ID, kustomer.AuditCreated)), kustomer.ErrConflict)

	grace.Role = kustomer.RoleAdmin
	updated := auditEntry(3, kustomer.AuditAgents, grace.ID, kustomer.AuditUpdated,
		kustomer.AuditChange{Field: "role", From: "agent", To: "admin"}, kustomer.AuditChange{Field: "password"})
	must(t, "SaveAgent update with audit", s.SaveAgent(ctx, grace, updated))
	signedOut := auditEntry(4, kustomer.AuditAgents, grace.ID, kustomer.AuditSignedOut)
	if _, err := s.DeleteAgentSessions(ctx, grace.ID, "", signedOut); err != nil {
		t.Fatalf("DeleteAgentSessions with audit: %v", err)
	}

	w := newWebhook("https://crm.example.com/hook", kustomer.WebhookMessageCreated)
	hookCreated := auditEntry(5, kustomer.AuditWebhooks, w.ID, kustomer.AuditCreated, kustomer.AuditChange{Field: "url", To: w.URL})
	must(t, "CreateWebhook with audit", s.CreateWebhook(ctx, w, hookCreated))
	w.Description = "CRM"
	hookUpdated := auditEntry(6, kustomer.AuditWebhooks, w.ID, kustomer.AuditUpdated, kustomer.AuditChange{Field: "description", To: "CRM"})
	must(t, "UpdateWebhook with audit", s.UpdateWebhook(ctx, w, hookUpdated))
	missing := newWebhook("https://gone.example.com/hook", kustomer.WebhookMessageCreated)
	wantErr(t, "UpdateWebhook of a missing endpoint", s.UpdateWebhook(ctx, missing, auditEntry(7, kustomer.AuditWebhooks, missing.ID, kustomer.AuditUpdated)), kustomer.ErrNotFound)
	wantErr(t, "DeleteWebhook of a missing endpoint", s.DeleteWebhook(ctx, missing.ID, auditEntry(7, kustomer.AuditWebhooks, missing.ID, kustomer.AuditDeleted)), kustomer.ErrNotFound)
	hookDeleted := auditEntry(8, kustomer.AuditWebhooks, w.ID, kustomer.AuditDeleted)
	must(t, "DeleteWebhook with audit", s.DeleteWebhook(ctx, w.ID, hookDeleted))

	form := kustomer.FormAuditEntry{ID: kustomer.NewID(), FormID: "contact", AgentID: "admin-1", AgentName: "Ada", From: "", To: "greeter", At: at(9)}
	must(t, "SetFormAssistant", s.SetFormAssistant(ctx, form))

	want := []kustomer.AuditEntry{
		{ID: form.ID, At: at(9), ActorID: "admin-1", ActorName: "Ada", Area: kustomer.AuditForms, TargetID: "contact", TargetName: "contact",
			Action: kustomer.FormSettingAssistant, Changes: []kustomer.AuditChange{{Field: kustomer.FormSettingAssistant, To: "greeter"}}},
		hookDeleted, hookUpdated, hookCreated, signedOut, updated, created,
	}
	got := list("whole log", kustomer.AuditQuery{})
	if len(got) != len(want) {
		t.Fatalf("AuditLog = %d entries %q, want %d %q", len(got), auditIDs(got), len(want), auditIDs(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || !g.At.Equal(w.At) || g.ActorID != w.ActorID || g.ActorName != w.ActorName || g.Area != w.Area ||
			g.TargetID != w.TargetID || g.TargetName != w.TargetName || g.Action != w.Action || !slices.Equal(g.Changes, w.Changes) {
			t.Errorf("AuditLog[%d] = %+v, want %+v", i, g, w)
		}
	}

	if got := auditIDs(list("agents", kustomer.AuditQuery{Area: kustomer.AuditAgents})); !slices.Equal(got, []string{signedOut.ID, updated.ID, created.ID}) {
		t.Errorf("AuditLog(agents) = %q, want the three account entries, newest first", got)
	}
	if got := list("labels", kustomer.AuditQuery{Area: kustomer.AuditLabels}); len(got) != 0 {
		t.Errorf("AuditLog(labels) = %+v, want none", got)
	}

	// Pages: Before an entry lists the ones older than it.
	var pages [][]string
	before := ""
	for range len(want) {
		page := list("page", kustomer.AuditQuery{Before: before, Limit: 3})
		if len(page) == 0 {
			break
		}
		pages = append(pages, auditIDs(page))
		before = page[len(page)-1].ID
	}
	if got, want := fmt.Sprint(pages), fmt.Sprint([][]string{auditIDs(want[:3]), auditIDs(want[3:6]), auditIDs(want[6:])}); got != want {
		t.Errorf("pages of three = %s, want %s", got, want)
	}
	if got := auditIDs(list("agents before the update", kustomer.AuditQuery{Area: kustomer.AuditAgents, Before: updated.ID})); !slices.Equal(got, []string{created.ID}) {
		t.Errorf("AuditLog(agents, before the update) = %q, want the creation", got)
	}
	if got := list("before an unknown entry", kustomer.AuditQuery{Before: kustomer.NewID()}); len(got) != 0 {
		t.Errorf("AuditLog(before an unknown entry) = %q, want none", auditIDs(got))
	}

	same := []kustomer.AuditEntry{auditEntry(20, kustomer.AuditLabels, "l1", kustomer.AuditCreated), auditEntry(20, kustomer.AuditLabels, "l2", kustomer.AuditCreated)}
	for _, e := range same {
		must(t, "SaveAgent", s.SaveAgent(ctx, grace, e))
	}
	first := list("same millisecond", kustomer.AuditQuery{Area: kustomer.AuditLabels, Limit: 1})
	rest := list("same millisecond, after the first", kustomer.AuditQuery{Area: kustomer.AuditLabels, Before: first[0].ID})
	if got, want := strings.Join(append(auditIDs(first), auditIDs(rest)...), " "), same[1].ID+" "+same[0].ID; got != want {
		t.Errorf("two entries of one millisecond, a page of one each: %s, want the later recorded first: %s", got, want)
	}
}

// testEngineAudit checks what the Engine records of admins' changes: who,
// which account or endpoint, each field that changed from what to what,
// and never a password, its hash or a signing secret. Only admins read the
// log.
func testEngineAudit(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	root := f.newAgent(t, "Root", "root@example.com", kustomer.RoleAdmin)
	grace := f.newAgent(t, "Grace", "grace@example.com", kustomer.RoleAgent, "tech")

	role, skills, off := kustomer.RoleAdmin, []string{"tech", "billing"}, true
	_, err := f.engine.UpdateAgent(ctx, root.Actor(), grace.ID, kustomer.UpdateAgentInput{Role: &role, Skills: &skills, Password: "a brand new password"})
	must(t, "UpdateAgent", err)
	_, err = f.engine.UpdateAgent(ctx, root.Actor(), grace.ID, kustomer.UpdateAgentInput{Disabled: &off})
	must(t, "UpdateAgent disable", err)
	must(t, "EndAgentSessions", f.engine.EndAgentSessions(ctx, root.Actor(), grace.ID))

	url, events := "https://hooks.example.com/handoff", []string{kustomer.WebhookMessageCreated}
	w, err := f.engine.CreateWebhook(ctx, root.Actor(), kustomer.WebhookInput{URL: &url, Events: &events})
	must(t, "CreateWebhook", err)
	rotated, err := f.engine.RotateWebhookSecret(ctx, root.Actor(), w.ID)
	must(t, "RotateWebhookSecret", err)
	must(t, "DeleteWebhook", f.engine.DeleteWebhook(ctx, root.Actor(), w.ID))

	log, err := f.engine.AuditLog(ctx, root, kustomer.AuditQuery{})
	must(t, "AuditLog", err)
	_, err = f.engine.AuditLog(ctx, root, kustomer.AuditQuery{Area: "nonsense"})
	wantValidation(t, "AuditLog of an unknown area", err, "area")
	_, err = f.engine.AuditLog(ctx, f.newAgent(t, "Linus", "linus@example.com", kustomer.RoleAgent), kustomer.AuditQuery{})
	wantErr(t, "AuditLog by an agent", err, kustomer.ErrForbidden)

	type row struct{ actor, area, target, action, changes string }
	var got []row
	for _, e := range log {
		var changes []string
		for _, c := range e.Changes {
			changes = append(changes, c.Field+":"+c.From+">"+c.To)
		}
		got = append(got, row{e.ActorName, string(e.Area), e.TargetName, e.Action, strings.Join(changes, " ")})
		for _, secret := range []string{"a brand new password", "$2a$", w.Secret, rotated.Secret} {
			if strings.Contains(fmt.Sprint(e), secret) {
				t.Errorf("audit entry %+v holds a secret (%.8s…)", e, secret)
			}
		}
	}
	want := []row{
		{"Root", "webhooks", "hooks.example.com", kustomer.AuditDeleted, "url:" + url + ">"},
		{"Root", "webhooks", "hooks.example.com", kustomer.AuditSecretRotated, "secret:>"},
		{"Root", "webhooks", "hooks.example.com", kustomer.AuditCreated, "url:>" + url + " events:>message.created private:>no enabled:>yes"},
		{"Root", "agents", "Grace", kustomer.AuditSignedOut, ""},
		{"Root", "agents", "Grace", kustomer.AuditUpdated, "status:active>disabled"},
		{"Root", "agents", "Grace", kustomer.AuditUpdated, "role:agent>admin skills:tech>tech, billing password:>"},
		{"handoff", "agents", "Grace", kustomer.AuditCreated, "email:>grace@example.com role:>agent skills:>tech capacity:>5"},
		{"handoff", "agents", "Root", kustomer.AuditCreated, "email:>root@example.com role:>admin capacity:>5"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit log:\n got %q\nwant %q", got, want)
	}
}

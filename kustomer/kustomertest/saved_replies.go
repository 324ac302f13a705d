package kustomertest

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/handoff/handoff/kustomer"
)

// newSavedReply returns a reply as the Engine would hand it to the store.
func newSavedReply(owner, title, body string) kustomer.SavedReply {
	return kustomer.SavedReply{ID: kustomer.NewID(), OwnerID: owner, Title: title, Body: body, CreatedBy: "a1", CreatedAt: at(0), UpdatedAt: at(0)}
}

func replyTitles(rs []kustomer.SavedReply) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Title
	}
	return out
}

// testSavedReplies checks that saved replies are stored, listed (the
// team's and one agent's own, by title), updated and deleted as given;
// that titles are unique within a scope whatever their case; that a scope
// holds at most its limit, even when created at once; and that each change
// records its audit entry.
func testSavedReplies(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	list := func(agentID string) []string {
		t.Helper()
		rs, err := s.SavedReplies(ctx, agentID)
		must(t, "SavedReplies", err)
		return replyTitles(rs)
	}
	if got := list("ada"); len(got) != 0 {
		t.Fatalf("SavedReplies of a new store = %q", got)
	}
	refund := newSavedReply("", "Refund policy", "Hi {{customer.firstName|there}}, refunds take 5 days.")
	must(t, "CreateSavedReply shared", s.CreateSavedReply(ctx, refund, 10, auditEntry(1, kustomer.AuditSavedReplies, refund.ID, kustomer.AuditCreated)))
	must(t, "CreateSavedReply shared", s.CreateSavedReply(ctx, newSavedReply("", "greeting", "Hello!"), 10))
	must(t, "CreateSavedReply personal", s.CreateSavedReply(ctx, newSavedReply("ada", "Ada's sign-off", "Cheers, Ada"), 10))
	must(t, "CreateSavedReply personal", s.CreateSavedReply(ctx, newSavedReply("grace", "Grace's sign-off", "Best, Grace"), 10))
	// The same title in another scope is another reply.
	must(t, "CreateSavedReply personal, a shared title", s.CreateSavedReply(ctx, newSavedReply("ada", "Greeting", "Hi, Ada here"), 10))

	if got, want := list("ada"), []string{"Ada's sign-off", "greeting", "Greeting", "Refund policy"}; !slices.Equal(got[:1], want[:1]) || len(got) != 4 || got[3] != "Refund policy" {
		t.Errorf("Ada's replies = %q, want %q (the two greetings in either order)", got, want)
	}
	if got := list("grace"); !slices.Equal(got, []string{"Grace's sign-off", "greeting", "Refund policy"}) {
		t.Errorf("Grace's replies = %q", got)
	}

	got, err := s.SavedReply(ctx, refund.ID)
	must(t, "SavedReply", err)
	if got.Title != refund.Title || got.Body != refund.Body || got.OwnerID != "" || got.CreatedBy != "a1" || !got.CreatedAt.Equal(at(0)) || !got.UpdatedAt.Equal(at(0)) {
		t.Errorf("SavedReply = %+v, want %+v", got, refund)
	}
	_, err = s.SavedReply(ctx, kustomer.NewID())
	wantErr(t, "SavedReply of an unknown id", err, kustomer.ErrNotFound)

	var cerr *kustomer.ConflictError
	err = s.CreateSavedReply(ctx, newSavedReply("", "REFUND POLICY", "again"), 10, auditEntry(2, kustomer.AuditSavedReplies, "x", kustomer.AuditCreated))
	if !errors.As(err, &cerr) || cerr.Code != "title_taken" {
		t.Errorf("CreateSavedReply with a taken title = %v, want the conflict title_taken", err)
	}

	refund.Title, refund.Body, refund.UpdatedAt = "Refunds", "Refunds take 5 working days.", at(3)
	must(t, "UpdateSavedReply", s.UpdateSavedReply(ctx, refund, auditEntry(3, kustomer.AuditSavedReplies, refund.ID, kustomer.AuditUpdated)))
	got, err = s.SavedReply(ctx, refund.ID)
	must(t, "SavedReply", err)
	if got.Title != "Refunds" || got.Body != refund.Body || !got.UpdatedAt.Equal(at(3)) || !got.CreatedAt.Equal(at(0)) {
		t.Errorf("updated reply = %+v", got)
	}
	taken := refund
	taken.Title = "GREETING"
	if err := s.UpdateSavedReply(ctx, taken); !errors.As(err, &cerr) || cerr.Code != "title_taken" {
		t.Errorf("UpdateSavedReply to a taken title = %v, want the conflict title_taken", err)
	}
	wantErr(t, "UpdateSavedReply of an unknown id", s.UpdateSavedReply(ctx, newSavedReply("", "x", "y")), kustomer.ErrNotFound)

	must(t, "DeleteSavedReply", s.DeleteSavedReply(ctx, refund.ID, auditEntry(4, kustomer.AuditSavedReplies, refund.ID, kustomer.AuditDeleted)))
	wantErr(t, "DeleteSavedReply again", s.DeleteSavedReply(ctx, refund.ID, auditEntry(5, kustomer.AuditSavedReplies, refund.ID, kustomer.AuditDeleted)), kustomer.ErrNotFound)
	if got := list("grace"); !slices.Equal(got, []string{"Grace's sign-off", "greeting"}) {
		t.Errorf("Grace's replies after the delete = %q", got)
	}
	log, err := s.AuditLog(ctx, kustomer.AuditQuery{Area: kustomer.AuditSavedReplies, Limit: 10})
	must(t, "AuditLog", err)
	if got := strings.Join(auditActionsOf(log), " "); got != "deleted updated created" {
		t.Errorf("audit of saved replies = %q, want deleted updated created (refused changes recording nothing)", got)
	}

	// The limit holds for creations at once: Lin may keep 3.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateSavedReply(ctx, newSavedReply("lin", "reply "+string(rune('a'+i)), "text"), 3)
		}()
	}
	wg.Wait()
	stored, refused := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			stored++
		case errors.As(err, &cerr) && cerr.Code == "too_many_replies":
			refused++
		default:
			t.Errorf("CreateSavedReply at once: %v", err)
		}
	}
	if n := len(list("lin")) - len(list("nobody")); stored != 3 || refused != 5 || n != 3 {
		t.Errorf("8 creations at once with a limit of 3: %d stored, %d refused, %d listed; want 3, 5, 3", stored, refused, n)
	}
}

func auditActionsOf(entries []kustomer.AuditEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Action
	}
	return out
}

// testEngineSavedReplies checks who may do what with saved replies (admins
// the team's, each agent their own; another's personal reply is not
// there), what a reply's title and body must be, and what the audit log
// keeps.
func testEngineSavedReplies(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	root := f.newAgent(t, "Root", "root@example.com", kustomer.RoleAdmin)
	grace := f.newAgent(t, "Grace", "grace@example.com", kustomer.RoleAgent)
	linus := f.newAgent(t, "Linus", "linus@example.com", kustomer.RoleAgent)

	shared, err := f.engine.CreateSavedReply(ctx, root, kustomer.SavedReplyInput{Title: "  Refunds ", Body: "Hi {{customer.firstName|there}},\r\nrefunds take 5 days.", Shared: true})
	must(t, "CreateSavedReply shared by an admin", err)
	if shared.Title != "Refunds" || shared.Body != "Hi {{customer.firstName|there}},\nrefunds take 5 days." || !shared.Shared() || shared.CreatedBy != root.ID {
		t.Errorf("shared reply = %+v", shared)
	}
	_, err = f.engine.CreateSavedReply(ctx, grace, kustomer.SavedReplyInput{Title: "Mine", Body: "x", Shared: true})
	wantErr(t, "CreateSavedReply shared by an agent", err, kustomer.ErrForbidden)
	mine, err := f.engine.CreateSavedReply(ctx, grace, kustomer.SavedReplyInput{Title: "Sign-off", Body: "Best, {{agent.firstName}}"})
	must(t, "CreateSavedReply personal", err)
	if mine.OwnerID != grace.ID {
		t.Errorf("personal reply's owner = %q, want Grace", mine.OwnerID)
	}

	for _, tt := range []struct {
		name  string
		in    kustomer.SavedReplyInput
		field string
	}{
		{"no title", kustomer.SavedReplyInput{Title: " ", Body: "x"}, "title"},
		{"a long title", kustomer.SavedReplyInput{Title: strings.Repeat("é", kustomer.MaxSavedReplyTitleLen+1), Body: "x"}, "title"},
		{"no body", kustomer.SavedReplyInput{Title: "t", Body: "\n "}, "body"},
		{"a long body", kustomer.SavedReplyInput{Title: "t", Body: strings.Repeat("x", kustomer.MaxBodyLen+1)}, "body"},
		{"an unknown placeholder", kustomer.SavedReplyInput{Title: "t", Body: "Hi {{customer.shoeSize}}"}, "body"},
		{"an unclosed placeholder", kustomer.SavedReplyInput{Title: "t", Body: "Hi {{customer.name"}, "body"},
		{"a taken title", kustomer.SavedReplyInput{Title: "SIGN-OFF", Body: "x"}, "title"},
	} {
		_, err := f.engine.CreateSavedReply(ctx, grace, tt.in)
		wantValidation(t, "CreateSavedReply with "+tt.name, err, tt.field)
	}

	// Another agent's personal reply is not there for Linus, or even for an admin.
	for _, who := range []kustomer.Agent{linus, root} {
		_, err = f.engine.SavedReply(ctx, who, mine.ID)
		wantErr(t, who.Name+" reads Grace's reply", err, kustomer.ErrNotFound)
		_, err = f.engine.UpdateSavedReply(ctx, who, mine.ID, kustomer.SavedReplyInput{Title: "x", Body: "y"})
		wantErr(t, who.Name+" updates Grace's reply", err, kustomer.ErrNotFound)
		wantErr(t, who.Name+" deletes Grace's reply", f.engine.DeleteSavedReply(ctx, who, mine.ID), kustomer.ErrNotFound)
	}
	_, err = f.engine.UpdateSavedReply(ctx, grace, shared.ID, kustomer.SavedReplyInput{Title: "x", Body: "y"})
	wantErr(t, "an agent updates a shared reply", err, kustomer.ErrForbidden)
	wantErr(t, "an agent deletes a shared reply", f.engine.DeleteSavedReply(ctx, grace, shared.ID), kustomer.ErrForbidden)

	list, err := f.engine.SavedReplies(ctx, grace)
	must(t, "SavedReplies", err)
	if got := replyTitles(list); !slices.Equal(got, []string{"Refunds", "Sign-off"}) {
		t.Errorf("Grace's replies = %q", got)
	}
	list, err = f.engine.SavedReplies(ctx, linus)
	must(t, "SavedReplies", err)
	if got := replyTitles(list); !slices.Equal(got, []string{"Refunds"}) {
		t.Errorf("Linus's replies = %q", got)
	}

	_, err = f.engine.UpdateSavedReply(ctx, root, shared.ID, kustomer.SavedReplyInput{Title: "Refunds", Body: "Refunds take 5 working days."})
	must(t, "UpdateSavedReply by an admin", err)
	_, err = f.engine.UpdateSavedReply(ctx, root, shared.ID, kustomer.SavedReplyInput{Title: "Refunds", Body: "Refunds take 5 working days."})
	must(t, "UpdateSavedReply changing nothing", err)
	must(t, "DeleteSavedReply by its owner", f.engine.DeleteSavedReply(ctx, grace, mine.ID))

	log, err := f.engine.AuditLog(ctx, root, kustomer.AuditQuery{Area: kustomer.AuditSavedReplies})
	must(t, "AuditLog", err)
	var got []string
	for _, e := range log {
		var fields []string
		for _, c := range e.Changes {
			fields = append(fields, c.Field)
		}
		got = append(got, e.ActorName+" "+e.Action+" "+e.TargetName+" ("+strings.Join(fields, ",")+")")
	}
	want := []string{"Grace deleted Sign-off (scope)", "Root updated Refunds (body)", "Grace created Sign-off (scope,body)", "Root created Refunds (scope,body)"}
	if !slices.Equal(got, want) {
		t.Errorf("audit log = %q, want %q (nothing for the change that changed nothing)", got, want)
	}
}

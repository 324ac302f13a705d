package kustomertest

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

func newWebhook(url string, events ...string) kustomer.Webhook {
	return kustomer.Webhook{
		ID: kustomer.NewID(), URL: url, Events: events, Secret: kustomer.NewWebhookSecret(), Enabled: true,
		CreatedBy: "agent-1", CreatedAt: at(0), UpdatedAt: at(0),
	}
}

// testWebhooks checks that endpoints are stored, listed, updated and
// deleted as given, and that enabling one clears its failures.
func testWebhooks(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	a := newWebhook("https://a.example.com/hook", kustomer.WebhookMessageCreated)
	a.Description, a.Private = "CRM", true
	b := newWebhook("https://b.example.com/hook", kustomer.WebhookConversationCreated, kustomer.EventTTRChange)
	b.CreatedAt = at(1)
	must(t, "CreateWebhook", s.CreateWebhook(ctx, a))
	must(t, "CreateWebhook", s.CreateWebhook(ctx, b))
	got, err := s.Webhook(ctx, a.ID)
	must(t, "Webhook", err)
	if got.URL != a.URL || got.Description != "CRM" || !got.Private || got.Secret != a.Secret || !got.Enabled ||
		!slices.Equal(got.Events, a.Events) || got.CreatedBy != "agent-1" || !got.CreatedAt.Equal(at(0)) || got.Failures != 0 {
		t.Fatalf("Webhook = %+v, want %+v", got, a)
	}
	list, err := s.Webhooks(ctx)
	must(t, "Webhooks", err)
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID || !slices.Equal(list[1].Events, b.Events) {
		t.Fatalf("Webhooks = %+v, want a then b", list)
	}
	if _, err := s.Webhook(ctx, kustomer.NewID()); !errors.Is(err, kustomer.ErrNotFound) {
		t.Fatalf("Webhook(unknown) = %v, want ErrNotFound", err)
	}

	// A failure, then disabling by hand keeps the count; enabling clears it.
	_, _, err = s.RecordWebhookAttempt(ctx, kustomer.WebhookAttempt{WebhookID: b.ID, DeliveryID: "d1", EventID: "evt_1", EventType: "conversation.created",
		Attempt: 1, Status: 500, Error: "Internal Server Error", At: at(2)}, kustomer.WebhookFailurePolicy{})
	must(t, "RecordWebhookAttempt", err)
	b.Enabled, b.DisabledReason, b.URL, b.Events, b.UpdatedAt = false, "disabled by Grace", "https://b2.example.com/", []string{kustomer.WebhookMessageCreated}, at(3)
	must(t, "UpdateWebhook", s.UpdateWebhook(ctx, b))
	got, err = s.Webhook(ctx, b.ID)
	must(t, "Webhook", err)
	if got.Enabled || got.DisabledReason != "disabled by Grace" || got.DisabledAt == nil || !got.DisabledAt.Equal(at(3)) ||
		got.URL != "https://b2.example.com/" || got.Failures != 1 || got.FailingSince == nil || !got.UpdatedAt.Equal(at(3)) {
		t.Fatalf("after disabling: %+v", got)
	}
	b.Enabled, b.DisabledReason, b.UpdatedAt = true, "", at(4)
	must(t, "UpdateWebhook", s.UpdateWebhook(ctx, b))
	got, err = s.Webhook(ctx, b.ID)
	must(t, "Webhook", err)
	if !got.Enabled || got.DisabledReason != "" || got.DisabledAt != nil || got.Failures != 0 || got.FailingSince != nil {
		t.Fatalf("after enabling: %+v", got)
	}
	attempts, err := s.WebhookAttempts(ctx, b.ID, 10)
	must(t, "WebhookAttempts", err)
	if len(attempts) != 1 {
		t.Fatalf("attempts of b: %+v", attempts)
	}

	must(t, "DeleteWebhook", s.DeleteWebhook(ctx, b.ID))
	if _, err := s.Webhook(ctx, b.ID); !errors.Is(err, kustomer.ErrNotFound) {
		t.Fatalf("Webhook after delete = %v, want ErrNotFound", err)
	}
	if err := s.DeleteWebhook(ctx, b.ID); !errors.Is(err, kustomer.ErrNotFound) {
		t.Fatalf("DeleteWebhook twice = %v, want ErrNotFound", err)
	}
	if err := s.UpdateWebhook(ctx, b); !errors.Is(err, kustomer.ErrNotFound) {
		t.Fatalf("UpdateWebhook after delete = %v, want ErrNotFound", err)
	}
	attempts, err = s.WebhookAttempts(ctx, b.ID, 10)
	must(t, "WebhookAttempts", err)
	if len(attempts) != 0 {
		t.Fatalf("a deleted endpoint's log kept %d attempts", len(attempts))
	}
}

// testWebhookAttempts checks the delivery log and the failure policy:
// failures in a row disable an endpoint only once both the count and the
// window are reached, a success starts over, and a 410 disables at once.
func testWebhookAttempts(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	w := newWebhook("https://a.example.com/hook", kustomer.WebhookMessageCreated)
	must(t, "CreateWebhook", s.CreateWebhook(ctx, w))
	policy := kustomer.WebhookFailurePolicy{Failures: 3, Window: time.Hour}
	record := func(n, status int, when time.Time, p kustomer.WebhookFailurePolicy) (kustomer.Webhook, bool) {
		t.Helper()
		got, disabled, err := s.RecordWebhookAttempt(ctx, kustomer.WebhookAttempt{WebhookID: w.ID, DeliveryID: "d", EventID: "evt_x",
			EventType: kustomer.WebhookMessageCreated, ConversationID: "c", Attempt: n, Status: status, DurationMS: 12, At: when}, p)
		must(t, "RecordWebhookAttempt", err)
		return got, disabled
	}
	got, disabled := record(1, 503, at(10), policy)
	if disabled || got.Failures != 1 || got.FailingSince == nil || !got.FailingSince.Equal(at(10)) || !got.Enabled {
		t.Fatalf("after one failure: %+v disabled=%v", got, disabled)
	}
	record(2, 0, at(20), policy)
	// Three failures, but within the window: still enabled.
	if got, disabled = record(3, 500, at(30), policy); disabled || !got.Enabled || got.Failures != 3 {
		t.Fatalf("three failures in 20 s: %+v disabled=%v", got, disabled)
	}
	// A success starts over.
	if got, _ = record(4, 204, at(40), policy); got.Failures != 0 || got.FailingSince != nil || got.LastSuccessAt == nil || !got.LastSuccessAt.Equal(at(40)) {
		t.Fatalf("after a success: %+v", got)
	}
	record(5, 500, at(100), policy)
	record(6, 500, at(1000), policy)
	got, disabled = record(7, 502, at(100+3600), policy)
	if !disabled || got.Enabled || got.DisabledAt == nil || !got.DisabledAt.Equal(at(3700)) || got.DisabledReason == "" {
		t.Fatalf("three failures over an hour: %+v disabled=%v", got, disabled)
	}
	// Already disabled: not disabled again.
	if _, disabled = record(8, 500, at(3800), policy); disabled {
		t.Fatal("a disabled endpoint was disabled again")
	}
	log, err := s.WebhookAttempts(ctx, w.ID, 3)
	must(t, "WebhookAttempts", err)
	if len(log) != 3 || log[0].Attempt != 8 || log[1].Attempt != 7 || log[1].Status != 502 || log[1].DurationMS != 12 ||
		log[1].EventID != "evt_x" || log[1].ConversationID != "c" || !log[1].At.Equal(at(3700)) {
		t.Fatalf("WebhookAttempts = %+v, want attempts 8, 7, 6", log)
	}

	g := newWebhook("https://gone.example.com/hook", kustomer.WebhookMessageCreated)
	must(t, "CreateWebhook", s.CreateWebhook(ctx, g))
	got, disabled, err = s.RecordWebhookAttempt(ctx, kustomer.WebhookAttempt{WebhookID: g.ID, DeliveryID: "d", EventID: "evt_y",
		EventType: kustomer.WebhookMessageCreated, Attempt: 1, Status: 410, At: at(5)}, kustomer.WebhookFailurePolicy{Failures: 100, Window: time.Hour, Gone: true})
	must(t, "RecordWebhookAttempt", err)
	if !disabled || got.Enabled {
		t.Fatalf("410 Gone: %+v disabled=%v", got, disabled)
	}
	if _, _, err := s.RecordWebhookAttempt(ctx, kustomer.WebhookAttempt{WebhookID: kustomer.NewID(), At: at(5)}, policy); !errors.Is(err, kustomer.ErrNotFound) {
		t.Fatalf("attempt of an unknown endpoint: %v, want ErrNotFound", err)
	}

	n, err := s.PruneWebhookAttempts(ctx, at(1000), 100)
	must(t, "PruneWebhookAttempts", err)
	if n != 6 { // 10, 20, 30, 40, 100 of w and 5 of g
		t.Fatalf("PruneWebhookAttempts removed %d, want 6", n)
	}
}

// testOutboxSubscribed checks that a Subscribed row is added only while an
// endpoint is enabled, in the transaction of its change.
func testOutboxSubscribed(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	hook := func(key string) kustomer.OutboxItem {
		return kustomer.OutboxItem{Kind: kustomer.OutboxWebhookEvent, Key: key, ConversationID: c.ID, Ordering: "event:" + c.ID,
			Subscribed: true, Payload: json.RawMessage(`{}`), DueAt: at(1), CreatedAt: at(1)}
	}
	nm := newMessage(c.ID, kustomer.DirectionIn, "one", at(1))
	nm.Outbox = []kustomer.OutboxItem{hook("none")}
	appendMsg(t, s, nm)
	w := newWebhook("https://a.example.com/hook", kustomer.WebhookMessageCreated)
	w.Enabled = false
	must(t, "CreateWebhook", s.CreateWebhook(ctx, w))
	nm = newMessage(c.ID, kustomer.DirectionIn, "two", at(2))
	nm.Outbox = []kustomer.OutboxItem{hook("disabled")}
	appendMsg(t, s, nm)
	w.Enabled = true
	must(t, "UpdateWebhook", s.UpdateWebhook(ctx, w))
	nm = newMessage(c.ID, kustomer.DirectionIn, "three", at(3))
	nm.Outbox = []kustomer.OutboxItem{hook("enabled")}
	appendMsg(t, s, nm)
	_, err := s.UpdateConversationAttributes(ctx, c.ID, kustomer.Attributes{"topicStr": "x"}, at(4), hook("attributes"))
	must(t, "UpdateConversationAttributes", err)
	items, err := s.ClaimOutbox(ctx, kustomer.OutboxWebhookEvent, at(10), time.Minute, 10)
	must(t, "ClaimOutbox", err)
	if got := keys(items); !slices.Equal(got, []string{"enabled"}) {
		t.Fatalf("claimed %v, want [enabled] (the next waits for it)", got)
	}
	must(t, "CompleteOutbox", s.CompleteOutbox(ctx, items[0], at(10)))
	items, err = s.ClaimOutbox(ctx, kustomer.OutboxWebhookEvent, at(10), time.Minute, 10)
	must(t, "ClaimOutbox", err)
	if got := keys(items); !slices.Equal(got, []string{"attributes"}) {
		t.Fatalf("claimed %v, want [attributes]", got)
	}
}

// testOutboxOrdering checks that rows sharing an Ordering are claimed one
// at a time in the order they were enqueued: a retried row holds back the
// next, a parked one does not, and other orderings are not held back.
func testOutboxOrdering(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c1, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "one"))
	c2, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "two"))
	item := func(key, conv string, due time.Time) kustomer.OutboxItem {
		return kustomer.OutboxItem{Kind: kustomer.OutboxWebhookDelivery, Key: key, ConversationID: conv,
			Ordering: "w1:" + conv, DueAt: due, CreatedAt: due}
	}
	// Enqueued together, a1 first; a2 is due earlier but must wait.
	_, err := s.Enqueue(ctx, item("a1", c1.ID, at(5)), item("a2", c1.ID, at(1)), item("b1", c2.ID, at(1)))
	must(t, "Enqueue", err)
	_, err = s.Enqueue(ctx, item("a3", c1.ID, at(1)))
	must(t, "Enqueue", err)
	claimKind := func(now time.Time) []kustomer.OutboxItem {
		t.Helper()
		items, err := s.ClaimOutbox(ctx, kustomer.OutboxWebhookDelivery, now, time.Minute, 10)
		must(t, "ClaimOutbox", err)
		return items
	}
	if got := keys(claimKind(at(2))); !slices.Equal(got, []string{"b1"}) {
		t.Fatalf("claimed %v at 2 s, want [b1] (a1 is not due and a2, a3 wait for it)", got)
	}
	got := claimKind(at(6))
	if !slices.Equal(keys(got), []string{"a1"}) {
		t.Fatalf("claimed %v at 6 s, want [a1]", keys(got))
	}
	a1 := got[0]
	if a1.Ordering != "w1:"+c1.ID || a1.Ord == 0 {
		t.Fatalf("a1 = %+v, want its ordering and a place", a1)
	}
	// Retried: a2 still waits.
	must(t, "RetryOutbox", s.RetryOutbox(ctx, a1, at(20), "503", at(6)))
	if got := keys(claimKind(at(7))); len(got) != 0 {
		t.Fatalf("claimed %v while a1 waits for its retry", got)
	}
	// Parked: a2 goes.
	got = claimKind(at(21))
	if !slices.Equal(keys(got), []string{"a1"}) {
		t.Fatalf("claimed %v at 21 s, want [a1] again", keys(got))
	}
	must(t, "ParkOutbox", s.ParkOutbox(ctx, got[0], "given up", at(21)))
	got = claimKind(at(22))
	if !slices.Equal(keys(got), []string{"a2"}) || got[0].Ord <= a1.Ord {
		t.Fatalf("claimed %v at 22 s, want [a2] after a1's place", got)
	}
	must(t, "CompleteOutbox", s.CompleteOutbox(ctx, got[0], at(22)))
	got = claimKind(at(23))
	if !slices.Equal(keys(got), []string{"a3"}) {
		t.Fatalf("claimed %v at 23 s, want [a3]", keys(got))
	}
	must(t, "CompleteOutbox", s.CompleteOutbox(ctx, got[0], at(23)))

	// OutboxItem reads a row back; RequeueOutbox makes a parked row
	// pending again, in its place, as if new.
	back, err := s.OutboxItem(ctx, a1.ID)
	must(t, "OutboxItem", err)
	if back.State != kustomer.OutboxParked || back.Key != "a1" || back.Ord != a1.Ord || back.LastError != "given up" {
		t.Fatalf("OutboxItem(a1) = %+v", back)
	}
	n, err := s.RequeueOutbox(ctx, []string{a1.ID, kustomer.NewID()}, at(30), at(30))
	must(t, "RequeueOutbox", err)
	if n != 1 {
		t.Fatalf("RequeueOutbox requeued %d, want 1", n)
	}
	if n, err := s.RequeueOutbox(ctx, []string{a1.ID}, at(30), at(30)); err != nil || n != 0 {
		t.Fatalf("RequeueOutbox of a pending row: %d %v, want 0", n, err)
	}
	got = claimKind(at(31))
	if !slices.Equal(keys(got), []string{"a1"}) || got[0].Ord != a1.Ord || got[0].Attempts != 1 || !got[0].CreatedAt.Equal(at(30)) || got[0].LastError != "" {
		t.Fatalf("requeued a1 claimed as %+v, want its place %d, a first attempt", got, a1.Ord)
	}
	must(t, "ParkOutbox", s.ParkOutbox(ctx, got[0], "given up again", at(31)))
	if _, err := s.OutboxItem(ctx, kustomer.NewID()); !errors.Is(err, kustomer.ErrNotFound) {
		t.Fatalf("OutboxItem(unknown) = %v, want ErrNotFound", err)
	}
	// The email page's list leaves webhook rows out.
	if emails, err := s.OutboxItems(ctx, kustomer.OutboxParked, "email.", 10); err != nil || len(emails) != 0 {
		t.Fatalf("parked emails: %v %v, want none", keys(emails), err)
	}
	// WebhookDeliveries lists an endpoint's rows by state.
	parked, err := s.WebhookDeliveries(ctx, "w1", kustomer.OutboxParked, 10)
	must(t, "WebhookDeliveries", err)
	if !slices.Equal(keys(parked), []string{"a1"}) {
		t.Fatalf("parked deliveries of w1: %v", keys(parked))
	}
	if other, err := s.WebhookDeliveries(ctx, "w2", kustomer.OutboxParked, 10); err != nil || len(other) != 0 {
		t.Fatalf("parked deliveries of w2: %v %v", keys(other), err)
	}
}

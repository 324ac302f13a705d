package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/handoff/handoff/kustomer"
)

// checkedEvents lists the event checkboxes ticked in the form.
func checkedEvents(form *goquery.Selection) []string {
	var got []string
	form.Find(`input[type="checkbox"][name="events"]`).Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("checked"); ok {
			got = append(got, s.AttrOr("value", ""))
		}
	})
	return got
}

// createWebhook registers an endpoint as admin a through the engine.
func (e *env) createWebhook(t *testing.T, a kustomer.Agent, rawURL string, events ...string) kustomer.Webhook {
	t.Helper()
	if len(events) == 0 {
		events = kustomer.WebhookEventTypes
	}
	w, err := e.engine.CreateWebhook(context.Background(), a.Actor(), kustomer.WebhookInput{URL: &rawURL, Events: &events})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestAdminWebhooksCreate: the form ticks every event; a refused URL is
// explained beside its field with what was typed kept; a registered
// endpoint's secret is shown once, with how to verify deliveries, and never
// on the list or the endpoint's page.
func TestAdminWebhooksCreate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin, _ := e.agentClient(t, "Root", kustomer.RoleAdmin)

	res := admin.get("/admin/webhooks")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/webhooks: %d", res.StatusCode)
	}
	doc := res.doc(t)
	if doc.Find(`[data-testid="nav-webhooks"][aria-current="page"]`).AttrOr("href", "") != "/admin/webhooks" {
		t.Errorf("the Webhooks link is not the current page of the navigation")
	}
	if doc.Find(`[data-testid="webhooks-empty"]`).Length() != 1 {
		t.Errorf("no empty state without endpoints")
	}
	form := doc.Find(`form[data-testid="webhook-form"]`)
	if form.AttrOr("action", "") != "/admin/webhooks" || form.AttrOr("method", "") != "post" {
		t.Fatalf("registration form: action %q method %q", form.AttrOr("action", ""), form.AttrOr("method", ""))
	}
	if got := checkedEvents(form); !slices.Equal(got, kustomer.WebhookEventTypes) {
		t.Errorf("events ticked at first = %q, want all of them", got)
	}
	if _, ok := form.Find(`[data-testid="webhook-field-private"]`).Attr("checked"); ok {
		t.Errorf("private notes ticked at first")
	}
	// Every admin page links to it.
	for _, path := range []string{"/admin/agents", "/admin/forms", "/admin/mail"} {
		if admin.get(path).doc(t).Find(`[data-testid="nav-webhooks"]`).AttrOr("href", "") != "/admin/webhooks" {
			t.Errorf("%s has no Webhooks link", path)
		}
	}

	// Plain http to another machine is refused, the input kept.
	bad := url.Values{"url": {"http://hooks.example.com/in"}, "description": {"CRM sync"},
		"events": {kustomer.WebhookConversationCreated, kustomer.WebhookMessageCreated}, "private": {"1"}}
	res = admin.postForm("/admin/webhooks", bad)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("http URL: %d, want 422", res.StatusCode)
	}
	doc = res.doc(t)
	form = doc.Find(`form[data-testid="webhook-form"]`)
	if msg := form.Find(`[data-testid="webhook-error-url"]`).Text(); msg != "Must use https." {
		t.Errorf("url error = %q", msg)
	}
	in := form.Find(`[data-testid="webhook-field-url"]`)
	if in.AttrOr("value", "") != "http://hooks.example.com/in" || in.AttrOr("aria-invalid", "") != "true" ||
		!strings.Contains(in.AttrOr("aria-describedby", ""), "webhook-error-url") {
		t.Errorf("url field after the error: value %q aria-invalid %q describedby %q", in.AttrOr("value", ""), in.AttrOr("aria-invalid", ""), in.AttrOr("aria-describedby", ""))
	}
	if v := form.Find(`[data-testid="webhook-field-description"]`).AttrOr("value", ""); v != "CRM sync" {
		t.Errorf("description not kept: %q", v)
	}
	if got := checkedEvents(form); !slices.Equal(got, bad["events"]) {
		t.Errorf("events kept = %q, want %q", got, bad["events"])
	}
	if _, ok := form.Find(`[data-testid="webhook-field-private"]`).Attr("checked"); !ok {
		t.Errorf("private notes not kept")
	}
	// No event ticked.
	res = admin.postForm("/admin/webhooks", url.Values{"url": {"https://hooks.example.com/in"}})
	if msg := res.doc(t).Find(`[data-testid="webhook-error-events"]`).Text(); res.StatusCode != http.StatusUnprocessableEntity || msg != "Must name at least one event." {
		t.Errorf("no events: %d %q", res.StatusCode, msg)
	}
	if hooks, _ := e.engine.Webhooks(ctx); len(hooks) != 0 {
		t.Fatalf("refused registrations stored %d endpoints", len(hooks))
	}

	// Registered: the secret, once.
	good := url.Values{"url": {"https://hooks.example.com/in?token=abc"}, "description": {"CRM sync"},
		"events": {kustomer.WebhookConversationCreated, kustomer.WebhookMessageCreated}, "private": {"1"}}
	res = revealed(t, admin, admin.postForm("/admin/webhooks", good))
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("secret page Cache-Control %q", cc)
	}
	doc = res.doc(t)
	field := doc.Find(`input[data-testid="webhook-secret"]`)
	secret := field.AttrOr("value", "")
	if !strings.HasPrefix(secret, "whsec_") || field.AttrOr("readonly", "-") == "-" {
		t.Fatalf("secret field: value %q readonly %v", secret, field.AttrOr("readonly", "-") != "-")
	}
	if once := doc.Find(`[data-testid="webhook-secret-once"]`).Text(); !strings.Contains(once, "will not be shown again") {
		t.Errorf("no warning that the secret is shown once: %q", once)
	}
	for _, want := range []string{"webhook-id", "webhook-timestamp", "webhook-signature", "Standard Webhooks"} {
		if !strings.Contains(doc.Find(`.webhook-verify`).Text(), want) {
			t.Errorf("the secret page does not explain %s", want)
		}
	}
	hooks, err := e.engine.Webhooks(ctx)
	if err != nil || len(hooks) != 1 {
		t.Fatalf("stored: %d %v", len(hooks), err)
	}
	w := hooks[0]
	if w.Secret != secret || w.URL != "https://hooks.example.com/in?token=abc" || w.Description != "CRM sync" || !w.Private ||
		!slices.Equal(w.Events, good["events"]) || !w.Enabled {
		t.Errorf("stored %+v", w)
	}
	if href := doc.Find(`[data-testid="webhook-secret-done"]`).AttrOr("href", ""); href != "/admin/webhooks/"+w.ID {
		t.Errorf("done link %q", href)
	}

	// Never again.
	res = admin.get("/admin/webhooks")
	if strings.Contains(string(res.Body), secret) || strings.Contains(string(res.Body), "whsec_") {
		t.Errorf("the list shows the secret")
	}
	row := res.doc(t).Find(`[data-testid="webhook-row"][data-webhook-id="` + w.ID + `"]`)
	if row.Length() != 1 {
		t.Fatalf("no row for the endpoint")
	}
	if got := row.Find(`[data-testid="webhook-url"]`); got.Text() != w.URL || got.AttrOr("href", "") != "/admin/webhooks/"+w.ID {
		t.Errorf("row link %q -> %q", got.Text(), got.AttrOr("href", ""))
	}
	for id, want := range map[string]string{
		"webhook-description": "CRM sync", "webhook-private": "Included", "webhook-state": "Enabled",
		"webhook-failures": "None", "webhook-last-success": "Never",
	} {
		if got := strings.TrimSpace(row.Find(`[data-testid="` + id + `"]`).Text()); got != want {
			t.Errorf("row %s = %q, want %q", id, got, want)
		}
	}
	if got := strings.Fields(row.Find(`[data-testid="webhook-events"]`).Text()); !slices.Equal(got, good["events"]) {
		t.Errorf("row events = %q", got)
	}
	res = admin.get("/admin/webhooks/" + w.ID)
	if res.StatusCode != http.StatusOK || strings.Contains(string(res.Body), secret) || strings.Contains(string(res.Body), "whsec_") {
		t.Errorf("endpoint page: %d, shows the secret: %v", res.StatusCode, strings.Contains(string(res.Body), secret))
	}
	form = res.doc(t).Find(`form[data-testid="webhook-form"]`)
	if form.AttrOr("action", "") != "/admin/webhooks/"+w.ID || form.Find(`[data-testid="webhook-field-url"]`).AttrOr("value", "") != w.URL ||
		!slices.Equal(checkedEvents(form), w.Events) {
		t.Errorf("edit form: action %q url %q events %q", form.AttrOr("action", ""), form.Find(`[data-testid="webhook-field-url"]`).AttrOr("value", ""), checkedEvents(form))
	}
	if got := admin.get("/admin/webhooks/0123456789abcdef01234567"); got.StatusCode != http.StatusNotFound {
		t.Errorf("unknown endpoint: %d", got.StatusCode)
	}
}

// TestAdminWebhookActions: editing (errors kept beside the fields),
// disabling and enabling, rotating the secret, the delivery log with its
// resend buttons, and deleting after confirming.
func TestAdminWebhookActions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin, root := e.agentClient(t, "Root", kustomer.RoleAdmin)
	w := e.createWebhook(t, root, "https://hooks.example.com/in")
	page := "/admin/webhooks/" + w.ID
	notice := func() string {
		t.Helper()
		return admin.get(page).doc(t).Find(`[data-testid="notice"]`).Text()
	}

	// Edit: refused, kept; then saved.
	res := admin.postForm(page, url.Values{"url": {"ftp://hooks.example.com"}, "description": {"Billing"}, "events": {kustomer.WebhookSatisfactionReceived}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad edit: %d", res.StatusCode)
	}
	form := res.doc(t).Find(`form[data-testid="webhook-form"]`)
	if form.Find(`[data-testid="webhook-error-url"]`).Text() != "Must be an https URL." ||
		form.Find(`[data-testid="webhook-field-url"]`).AttrOr("value", "") != "ftp://hooks.example.com" ||
		form.Find(`[data-testid="webhook-field-description"]`).AttrOr("value", "") != "Billing" ||
		!slices.Equal(checkedEvents(form), []string{kustomer.WebhookSatisfactionReceived}) {
		t.Errorf("bad edit page: error %q", form.Find(`[data-testid="webhook-error-url"]`).Text())
	}
	if got, _ := e.engine.Webhook(ctx, w.ID); got.URL != w.URL || len(got.Events) != len(kustomer.WebhookEventTypes) {
		t.Errorf("a refused edit changed the endpoint: %+v", got)
	}
	res = admin.postForm(page, url.Values{"url": {"https://hooks.example.com/v2"}, "description": {"Billing"}, "events": {kustomer.WebhookSatisfactionReceived}, "private": {"1"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != page {
		t.Fatalf("edit: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if n := notice(); !strings.HasPrefix(n, "Saved") {
		t.Errorf("notice after saving: %q", n)
	}
	if got, _ := e.engine.Webhook(ctx, w.ID); got.URL != "https://hooks.example.com/v2" || got.Description != "Billing" || !got.Private ||
		!slices.Equal(got.Events, []string{kustomer.WebhookSatisfactionReceived}) || got.Secret != w.Secret {
		t.Errorf("after the edit: %+v", got)
	}

	// Disable, then enable.
	if res := admin.postForm(page+"/toggle", nil); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != page {
		t.Fatalf("disable: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	doc := admin.get(page).doc(t)
	if got, _ := e.engine.Webhook(ctx, w.ID); got.Enabled || got.DisabledReason != "disabled by Root" {
		t.Errorf("after disabling: enabled %v reason %q", got.Enabled, got.DisabledReason)
	}
	if doc.Find(`[data-testid="webhook-state"]`).Text() != "Disabled" || !strings.Contains(doc.Find(`[data-testid="webhook-disabled-reason"]`).Text(), "Disabled by Root.") ||
		doc.Find(`[data-testid="webhook-toggle"]`).Text() != "Enable" || !strings.HasPrefix(doc.Find(`[data-testid="notice"]`).Text(), "Disabled") {
		t.Errorf("disabled page: state %q reason %q button %q", doc.Find(`[data-testid="webhook-state"]`).Text(),
			doc.Find(`[data-testid="webhook-disabled-reason"]`).Text(), doc.Find(`[data-testid="webhook-toggle"]`).Text())
	}
	if doc.Find(`[data-testid="webhook-alert"]`).Length() != 0 {
		t.Errorf("an endpoint an admin disabled raises the alert")
	}
	admin.postForm(page+"/toggle", nil)
	if got, _ := e.engine.Webhook(ctx, w.ID); !got.Enabled || got.DisabledReason != "" {
		t.Errorf("after enabling: enabled %v reason %q", got.Enabled, got.DisabledReason)
	}
	if n := notice(); !strings.HasPrefix(n, "Enabled") {
		t.Errorf("notice after enabling: %q", n)
	}

	// Rotate: a new secret, once.
	res = revealed(t, admin, admin.postForm(page+"/secret", nil))
	secret := res.doc(t).Find(`[data-testid="webhook-secret"]`).AttrOr("value", "")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(secret, "whsec_") || secret == w.Secret {
		t.Fatalf("rotate: %d, secret changed %v", res.StatusCode, secret != w.Secret)
	}
	if got, _ := e.engine.Webhook(ctx, w.ID); got.Secret != secret {
		t.Errorf("the shown secret is not the stored one")
	}
	if body := string(admin.get(page).Body); strings.Contains(body, secret) || strings.Contains(body, w.Secret) {
		t.Errorf("the endpoint page shows a secret")
	}

	// The delivery log: one delivery delivered, one given up, one being
	// retried, as the webhook dispatcher leaves them.
	done, parked, retrying := deliverTo(t, e, w)
	doc = admin.get(page).doc(t)
	rows := doc.Find(`[data-testid="attempt-row"]`)
	if rows.Length() != 3 {
		t.Fatalf("log rows = %d, want 3", rows.Length())
	}
	resendOf := map[string]string{}
	rows.Each(func(_ int, r *goquery.Selection) {
		resendOf[r.AttrOr("data-event-id", "")] = r.Find(`[data-testid="attempt-resend"]`).Parent().AttrOr("action", "")
	})
	if resendOf["evt_done"] != page+"/deliveries/"+done+"/resend" || resendOf["evt_parked"] != page+"/deliveries/"+parked+"/resend" || resendOf["evt_retrying"] != "" {
		t.Errorf("resend buttons: %v", resendOf)
	}
	okRow := doc.Find(`[data-testid="attempt-row"][data-event-id="evt_done"]`)
	if okRow.Find(`[data-testid="attempt-result"]`).Text() != "HTTP 200" || okRow.Find(`[data-testid="attempt-event"]`).Text() != kustomer.WebhookSatisfactionReceived ||
		okRow.Find(`[data-testid="attempt-duration"]`).Text() != "42 ms" || okRow.Find(`[data-testid="attempt-number"]`).Text() != "1" {
		t.Errorf("delivered row: %q", strings.Join(strings.Fields(okRow.Text()), " "))
	}
	if got := strings.Join(strings.Fields(doc.Find(`[data-testid="attempt-row"][data-event-id="evt_retrying"] [data-testid="attempt-result"]`).Text()), " "); got != "No answer connection refused" {
		t.Errorf("refused row result: %q", got)
	}
	if got := doc.Find(`[data-testid="webhook-resend-failed"]`).Text(); got != "Resend failed deliveries (1)" {
		t.Errorf("resend-failed button %q", got)
	}
	if got := doc.Find(`[data-testid="webhook-waiting"]`).Text(); !strings.HasPrefix(got, "1 delivery") {
		t.Errorf("waiting: %q", got)
	}
	// A delivered one again.
	if res := admin.postForm(resendOf["evt_done"], nil); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != page {
		t.Fatalf("resend: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if n := notice(); n != "The delivery will be sent again." {
		t.Errorf("notice after resending: %q", n)
	}
	// One still being tried: refused, said in the notice.
	if res := admin.postForm(page+"/deliveries/"+retrying+"/resend", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("resend a pending delivery: %d", res.StatusCode)
	}
	if n := notice(); n != "This delivery is still being tried." {
		t.Errorf("notice after resending a pending delivery: %q", n)
	}
	if res := admin.postForm(page+"/deliveries/0123456789abcdef01234567/resend", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("resend an unknown delivery: %d", res.StatusCode)
	}
	// Every given-up one again.
	if res := admin.postForm(page+"/resend-failed", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("resend failed: %d", res.StatusCode)
	}
	doc = admin.get(page).doc(t)
	if n := doc.Find(`[data-testid="notice"]`).Text(); n != "1 delivery will be sent again." {
		t.Errorf("notice after resending the failed: %q", n)
	}
	if got := doc.Find(`[data-testid="webhook-waiting"]`).Text(); !strings.HasPrefix(got, "3 deliveries") {
		t.Errorf("waiting after the resends: %q", got)
	}

	// Delete: only once confirmed.
	res = admin.postForm(page+"/delete", nil)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.doc(t).Find(`[data-testid="admin-error"]`).Text(), "confirm") {
		t.Errorf("delete without confirming: %d", res.StatusCode)
	}
	if _, err := e.engine.Webhook(ctx, w.ID); err != nil {
		t.Fatalf("deleted without confirming: %v", err)
	}
	res = admin.postForm(page+"/delete", url.Values{"confirm": {"yes"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/webhooks" {
		t.Fatalf("delete: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	doc = admin.get("/admin/webhooks").doc(t)
	if !strings.HasPrefix(doc.Find(`[data-testid="notice"]`).Text(), "Deleted hooks.example.com") || doc.Find(`[data-testid="webhook-row"]`).Length() != 0 {
		t.Errorf("after deleting: notice %q, %d rows", doc.Find(`[data-testid="notice"]`).Text(), doc.Find(`[data-testid="webhook-row"]`).Length())
	}
	if res := admin.get(page); res.StatusCode != http.StatusNotFound {
		t.Errorf("deleted endpoint's page: %d", res.StatusCode)
	}
}

// deliverTo leaves three deliveries to w as the dispatcher would: evt_done
// delivered, evt_parked given up, evt_retrying waiting for its retry. It
// returns their ids.
func deliverTo(t *testing.T, e *env, w kustomer.Webhook) (done, parked, retrying string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	var items []kustomer.OutboxItem
	for _, ev := range []string{"evt_done", "evt_parked", "evt_retrying"} {
		payload, _ := json.Marshal(kustomer.WebhookDelivery{WebhookID: w.ID, EventID: ev, EventType: kustomer.WebhookSatisfactionReceived, Body: json.RawMessage(`{}`)})
		items = append(items, kustomer.OutboxItem{Kind: kustomer.OutboxWebhookDelivery, Key: w.ID + "/" + ev,
			Ordering: kustomer.WebhookDeliveryOrdering(w.ID, ev), Payload: payload, DueAt: now})
	}
	if _, err := e.store.Enqueue(ctx, items...); err != nil {
		t.Fatal(err)
	}
	claimed, err := e.store.ClaimOutbox(ctx, kustomer.OutboxWebhookDelivery, now.Add(time.Second), time.Minute, 10)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claim: %d %v", len(claimed), err)
	}
	policy := kustomer.WebhookFailurePolicy{Failures: 100, Window: time.Hour}
	for i, it := range claimed {
		var d kustomer.WebhookDelivery
		if err := json.Unmarshal(it.Payload, &d); err != nil {
			t.Fatal(err)
		}
		a := kustomer.WebhookAttempt{WebhookID: w.ID, DeliveryID: it.ID, EventID: d.EventID, EventType: d.EventType, Attempt: it.Attempts,
			DurationMS: 42, At: now.Add(time.Duration(i) * time.Millisecond)}
		switch d.EventID {
		case "evt_done":
			a.Status, done = http.StatusOK, it.ID
			err = e.store.CompleteOutbox(ctx, it, now)
		case "evt_parked":
			a.Status, a.Error, parked = http.StatusInternalServerError, "Internal Server Error", it.ID
			err = e.store.ParkOutbox(ctx, it, "the endpoint answered 500", now)
		case "evt_retrying":
			a.Error, retrying = "connection refused", it.ID
			err = e.store.RetryOutbox(ctx, it, now.Add(time.Hour), "connection refused", now)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.store.RecordWebhookAttempt(ctx, a, policy); err != nil {
			t.Fatal(err)
		}
	}
	return done, parked, retrying
}

// TestAdminWebhooksAdminsOnly: agents who are not admins can neither see
// nor change endpoints.
func TestAdminWebhooksAdminsOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, root := e.agentClient(t, "Root", kustomer.RoleAdmin)
	w := e.createWebhook(t, root, "https://hooks.example.com/in")
	agent, _ := e.agentClient(t, "Grace", kustomer.RoleAgent)
	page := "/admin/webhooks/" + w.ID
	for _, path := range []string{"/admin/webhooks", page} {
		if res := agent.get(path); res.StatusCode != http.StatusForbidden || strings.Contains(string(res.Body), w.URL) {
			t.Errorf("agent GET %s: %d", path, res.StatusCode)
		}
	}
	for _, path := range []string{"/admin/webhooks", page, page + "/toggle", page + "/secret", page + "/delete", page + "/resend-failed"} {
		if res := agent.postForm(path, url.Values{"url": {"https://evil.example.com"}, "events": {kustomer.WebhookMessageCreated}, "confirm": {"yes"}}); res.StatusCode != http.StatusForbidden ||
			strings.Contains(string(res.Body), "whsec_") {
			t.Errorf("agent POST %s: %d", path, res.StatusCode)
		}
	}
	if hooks, _ := e.engine.Webhooks(ctx); len(hooks) != 1 || hooks[0].URL != w.URL || hooks[0].Secret != w.Secret || !hooks[0].Enabled {
		t.Errorf("an agent changed the endpoints: %+v", hooks)
	}
	// Signed out: to the sign-in page.
	if res := e.client().get("/admin/webhooks"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/agent/sign-in") {
		t.Errorf("signed out: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestAdminWebhookAlert: once handoff disabled an endpoint whose deliveries
// kept failing, every admin page says so at the top, linking to it, until
// it is enabled again. Endpoints an admin disabled raise no alert, and the
// agents' pages have none.
func TestAdminWebhookAlert(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin, root := e.agentClient(t, "Root", kustomer.RoleAdmin)
	w := e.createWebhook(t, root, "https://hooks.example.com/in")
	quiet := e.createWebhook(t, root, "https://quiet.example.com/in")
	off := false
	if _, err := e.engine.UpdateWebhook(ctx, root.Actor(), quiet.ID, kustomer.WebhookInput{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	adminPages := []string{"/admin/agents", "/admin/forms", "/admin/mail", "/admin/webhooks", "/admin/webhooks/" + w.ID, "/admin/agents/" + root.ID}
	for _, path := range adminPages {
		if n := admin.get(path).doc(t).Find(`[data-testid="webhook-alert"]`).Length(); n != 0 {
			t.Errorf("%s: %d alerts before any endpoint failed", path, n)
		}
	}

	// The endpoint answers 410 Gone: handoff disables it.
	at := time.Now().UTC().Truncate(time.Millisecond)
	got, disabled, err := e.store.RecordWebhookAttempt(ctx, kustomer.WebhookAttempt{WebhookID: w.ID, DeliveryID: "d1", EventID: "evt_1",
		EventType: kustomer.WebhookMessageCreated, Attempt: 1, Status: http.StatusGone, Error: "Gone", At: at},
		kustomer.WebhookFailurePolicy{Failures: 10, Window: time.Hour, Gone: true})
	if err != nil || !disabled || got.DisabledAt == nil {
		t.Fatalf("record: disabled %v %+v %v", disabled, got, err)
	}
	want := "Webhook endpoint hooks.example.com was disabled on " + got.DisabledAt.Format("2 Jan 2006 15:04 UTC") + ": " + got.DisabledReason
	for _, path := range adminPages {
		doc := admin.get(path).doc(t)
		alerts := doc.Find(`[data-testid="webhook-alert"]`)
		text := strings.Join(strings.Fields(alerts.Text()), " ")
		if alerts.Length() != 1 || text != want+"." {
			t.Errorf("%s: %d alerts %q, want one %q", path, alerts.Length(), text, want)
			continue
		}
		if href := alerts.Find(`a[data-testid="webhook-alert-link"]`).AttrOr("href", ""); href != "/admin/webhooks/"+w.ID {
			t.Errorf("%s: alert links to %q", path, href)
		}
		if !alerts.Parent().Is("main") {
			t.Errorf("%s: the alert is not at the top of the page's content", path)
		}
	}
	if help := admin.get("/admin/webhooks/" + w.ID).doc(t).Find(`[data-testid="webhook-disabled-help"]`).Text(); !strings.Contains(help, "enable it") {
		t.Errorf("the endpoint's page does not say what to do: %q", help)
	}
	if n := admin.get("/admin/webhooks/" + quiet.ID).doc(t).Find(`[data-testid="webhook-disabled-help"]`).Length(); n != 0 {
		t.Errorf("an endpoint an admin disabled says handoff did")
	}
	// Not on the agents' pages, nor for agents.
	if n := admin.get("/agent").doc(t).Find(`[data-testid="webhook-alert"]`).Length(); n != 0 {
		t.Errorf("the inbox shows %d alerts", n)
	}
	agent, _ := e.agentClient(t, "Grace", kustomer.RoleAgent)
	if n := agent.get("/agent").doc(t).Find(`[data-testid="webhook-alert"]`).Length(); n != 0 {
		t.Errorf("an agent's inbox shows %d alerts", n)
	}

	// Enabled again: gone.
	admin.postForm("/admin/webhooks/"+w.ID+"/toggle", nil)
	if n := admin.get("/admin/agents").doc(t).Find(`[data-testid="webhook-alert"]`).Length(); n != 0 {
		t.Errorf("%d alerts after enabling the endpoint", n)
	}
}

// revealed follows the redirect of a registration or rotation to the page
// that shows the secret once, and checks that a second look shows it no
// more: the endpoint's page says it was shown.
func revealed(t *testing.T, admin *client, res response) response {
	t.Helper()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "/secret") {
		t.Fatalf("register or rotate: %d to %q\n%s", res.StatusCode, loc, res.Body)
	}
	shown := admin.get(loc)
	if shown.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", loc, shown.StatusCode)
	}
	again := admin.get(loc)
	if again.StatusCode != http.StatusSeeOther || strings.Contains(string(again.Body), "whsec_") {
		t.Fatalf("GET %s again: %d, want a redirect without the secret", loc, again.StatusCode)
	}
	if notice := admin.get(again.Header.Get("Location")).Body; !strings.Contains(string(notice), "shown only once") {
		t.Errorf("the endpoint page does not say the secret was shown once")
	}
	return shown
}

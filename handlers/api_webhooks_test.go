package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer"
)

// TestOrgWebhooks drives the organization API's endpoint registration:
// the secret is answered once, input is checked field by field, and the
// endpoint can be changed, re-keyed and deleted.
func TestOrgWebhooks(t *testing.T) {
	e := newEnv(t)
	all := kustomer.WebhookEventTypes

	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		want   string
	}{
		{"plain http", map[string]any{"url": "http://hooks.example.com/x", "events": all}, 422, "must use https"},
		{"this machine", map[string]any{"url": "https://127.0.0.1/x", "events": all}, 422, "must not point at this machine"},
		{"credentials", map[string]any{"url": "https://user:pw@hooks.example.com/x", "events": all}, 422, "user name or password"},
		{"not a URL", map[string]any{"url": "hooks", "events": all}, 422, "full URL"},
		{"no events", map[string]any{"url": "https://hooks.example.com/x", "events": []string{}}, 422, "at least one event"},
		{"unknown event", map[string]any{"url": "https://hooks.example.com/x", "events": []string{"message.deleted"}}, 422, `\"message.deleted\" is not an event`},
		{"unknown field", map[string]any{"url": "https://hooks.example.com/x", "events": all, "secret": "mine"}, 400, "unknown_field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.orgInvalid(http.MethodPost, "/webhooks", tc.body)
			if res.StatusCode != tc.status || !strings.Contains(string(res.Body), tc.want) {
				t.Fatalf("POST %v: %d %s; want %d naming %q", tc.body, res.StatusCode, res.Body, tc.status, tc.want)
			}
		})
	}
	if res := e.client().sendJSON(http.MethodGet, "/api/v1/org/webhooks", nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without the token: %d", res.StatusCode)
	}

	res := e.org(http.MethodPost, "/webhooks", map[string]any{
		"url": " https://hooks.example.com/handoff?token=abc ", "events": []string{"message.created", "conversation.created", "message.created"},
		"private": true, "description": "CRM",
	})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST /webhooks: %d %s", res.StatusCode, res.Body)
	}
	var created struct {
		kustomer.Webhook
		Secret string `json:"secret"`
	}
	res.json(t, &created)
	if !strings.HasPrefix(created.Secret, "whsec_") || created.URL != "https://hooks.example.com/handoff?token=abc" || !created.Private ||
		!created.Enabled || strings.Join(created.Events, ",") != "conversation.created,message.created" || created.CreatedBy != "api" {
		t.Fatalf("created %s", res.Body)
	}
	if loc := res.Header.Get("Location"); loc != "/api/v1/org/webhooks/"+created.ID {
		t.Errorf("Location %q", loc)
	}
	for _, path := range []string{"/webhooks", "/webhooks/" + created.ID} {
		res := e.org(http.MethodGet, path, nil)
		if res.StatusCode != http.StatusOK || strings.Contains(string(res.Body), created.Secret) || strings.Contains(string(res.Body), `"secret"`) {
			t.Fatalf("GET %s shows the secret or failed: %d %s", path, res.StatusCode, res.Body)
		}
	}
	var shown struct {
		kustomer.Webhook
		Waiting, Failed int
	}
	e.org(http.MethodGet, "/webhooks/"+created.ID, nil).json(t, &shown)
	if shown.ID != created.ID || shown.Waiting != 0 || shown.Failed != 0 {
		t.Fatalf("show: %+v", shown)
	}

	res = e.org(http.MethodPatch, "/webhooks/"+created.ID, map[string]any{"enabled": false, "events": []string{"satisfaction.received"}})
	var patched kustomer.Webhook
	res.json(t, &patched)
	if res.StatusCode != http.StatusOK || patched.Enabled || patched.DisabledReason != "disabled by API" || strings.Join(patched.Events, ",") != "satisfaction.received" ||
		patched.URL != created.URL {
		t.Fatalf("PATCH: %d %s", res.StatusCode, res.Body)
	}
	if res := e.org(http.MethodPatch, "/webhooks/"+created.ID, map[string]any{"url": "ftp://x"}); res.StatusCode != 422 {
		t.Fatalf("PATCH with a bad URL: %d %s", res.StatusCode, res.Body)
	}

	var rotated struct {
		Secret string `json:"secret"`
	}
	e.org(http.MethodPost, "/webhooks/"+created.ID+"/secret", nil).json(t, &rotated)
	if !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == created.Secret {
		t.Fatalf("rotated secret %q (was %q)", rotated.Secret, created.Secret)
	}
	stored, err := e.store.Webhook(t.Context(), created.ID)
	if err != nil || stored.Secret != rotated.Secret {
		t.Fatalf("stored secret after rotation: %v", err)
	}

	var log struct {
		Attempts []kustomer.WebhookAttempt `json:"attempts"`
	}
	e.org(http.MethodGet, "/webhooks/"+created.ID+"/deliveries", nil).json(t, &log)
	if log.Attempts == nil || len(log.Attempts) != 0 {
		t.Fatalf("deliveries of a new endpoint: %+v", log)
	}
	if res := e.orgInvalid(http.MethodGet, "/webhooks/"+created.ID+"/deliveries?limit=0", nil); res.StatusCode != 422 {
		t.Fatalf("limit=0: %d", res.StatusCode)
	}
	// A disabled endpoint gets nothing resent until it is enabled.
	if res := e.org(http.MethodPost, "/webhooks/"+created.ID+"/resend-failed", nil); res.StatusCode != http.StatusConflict || !strings.Contains(string(res.Body), "webhook_disabled") {
		t.Fatalf("resend to a disabled endpoint: %d %s", res.StatusCode, res.Body)
	}
	if res := e.org(http.MethodPatch, "/webhooks/"+created.ID, map[string]any{"enabled": true}); res.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), `"enabled":true`) {
		t.Fatalf("enable: %d %s", res.StatusCode, res.Body)
	}
	if res := e.org(http.MethodPost, "/webhooks/"+created.ID+"/deliveries/"+kustomer.NewID()+"/resend", nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("resend of an unknown delivery: %d %s", res.StatusCode, res.Body)
	}
	var resent struct{ Resent int }
	e.org(http.MethodPost, "/webhooks/"+created.ID+"/resend-failed", nil).json(t, &resent)
	if resent.Resent != 0 {
		t.Fatalf("resend-failed with nothing failed: %d", resent.Resent)
	}

	if res := e.org(http.MethodDelete, "/webhooks/"+created.ID, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", res.StatusCode, res.Body)
	}
	for _, path := range []string{"/webhooks/" + created.ID, "/webhooks/not-an-id"} {
		if res := e.org(http.MethodGet, path, nil); res.StatusCode != http.StatusNotFound {
			t.Fatalf("GET %s after delete: %d", path, res.StatusCode)
		}
	}

	// In development (a plain http site) an endpoint may be this machine.
	e.engine.AllowLoopbackWebhooks = true
	if res := e.org(http.MethodPost, "/webhooks", map[string]any{"url": "http://127.0.0.1:9/hook", "events": all}); res.StatusCode != http.StatusCreated {
		t.Fatalf("loopback in development: %d %s", res.StatusCode, res.Body)
	}
}

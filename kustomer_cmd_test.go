package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer/cloud"
	"github.com/handoff/handoff/kustomer/cloud/cloudtest"
)

// TestKustomerCommands runs handoff kustomer setup and check against the
// fake Kustomer: setup registers the webhook once and prints its token,
// check finds it, and says what is missing when something is.
func TestKustomerCommands(t *testing.T) {
	fake := cloudtest.Start(t, kustomerKey)
	env := kustomerEnv(t, fake)
	delete(env, "KUSTOMER_WEBHOOK_SECRET")
	env["HANDOFF_BASE_URL"] = "https://chat.example.com"
	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"kustomer"}, args...), func(k string) string { return env[k] }, &out, &out)
		return out.String(), err
	}
	if _, err := cmd("check"); err == nil || !strings.Contains(err.Error(), "run handoff kustomer setup") {
		t.Fatalf("check before setup: %v", err)
	}
	out, err := cmd("setup")
	if err != nil {
		t.Fatalf("setup: %v\n%s", err, out)
	}
	hooks := fake.OutboundWebhooks()
	if len(hooks) != 1 || hooks[0].URL != "https://chat.example.com/webhooks/kustomer" || !slices.Equal(hooks[0].Events, cloud.WebhookEvents) {
		t.Fatalf("webhooks in Kustomer: %+v", hooks)
	}
	if !strings.Contains(out, hooks[0].Token) || !strings.Contains(out, "KUSTOMER_WEBHOOK_SECRET") {
		t.Fatalf("setup did not print the token and where it goes:\n%s", out)
	}
	if out, err := cmd("setup"); err != nil || !strings.Contains(out, "nothing to do") || len(fake.OutboundWebhooks()) != 1 {
		t.Fatalf("setup again: %v\n%s", err, out)
	}
	if _, err := cmd("check"); err == nil || !strings.Contains(err.Error(), "KUSTOMER_WEBHOOK_SECRET is not set") {
		t.Fatalf("check without the secret: %v", err)
	}
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(hooks[0].Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env["KUSTOMER_WEBHOOK_SECRET_FILE"] = secretFile
	if out, err := cmd("check"); err != nil || !strings.Contains(out, "API key: accepted") || !strings.Contains(out, "webhook: "+hooks[0].ID) {
		t.Fatalf("check: %v\n%s", err, out)
	}
	env["KUSTOMER_API_KEY_FILE"] = writeFile(t, "wrong-key")
	if _, err := cmd("check"); err == nil || !strings.Contains(err.Error(), "API key was refused") || strings.Contains(err.Error(), "wrong-key") {
		t.Fatalf("check with a wrong key: %v", err)
	}
	if _, err := cmd("frobnicate"); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("unknown subcommand: %v", err)
	}
}

func writeFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKustomerSettings checks the relay's settings at start-up: each
// missing or wrong one is named, and a secret never appears in the error.
func TestKustomerSettings(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HANDOFF_BACKEND": "cloud"}, "want embedded or kustomer"},
		{map[string]string{"HANDOFF_BACKEND": "kustomer"}, "needs KUSTOMER_API_URL"},
		{map[string]string{"HANDOFF_BACKEND": "kustomer", "KUSTOMER_API_URL": "http://api.example.com"}, "want an https URL"},
		{map[string]string{"HANDOFF_BACKEND": "kustomer", "KUSTOMER_API_URL": "https://x.api.kustomerapp.com"}, "needs KUSTOMER_API_KEY"},
		{map[string]string{"HANDOFF_BACKEND": "kustomer", "KUSTOMER_API_URL": "https://x.api.kustomerapp.com", "KUSTOMER_API_KEY": "sekret-1", "KUSTOMER_API_KEY_FILE": "/x"}, "not both"},
		{map[string]string{"HANDOFF_BACKEND": "kustomer", "KUSTOMER_API_URL": "https://x.api.kustomerapp.com", "KUSTOMER_API_KEY_FILE": "/nonexistent/key"}, "KUSTOMER_API_KEY_FILE"},
	} {
		_, err := parseConfig(nil, func(k string) string { return tc.env[k] }, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "sekret-1") {
			t.Errorf("%v: %v, want an error naming %q", tc.env, err, tc.want)
		}
	}
}

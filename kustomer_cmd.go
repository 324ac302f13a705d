package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/handoff/handoff/kustomer/cloud"
)

// runKustomer is "handoff kustomer setup|check": it registers handoff's
// webhook in the Kustomer organization, or checks the API key and that
// webhook, printing what it did. It reads the same settings as the server
// (KUSTOMER_API_URL, KUSTOMER_API_KEY or its file, HANDOFF_BASE_URL).
func runKustomer(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 1 || (args[0] != "setup" && args[0] != "check") {
		return errors.New("usage: handoff kustomer setup|check")
	}
	k, err := parseKustomer(getenv)
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(getenv("HANDOFF_BASE_URL"), "/")
	if !strings.HasPrefix(base, "https://") {
		return errors.New("HANDOFF_BASE_URL must be the site's public https origin: Kustomer posts the webhook to HANDOFF_BASE_URL/webhooks/kustomer")
	}
	hookURL := base + "/webhooks/kustomer"
	client, err := cloud.NewClient(k.apiURL, k.apiKey)
	if err != nil {
		return fmt.Errorf("KUSTOMER_API_URL: %w", err)
	}
	if err := client.CheckKey(ctx); err != nil {
		return fmt.Errorf("the API key was refused or the API is unreachable: %w", err)
	}
	fmt.Fprintf(stdout, "API key: accepted by %s\n", client.Host())
	hooks, err := client.OutboundWebhooks(ctx)
	if err != nil {
		return fmt.Errorf("list webhooks: %w", err)
	}
	var mine *cloud.OutboundWebhook
	for i, w := range hooks {
		if w.URL == hookURL {
			mine = &hooks[i]
		}
	}
	if args[0] == "check" {
		if mine == nil {
			return fmt.Errorf("no webhook posts to %s: run handoff kustomer setup", hookURL)
		}
		var missing []string
		for _, ev := range cloud.WebhookEvents {
			if !slices.Contains(mine.Events, ev) {
				missing = append(missing, ev)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("webhook %s posts to %s but lacks %s", mine.ID, hookURL, strings.Join(missing, ", "))
		}
		fmt.Fprintf(stdout, "webhook: %s posts %s to %s\n", mine.ID, strings.Join(mine.Events, ", "), hookURL)
		if k.webhookSecret == "" {
			return errors.New("KUSTOMER_WEBHOOK_SECRET is not set: replies would be refused")
		}
		fmt.Fprintln(stdout, "KUSTOMER_WEBHOOK_SECRET: set")
		return nil
	}
	if mine != nil {
		fmt.Fprintf(stdout, "webhook: %s already posts %s to %s; nothing to do\n", mine.ID, strings.Join(mine.Events, ", "), hookURL)
		return nil
	}
	w, err := client.CreateOutboundWebhook(ctx, "handoff", hookURL, cloud.WebhookEvents)
	if err != nil {
		return fmt.Errorf("create the webhook: %w", err)
	}
	fmt.Fprintf(stdout, "webhook: created %s, posting %s to %s\n", w.ID, strings.Join(cloud.WebhookEvents, ", "), hookURL)
	if w.Token == "" {
		fmt.Fprintln(stdout, "Kustomer answered no signing token: copy it from the webhook's settings in Kustomer into KUSTOMER_WEBHOOK_SECRET.")
		return nil
	}
	// The token is shown this once, on the terminal, never in a log.
	fmt.Fprintf(stdout, "Set this signing secret where the server reads it (KUSTOMER_WEBHOOK_SECRET or KUSTOMER_WEBHOOK_SECRET_FILE), then restart:\n%s\n", w.Token)
	return nil
}

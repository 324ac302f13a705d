package views

import "time"

// WebhookAlert tells admins that handoff disabled an endpoint whose
// deliveries kept failing; every admin page shows it until the endpoint is
// enabled again or deleted.
type WebhookAlert struct {
	Host       string
	URL        string // the endpoint's admin page
	DisabledAt time.Time
	Reason     string
}

// AdminWebhooksPage lists the webhook endpoints and registers one.
type AdminWebhooksPage struct {
	AgentPage
	Webhooks []WebhookRow
	New      WebhookForm
	// Error is a refused registration that is no field's fault (too many
	// endpoints).
	Error string
}

// WebhookRow is one endpoint as the admin pages show it. It never holds
// the secret.
type WebhookRow struct {
	ID          string
	URL         string
	Host        string
	Description string
	Events      []string
	// AllEvents is true when it subscribed to every event type.
	AllEvents bool
	Private   bool
	Enabled   bool
	// DisabledReason says who or what disabled it, since DisabledAt; ByHandoff
	// when handoff did, after its deliveries kept failing.
	DisabledReason string
	DisabledAt     *time.Time
	ByHandoff      bool
	// Failures counts the attempts that failed in a row, since
	// FailingSince.
	Failures      int
	FailingSince  *time.Time
	LastSuccessAt *time.Time
	ShowURL       string
}

// WebhookForm registers or edits an endpoint, every error beside its
// field.
type WebhookForm struct {
	Action string
	// Editing is true on the endpoint's page.
	Editing     bool
	URL         string
	Description string
	// Events are the event types, each checked when subscribed.
	Events  []OptionView
	Private bool
	Errors  map[string]string // by field: url, description, events
}

// AdminWebhookPage is one endpoint: its settings, the actions on it and
// its delivery log.
type AdminWebhookPage struct {
	AgentPage
	Webhook WebhookRow
	Form    WebhookForm
	// Error is a refused action (deleting without confirming).
	Error string
	// Action URLs (POST).
	ToggleURL       string
	SecretURL       string
	DeleteURL       string
	ResendFailedURL string
	// Parked counts the deliveries given up (ResendFailedURL sends them
	// again); Waiting those still to be sent or retried. The *More flags
	// say there were more than counted.
	Parked      int
	ParkedMore  bool
	Waiting     int
	WaitingMore bool
	Attempts    []WebhookAttemptRow
}

// WebhookAttemptRow is one attempt of the delivery log.
type WebhookAttemptRow struct {
	At        time.Time
	EventType string
	EventID   string
	Attempt   int
	// Status is the HTTP status answered, 0 when none (Error says why).
	Status     int
	Error      string
	OK         bool
	DurationMS int64
	// ResendURL sends the delivery again (POST); empty while the delivery
	// is still being tried, and on the delivery's older attempts.
	ResendURL string
}

// WebhookSecretPage shows an endpoint's signing secret, this once: after
// registering it or rotating its secret.
type WebhookSecretPage struct {
	AgentPage
	Webhook WebhookRow
	Secret  string
	// Rotated is true for a new secret of an existing endpoint.
	Rotated bool
}

package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// Bounds of the endpoint page: the attempts of its delivery log, and the
// deliveries counted as waiting or given up.
const (
	webhookAttemptsShown  = 100
	webhookDeliveriesSeen = 1000
)

// The admin pages of webhook endpoints never render an endpoint's secret,
// but on the two pages that show it once (registering, rotating), and
// never log it.

// adminWebhooks is GET /admin/webhooks: the endpoints, and the form that
// registers one (every event ticked).
func (s *Server) adminWebhooks(c echo.Context) error {
	form := views.WebhookForm{Events: webhookEventOptions(kustomer.WebhookEventTypes)}
	return s.renderAdminWebhooks(c, http.StatusOK, form, "")
}

func (s *Server) renderAdminWebhooks(c echo.Context, status int, form views.WebhookForm, msg string) error {
	hooks, err := s.engine.Webhooks(c.Request().Context())
	if err != nil {
		return err
	}
	p := views.AdminWebhooksPage{AgentPage: s.agentPage(c, "Webhooks", "webhooks"), Error: msg}
	for _, w := range hooks {
		p.Webhooks = append(p.Webhooks, webhookRow(w))
	}
	form.Action = "/admin/webhooks"
	p.New = form
	return render(c, status, views.AdminWebhooksView(p))
}

// webhookRow is what the pages show of an endpoint: all but its secret.
func webhookRow(w kustomer.Webhook) views.WebhookRow {
	return views.WebhookRow{
		ID: w.ID, URL: w.URL, Host: webhookHost(w.URL), Description: w.Description, ShowURL: "/admin/webhooks/" + w.ID,
		Events: w.Events, AllEvents: len(w.Events) == len(kustomer.WebhookEventTypes), Private: w.Private,
		Enabled: w.Enabled, DisabledReason: w.DisabledReason, DisabledAt: w.DisabledAt, ByHandoff: disabledByHandoff(w),
		Failures: w.Failures, FailingSince: w.FailingSince, LastSuccessAt: w.LastSuccessAt,
	}
}

// disabledByHandoff reports whether handoff disabled the endpoint, after
// its deliveries kept failing; an admin's reason starts "disabled by ".
func disabledByHandoff(w kustomer.Webhook) bool {
	return !w.Enabled && w.DisabledReason != "" && !strings.HasPrefix(w.DisabledReason, "disabled by ")
}

// webhookHost names an endpoint by its host: its path may hold a token.
func webhookHost(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}

// webhookEventOptions are the event checkboxes, those in checked ticked.
func webhookEventOptions(checked []string) []views.OptionView {
	out := make([]views.OptionView, 0, len(kustomer.WebhookEventTypes))
	for _, t := range kustomer.WebhookEventTypes {
		out = append(out, views.OptionView{Value: t, Label: t, Selected: slices.Contains(checked, t)})
	}
	return out
}

// webhookAlerts are the endpoints handoff disabled, for the banner of admin
// pages. A failing read shows none: the page matters more.
func (s *Server) webhookAlerts(c echo.Context) []views.WebhookAlert {
	hooks, err := s.engine.Webhooks(c.Request().Context())
	if err != nil {
		s.log.ErrorContext(c.Request().Context(), "webhook alerts", "err", err)
		return nil
	}
	var out []views.WebhookAlert
	for _, w := range hooks {
		if !disabledByHandoff(w) {
			continue
		}
		at := w.UpdatedAt
		if w.DisabledAt != nil {
			at = *w.DisabledAt
		}
		out = append(out, views.WebhookAlert{Host: webhookHost(w.URL), URL: "/admin/webhooks/" + w.ID, DisabledAt: at, Reason: w.DisabledReason})
	}
	return out
}

// webhookFormInput reads the endpoint form: url, description, events (one
// value per ticked event) and private=1.
func webhookFormInput(c echo.Context) (kustomer.WebhookInput, views.WebhookForm, error) {
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		return kustomer.WebhookInput{}, views.WebhookForm{}, &Error{Status: http.StatusBadRequest, Code: "bad_form", Title: "Bad request", Detail: "The form could not be read."}
	}
	u, desc := r.PostForm.Get("url"), r.PostForm.Get("description")
	events := r.PostForm["events"]
	if events == nil {
		events = []string{} // none ticked: refused, not left as it was
	}
	private := r.PostForm.Get("private") == "1"
	in := kustomer.WebhookInput{URL: &u, Description: &desc, Events: &events, Private: &private}
	form := views.WebhookForm{URL: u, Description: desc, Events: webhookEventOptions(events), Private: private}
	return in, form, nil
}

// webhookFormErrors maps engine validation to the endpoint form's fields.
func webhookFormErrors(verr *kustomer.ValidationError) map[string]string {
	errs := map[string]string{}
	for k, msg := range verr.Fields {
		errs[k] = sentence(msg)
	}
	return errs
}

// adminWebhookCreate is POST /admin/webhooks: it registers an endpoint and
// answers with its secret, shown this once.
func (s *Server) adminWebhookCreate(c echo.Context) error {
	in, form, err := webhookFormInput(c)
	if err != nil {
		return err
	}
	w, err := s.engine.CreateWebhook(c.Request().Context(), currentAgent(c).Actor(), in)
	var verr *kustomer.ValidationError
	var cerr *kustomer.ConflictError
	switch {
	case errors.As(err, &verr):
		form.Errors = webhookFormErrors(verr)
		return s.renderAdminWebhooks(c, http.StatusUnprocessableEntity, form, "")
	case errors.As(err, &cerr):
		return s.renderAdminWebhooks(c, http.StatusConflict, form, sentence(cerr.Reason))
	case err != nil:
		return err
	}
	return s.revealWebhookSecret(c, w, "created")
}

// revealWebhookSecret keeps w's new secret for the page that shows it
// once, and sends the browser there: a reload of that page cannot register
// or rotate again.
func (s *Server) revealWebhookSecret(c echo.Context, w kustomer.Webhook, how string) error {
	if err := s.sessions.SetReveal(c.Response(), c.Request(), w.ID+"\n"+how+"\n"+w.Secret); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/webhooks/"+w.ID+"/secret")
}

// adminWebhookSecretShow is GET /admin/webhooks/{id}/secret: the secret
// just made, shown this once; later, the endpoint's page says so.
func (s *Server) adminWebhookSecretShow(c echo.Context) error {
	id, how, secret := "", "", ""
	if v := s.sessions.TakeReveal(c.Response(), c.Request()); v != "" {
		parts := strings.SplitN(v, "\n", 3)
		if len(parts) == 3 {
			id, how, secret = parts[0], parts[1], parts[2]
		}
	}
	if id == "" || id != c.Param("id") {
		return s.webhookDone(c, c.Param("id"), "The signing secret is shown only once. Rotate it to get a new one.")
	}
	w, err := s.engine.Webhook(c.Request().Context(), id)
	if err != nil {
		return err
	}
	w.Secret = secret
	return s.renderWebhookSecret(c, w, how == "rotated")
}

// renderWebhookSecret shows w's secret, this once.
func (s *Server) renderWebhookSecret(c echo.Context, w kustomer.Webhook, rotated bool) error {
	title := "Endpoint registered"
	if rotated {
		title = "New signing secret"
	}
	p := views.WebhookSecretPage{AgentPage: s.agentPage(c, title, "webhooks"), Webhook: webhookRow(w), Secret: w.Secret, Rotated: rotated}
	noStore(c)
	return render(c, http.StatusOK, views.WebhookSecretView(p))
}

// adminWebhookShow is GET /admin/webhooks/{id}: the endpoint's settings,
// actions and delivery log.
func (s *Server) adminWebhookShow(c echo.Context) error {
	w, err := s.engine.Webhook(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	form := views.WebhookForm{URL: w.URL, Description: w.Description, Events: webhookEventOptions(w.Events), Private: w.Private}
	return s.renderAdminWebhook(c, http.StatusOK, w, form, "")
}

func (s *Server) renderAdminWebhook(c echo.Context, status int, w kustomer.Webhook, form views.WebhookForm, msg string) error {
	ctx := c.Request().Context()
	base := "/admin/webhooks/" + w.ID
	form.Action, form.Editing = base, true
	p := views.AdminWebhookPage{
		AgentPage: s.agentPage(c, "Webhook "+webhookHost(w.URL), "webhooks"), Webhook: webhookRow(w), Form: form, Error: msg,
		ToggleURL: base + "/toggle", SecretURL: base + "/secret", DeleteURL: base + "/delete", ResendFailedURL: base + "/resend-failed",
	}
	pending, err := s.engine.WebhookDeliveries(ctx, w.ID, kustomer.OutboxPending, webhookDeliveriesSeen+1)
	if err != nil {
		return err
	}
	parked, err := s.engine.WebhookDeliveries(ctx, w.ID, kustomer.OutboxParked, webhookDeliveriesSeen+1)
	if err != nil {
		return err
	}
	p.Waiting, p.WaitingMore = min(len(pending), webhookDeliveriesSeen), len(pending) > webhookDeliveriesSeen
	p.Parked, p.ParkedMore = min(len(parked), webhookDeliveriesSeen), len(parked) > webhookDeliveriesSeen
	waiting := map[string]bool{}
	for _, it := range pending {
		waiting[it.ID] = true
	}
	attempts, err := s.engine.WebhookAttempts(ctx, w.ID, webhookAttemptsShown)
	if err != nil {
		return err
	}
	// The endpoint's state (failures, last success) as of after the log
	// was read: an attempt the log shows is counted in it, even when it
	// was recorded while this page was being built.
	fresh, err := s.engine.Webhook(ctx, w.ID)
	if err != nil {
		return err
	}
	p.Webhook = webhookRow(fresh)
	// A delivery is resent from its latest attempt (the log is latest
	// first), once it is no longer being tried (a pending one beyond those
	// counted is refused by the engine, which the notice then says).
	offered := map[string]bool{}
	for _, a := range attempts {
		row := views.WebhookAttemptRow{
			At: a.At, EventType: a.EventType, EventID: a.EventID, Attempt: a.Attempt,
			Status: a.Status, Error: a.Error, OK: a.OK(), DurationMS: a.DurationMS,
		}
		if a.DeliveryID != "" && !waiting[a.DeliveryID] && !offered[a.DeliveryID] {
			row.ResendURL = base + "/deliveries/" + url.PathEscape(a.DeliveryID) + "/resend"
			offered[a.DeliveryID] = true
		}
		p.Attempts = append(p.Attempts, row)
	}
	noStore(c)
	return render(c, status, views.AdminWebhookView(p))
}

// adminWebhookUpdate is POST /admin/webhooks/{id}: the endpoint's URL,
// description, events and private flag.
func (s *Server) adminWebhookUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := s.engine.Webhook(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	in, form, err := webhookFormInput(c)
	if err != nil {
		return err
	}
	_, err = s.engine.UpdateWebhook(ctx, currentAgent(c).Actor(), w.ID, in)
	var verr *kustomer.ValidationError
	if errors.As(err, &verr) {
		form.Errors = webhookFormErrors(verr)
		return s.renderAdminWebhook(c, http.StatusUnprocessableEntity, w, form, "")
	}
	if err != nil {
		return err
	}
	return s.webhookDone(c, w.ID, "Saved: deliveries from now on follow the new settings.")
}

// adminWebhookToggle is POST /admin/webhooks/{id}/toggle: it disables an
// enabled endpoint, or enables a disabled one (clearing its failures).
func (s *Server) adminWebhookToggle(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := s.engine.Webhook(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	enabled := !w.Enabled
	w, err = s.engine.UpdateWebhook(ctx, currentAgent(c).Actor(), w.ID, kustomer.WebhookInput{Enabled: &enabled})
	if err != nil {
		return err
	}
	notice := "Disabled: " + webhookHost(w.URL) + " receives no events until it is enabled again."
	if enabled {
		notice = "Enabled: " + webhookHost(w.URL) + " receives events again."
		parked, err := s.engine.WebhookDeliveries(ctx, w.ID, kustomer.OutboxParked, 1)
		if err != nil {
			return err
		}
		if len(parked) > 0 {
			notice += " The deliveries given up meanwhile can be resent below."
		}
	}
	return s.webhookDone(c, w.ID, notice)
}

// adminWebhookSecret is POST /admin/webhooks/{id}/secret: a new secret,
// shown this once.
func (s *Server) adminWebhookSecret(c echo.Context) error {
	w, err := s.engine.RotateWebhookSecret(c.Request().Context(), currentAgent(c).Actor(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.revealWebhookSecret(c, w, "rotated")
}

// adminWebhookDelete is POST /admin/webhooks/{id}/delete, with confirm=yes
// (the box that says so ticked).
func (s *Server) adminWebhookDelete(c echo.Context) error {
	r := c.Request()
	w, err := s.engine.Webhook(r.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if r.FormValue("confirm") != "yes" {
		form := views.WebhookForm{URL: w.URL, Description: w.Description, Events: webhookEventOptions(w.Events), Private: w.Private}
		return s.renderAdminWebhook(c, http.StatusUnprocessableEntity, w, form, "Tick the box to confirm that the endpoint is to be deleted.")
	}
	if err := s.engine.DeleteWebhook(r.Context(), currentAgent(c).Actor(), w.ID); err != nil {
		return err
	}
	if err := s.sessions.SetNotice(c.Response(), r, "Deleted "+webhookHost(w.URL)+": it receives no more events."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/webhooks")
}

// adminWebhookResendFailed is POST /admin/webhooks/{id}/resend-failed:
// every delivery given up is sent again, in order.
func (s *Server) adminWebhookResendFailed(c echo.Context) error {
	n, err := s.engine.ResendFailedWebhookDeliveries(c.Request().Context(), currentAgent(c).Actor(), c.Param("id"))
	if err != nil {
		return err
	}
	notice := fmt.Sprintf("%s will be sent again.", plural(n, "delivery", "deliveries"))
	if n == 0 {
		// None given up, or every one already resent this minute.
		parked, err := s.engine.WebhookDeliveries(c.Request().Context(), c.Param("id"), kustomer.OutboxParked, 1)
		if err != nil {
			return err
		}
		notice = "No delivery had been given up."
		if len(parked) > 0 {
			notice = "The failed deliveries are already being sent again."
		}
	}
	return s.webhookDone(c, c.Param("id"), notice)
}

// adminWebhookResend is POST /admin/webhooks/{id}/deliveries/{delivery}/resend:
// one delivery sent again. A delivery still being tried is refused, and
// says so.
func (s *Server) adminWebhookResend(c echo.Context) error {
	id := c.Param("id")
	err := s.engine.ResendWebhookDelivery(c.Request().Context(), currentAgent(c).Actor(), id, c.Param("delivery"))
	var cerr *kustomer.ConflictError
	switch {
	case errors.As(err, &cerr):
		return s.webhookDone(c, id, sentence(cerr.Reason))
	case err != nil:
		return err
	}
	return s.webhookDone(c, id, "The delivery will be sent again.")
}

// webhookDone sends the admin back to the endpoint's page with notice.
func (s *Server) webhookDone(c echo.Context, id, notice string) error {
	if err := s.sessions.SetNotice(c.Response(), c.Request(), notice); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/webhooks/"+id)
}

// plural is "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

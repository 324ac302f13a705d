package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
)

// webhookWithSecret is an endpoint as answered the one time its secret is
// shown: when it is registered, and when the secret is rotated.
type webhookWithSecret struct {
	kustomer.Webhook
	Secret string `json:"secret"`
}

// orgWebhookList is GET /api/v1/org/webhooks: the endpoints, without
// their secrets.
func (s *Server) orgWebhookList(c echo.Context) error {
	hooks, err := s.engine.Webhooks(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"webhooks": hooks, "events": kustomer.WebhookEventTypes})
}

// orgWebhookCreate is POST /api/v1/org/webhooks {url, events, private,
// description}: it registers an endpoint and answers its secret, this
// once.
func (s *Server) orgWebhookCreate(c echo.Context) error {
	var in kustomer.WebhookInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	w, err := s.engine.CreateWebhook(c.Request().Context(), orgActor, in)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/org/webhooks/"+w.ID)
	return c.JSON(http.StatusCreated, webhookWithSecret{Webhook: w, Secret: w.Secret})
}

// orgWebhookShow is GET /api/v1/org/webhooks/{id}, with how many
// deliveries wait and how many were given up.
func (s *Server) orgWebhookShow(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := s.engine.Webhook(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	waiting, err := s.engine.WebhookDeliveries(ctx, w.ID, kustomer.OutboxPending, 1000)
	if err != nil {
		return err
	}
	failed, err := s.engine.WebhookDeliveries(ctx, w.ID, kustomer.OutboxParked, 1000)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct {
		kustomer.Webhook
		Waiting int `json:"waiting"`
		Failed  int `json:"failed"`
	}{w, len(waiting), len(failed)})
}

// orgWebhookUpdate is PATCH /api/v1/org/webhooks/{id}: the fields given
// (url, events, private, description, enabled) change.
func (s *Server) orgWebhookUpdate(c echo.Context) error {
	var in kustomer.WebhookInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	w, err := s.engine.UpdateWebhook(c.Request().Context(), orgActor, c.Param("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, w)
}

// orgWebhookDelete is DELETE /api/v1/org/webhooks/{id}.
func (s *Server) orgWebhookDelete(c echo.Context) error {
	if err := s.engine.DeleteWebhook(c.Request().Context(), orgActor, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// orgWebhookSecret is POST /api/v1/org/webhooks/{id}/secret: a new secret,
// answered this once.
func (s *Server) orgWebhookSecret(c echo.Context) error {
	w, err := s.engine.RotateWebhookSecret(c.Request().Context(), orgActor, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, webhookWithSecret{Webhook: w, Secret: w.Secret})
}

// orgWebhookDeliveries is GET /api/v1/org/webhooks/{id}/deliveries: the
// delivery log (every attempt, the latest first, at most limit of them).
func (s *Server) orgWebhookDeliveries(c echo.Context) error {
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return &kustomer.ValidationError{Fields: map[string]string{"limit": "must be a whole number from 1 to 1000"}}
		}
		limit = n
	}
	attempts, err := s.engine.WebhookAttempts(c.Request().Context(), c.Param("id"), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"webhookId": c.Param("id"), "attempts": attempts})
}

// orgWebhookResend is POST /api/v1/org/webhooks/{id}/deliveries/{delivery}/resend:
// the delivery is sent again, same event and webhook-id.
func (s *Server) orgWebhookResend(c echo.Context) error {
	if err := s.engine.ResendWebhookDelivery(c.Request().Context(), orgActor, c.Param("id"), c.Param("delivery")); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"resent": 1})
}

// orgWebhookResendFailed is POST /api/v1/org/webhooks/{id}/resend-failed:
// every delivery given up is sent again, in order.
func (s *Server) orgWebhookResendFailed(c echo.Context) error {
	n, err := s.engine.ResendFailedWebhookDeliveries(c.Request().Context(), orgActor, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"resent": n})
}

package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// auditAreaLabels names the audit log's areas on the page.
var auditAreaLabels = map[kustomer.AuditArea]string{
	kustomer.AuditAgents:       "Agents",
	kustomer.AuditForms:        "Forms",
	kustomer.AuditWebhooks:     "Webhooks",
	kustomer.AuditSavedReplies: "Saved replies",
	kustomer.AuditLabels:       "Labels",
}

// auditActions says the log's actions in words.
var auditActions = map[string]string{
	kustomer.AuditCreated:              "created",
	kustomer.AuditUpdated:              "changed",
	kustomer.AuditDeleted:              "deleted",
	kustomer.AuditSignedOut:            "signed out everywhere",
	kustomer.AuditSecretRotated:        "signing secret replaced",
	kustomer.FormSettingAssistant:      "assistant changed",
	kustomer.FormSettingAllowedOrigins: "allowed origins changed",
}

// adminAudit is GET /admin/audit: the audit log, newest first, filtered by
// area (area) and paged by the last entry seen (before).
func (s *Server) adminAudit(c echo.Context) error {
	a := currentAgent(c)
	q := kustomer.AuditQuery{Area: kustomer.AuditArea(c.QueryParam("area")), Before: c.QueryParam("before"), Limit: kustomer.AuditPageSize + 1}
	entries, err := s.engine.AuditLog(c.Request().Context(), a, q)
	var verr *kustomer.ValidationError
	if errors.As(err, &verr) {
		// A hand-edited address: start over from the newest entries.
		return c.Redirect(http.StatusSeeOther, "/admin/audit")
	}
	if err != nil {
		return err
	}
	p := views.AdminAuditPage{AgentPage: s.agentPage(c, "Audit log", "audit"), Area: string(q.Area)}
	for _, area := range kustomer.AuditAreas {
		p.Areas = append(p.Areas, views.AuditAreaOption{Value: string(area), Label: auditAreaLabels[area], Selected: area == q.Area})
	}
	link := func(before string) string {
		v := url.Values{}
		if q.Area != "" {
			v.Set("area", string(q.Area))
		}
		if before != "" {
			v.Set("before", before)
		}
		if len(v) == 0 {
			return "/admin/audit"
		}
		return "/admin/audit?" + v.Encode()
	}
	if len(entries) > kustomer.AuditPageSize {
		entries = entries[:kustomer.AuditPageSize]
		p.OlderURL = link(entries[len(entries)-1].ID)
	}
	if q.Before != "" {
		p.NewestURL = link("")
	}
	cfg := s.engine.Config()
	for _, e := range entries {
		row := views.AuditRow{At: e.At, Actor: e.ActorName, Area: auditAreaLabels[e.Area], Target: e.TargetName, Action: auditActions[e.Action]}
		if row.Action == "" {
			row.Action = strings.ReplaceAll(e.Action, "_", " ")
		}
		if e.Area == kustomer.AuditForms {
			if f, ok := cfg.Form(e.TargetID); ok && f.Title.String() != "" {
				row.Target = f.Title.String()
			}
		}
		for _, ch := range e.Changes {
			row.Changes = append(row.Changes, views.AuditChangeRow{Field: auditField(ch.Field), From: ch.From, To: ch.To})
		}
		p.Entries = append(p.Entries, row)
	}
	noStore(c)
	return render(c, http.StatusOK, views.AdminAuditView(p))
}

// auditField names a changed field on the page.
func auditField(f string) string {
	switch f {
	case kustomer.FormSettingAllowedOrigins:
		return "allowed origins"
	case "url":
		return "URL"
	}
	return strings.ReplaceAll(f, "_", " ")
}

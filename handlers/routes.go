package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/handoff/handoff/static"
)

// routes lists every route the server answers.
func (s *Server) routes(e *echo.Echo) {
	e.Pre(middleware.RemoveTrailingSlash())
	e.Use(middleware.RequestID())
	e.Use(s.logRequests)
	e.Use(middleware.Recover())
	e.Use(securityHeaders)
	// Routes that take a file have their own limit (see attachmentCreate).
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "1M", Skipper: isUpload}))
	e.Use(crossOriginProtection())
	e.Use(compressResponses())

	e.GET("/healthz", s.healthz)
	if s.opts.KustomerWebhook != nil {
		// Server to server: signed, so no session and no origin to check.
		e.POST("/webhooks/kustomer", echo.WrapHandler(s.opts.KustomerWebhook))
	}
	e.GET("/readyz", s.readyz)
	if s.opts.MetricsHandler != nil {
		e.GET("/metrics", echo.WrapHandler(s.opts.MetricsHandler))
	}
	e.GET("/static/*", echo.WrapHandler(staticHandler(static.FS)))

	// Customer pages.
	e.GET("/", s.indexShow)
	e.GET("/forms/:form", s.formShow)
	e.POST("/forms/:form", s.formSubmit)
	e.GET("/forms/:form/embed.json", s.embedJSON)
	e.GET("/conversations", s.conversationList)
	e.GET("/conversations/:id", s.conversationShow)
	e.POST("/conversations/:id/messages", s.messageCreate)
	e.POST("/conversations/:id/rating", s.conversationRate)
	e.POST("/conversations/:id/transcript", s.conversationTranscript)
	e.POST("/conversations/:id/end", s.conversationEnd)
	e.POST("/conversations/:id/open", s.conversationOpen)
	e.GET("/conversations/:id/continue", s.emailLinkShow)
	e.POST("/conversations/:id/continue", s.emailLinkOpen)
	e.POST("/conversations/:id/continue/resend", s.emailLinkResend)
	e.GET("/unsubscribe", s.unsubscribeShow)
	e.POST("/unsubscribe", s.unsubscribe)
	e.GET("/conversations/:id/ws", s.chatSocket)
	e.POST("/conversations/:id/attachments", s.chatAttachmentCreate)
	e.GET("/conversations/:id/attachments/:att", s.attachmentShow)

	// Agent console.
	e.GET("/agent/sign-in", s.signInShow)
	e.POST("/agent/sign-in", s.signIn)
	e.POST("/agent/sign-out", s.signOut)
	agent := e.Group("/agent", s.requireAgent)
	agent.GET("", s.agentInbox)
	agent.GET("/inbox", s.agentInboxList)
	agent.GET("/ws", s.agentInboxSocket)
	agent.GET("/conversations/:id", s.agentConversation)
	agent.GET("/conversations/:id/panel", s.agentPanel)
	agent.GET("/conversations/:id/ws", s.agentConversationSocket)
	agent.POST("/conversations/:id/messages", s.agentMessageCreate)
	agent.POST("/conversations/:id/attachments", s.agentAttachmentCreate)
	agent.POST("/conversations/:id/attributes", s.agentAttributes)
	agent.POST("/conversations/:id/note", s.agentNoteCreate)
	agent.GET("/conversations/:id/replies", s.conversationReplies)
	agent.GET("/replies", s.savedReplyList)
	agent.POST("/replies", s.savedReplyCreate)
	agent.GET("/replies/:id", s.savedReplyEdit)
	agent.POST("/replies/:id", s.savedReplyUpdate)
	agent.POST("/replies/:id/delete", s.savedReplyDelete)
	agent.GET("/profile", s.agentProfile)
	agent.POST("/profile", s.agentProfileUpdate)
	agent.POST("/profile/password", s.agentPasswordChange)
	agent.POST("/profile/sign-out-everywhere", s.agentSignOutEverywhere)
	s.routesAgentActions(agent)

	// Admin pages.
	admin := e.Group("/admin", s.requireAgent, s.requireAdmin)
	admin.GET("", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/admin/agents") })
	admin.GET("/agents", s.adminAgents)
	admin.POST("/agents", s.adminAgentCreate)
	admin.GET("/agents/:id", s.adminAgentEdit)
	admin.POST("/agents/:id", s.adminAgentUpdate)
	admin.POST("/agents/:id/toggle", s.adminAgentToggle)
	admin.POST("/agents/:id/sign-out", s.adminAgentSignOut)
	admin.GET("/forms", s.adminForms)
	admin.POST("/forms/:id/assistant", s.adminFormAssistant)
	admin.POST("/forms/:id/origins", s.adminFormOrigins)
	admin.GET("/mail", s.adminMail)
	admin.GET("/mail/files/:name", s.adminMailFile)
	admin.GET("/audit", s.adminAudit)
	admin.GET("/webhooks", s.adminWebhooks)
	admin.POST("/webhooks", s.adminWebhookCreate)
	admin.GET("/webhooks/:id", s.adminWebhookShow)
	admin.POST("/webhooks/:id", s.adminWebhookUpdate)
	admin.POST("/webhooks/:id/toggle", s.adminWebhookToggle)
	admin.GET("/webhooks/:id/secret", s.adminWebhookSecretShow)
	admin.POST("/webhooks/:id/secret", s.adminWebhookSecret)
	admin.POST("/webhooks/:id/delete", s.adminWebhookDelete)
	admin.POST("/webhooks/:id/resend-failed", s.adminWebhookResendFailed)
	admin.POST("/webhooks/:id/deliveries/:delivery/resend", s.adminWebhookResend)

	// Customer API, authenticated by the session cookie.
	api := e.Group("/api/v1", noStoreMiddleware)
	api.GET("/openapi.json", s.openAPIShow)
	api.POST("/conversations", s.apiConversationCreate)
	api.GET("/conversations", s.apiConversationList)
	api.GET("/conversations/:id", s.apiConversationShow)
	api.PATCH("/conversations/:id", s.apiConversationDescribe)
	api.POST("/conversations/:id/messages", s.apiMessageCreate)
	api.POST("/conversations/:id/attachments", s.apiAttachmentCreate)
	api.GET("/conversations/:id/messages", s.apiMessageList)
	api.POST("/conversations/:id/satisfaction", s.apiConversationRate)
	api.PATCH("/customer", s.apiCustomerDescribe)
	api.POST("/conversations/:id/read", s.apiConversationRead)
	api.GET("/unread", s.apiUnread)
	api.POST("/conversations/:id/typing", s.apiTyping)
	api.POST("/conversations/:id/end", s.apiConversationEnd)

	// Organization API, authenticated by a bearer token.
	org := api.Group("/org", s.requireAPIToken)
	org.GET("/conversations", s.orgConversationList)
	org.GET("/conversations/:id", s.orgConversationShow)
	org.PATCH("/conversations/:id", s.orgConversationDescribe)
	org.GET("/conversations/:id/messages", s.orgMessageList)
	org.POST("/conversations/:id/messages", s.orgMessageCreate)
	org.POST("/conversations/:id/attachments", s.orgAttachmentCreate)
	org.POST("/conversations/:id/end", s.orgConversationEnd)
	org.POST("/conversations/:id/reopen", s.orgConversationReopen)
	org.POST("/conversations/:id/transfer", s.orgConversationTransfer)
	org.POST("/conversations/:id/unassign", s.orgConversationUnassign)
	org.POST("/conversations/:id/accept", s.orgConversationAccept)
	org.PUT("/conversations/:id/ttr", s.orgConversationTTR)
	org.PUT("/conversations/:id/ettr", s.orgConversationETTR)
	org.POST("/conversations/:id/note", s.orgAgentNoteCreate)
	org.GET("/conversations/:id/notes", s.orgAgentNoteList)
	org.GET("/agents", s.orgAgentList)
	org.GET("/webhooks", s.orgWebhookList)
	org.POST("/webhooks", s.orgWebhookCreate)
	org.GET("/webhooks/:id", s.orgWebhookShow)
	org.PATCH("/webhooks/:id", s.orgWebhookUpdate)
	org.DELETE("/webhooks/:id", s.orgWebhookDelete)
	org.POST("/webhooks/:id/secret", s.orgWebhookSecret)
	org.GET("/webhooks/:id/deliveries", s.orgWebhookDeliveries)
	org.POST("/webhooks/:id/deliveries/:delivery/resend", s.orgWebhookResend)
	org.POST("/webhooks/:id/resend-failed", s.orgWebhookResendFailed)

	e.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
}

package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// Context keys of a request that passed requireAgent.
const (
	ctxAgent        = "agent"
	ctxAgentSession = "agent_session"
)

// Why a console request was sent to sign in.
const (
	disabledNotice = "Your account was disabled. Ask an admin to enable it."
	endedNotice    = "You were signed out. Sign in again to go on."
)

// currentAgent is the signed-in agent of a request that passed requireAgent.
func currentAgent(c echo.Context) kustomer.Agent { return c.Get(ctxAgent).(kustomer.Agent) }

// currentSessionID is the agent's session of a request that passed
// requireAgent.
func currentSessionID(c echo.Context) string { return c.Get(ctxAgentSession).(string) }

// requireAgent admits agents whose session is live: the cookie names a
// stored session that has not ended, of an active account. Others are sent
// to the sign-in page (page requests) or refused (actions and sockets), and
// their cookie forgets the session.
func (s *Server) requireAgent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		noStore(c)
		r := c.Request()
		if id, sid := s.sessions.Agent(r); id != "" {
			a, err := s.engine.AgentBySession(r.Context(), id, sid)
			if err == nil {
				c.Set(ctxAgent, a)
				c.Set(ctxAgentSession, sid)
				return next(c)
			}
			notice, ok := sessionEndedNotice(err)
			if !ok {
				return err
			}
			if err := s.sessions.ClearAgent(c.Response(), r, notice); err != nil {
				return err
			}
		}
		if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/ws") && !strings.HasSuffix(r.URL.Path, "/panel") && r.URL.Path != "/agent/inbox" {
			return c.Redirect(http.StatusSeeOther, "/agent/sign-in?next="+url.QueryEscape(r.URL.RequestURI()))
		}
		return &Error{Status: http.StatusForbidden, Code: "sign_in_required", Title: "Sign in required", Detail: "Sign in to the agent console first."}
	}
}

// sessionEndedNotice says why a session is not live; ok is false when err
// is not about the session (the store failed).
func sessionEndedNotice(err error) (notice string, ok bool) {
	switch {
	case errors.Is(err, kustomer.ErrAccountDisabled):
		return disabledNotice, true
	case errors.Is(err, kustomer.ErrSessionEnded):
		return endedNotice, true
	}
	return "", false
}

// requireAdmin admits admins only; it runs after requireAgent.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentAgent(c).Role != kustomer.RoleAdmin {
			return &Error{Status: http.StatusForbidden, Code: "admins_only", Title: "Admins only", Detail: "This page is for admins."}
		}
		return next(c)
	}
}

// sessionLive reports whether an agent's session may go on: false once it
// ended or the account was disabled. A failing store counts as live: the
// next check decides.
func (s *Server) sessionLive(ctx context.Context, agentID, sessionID string) bool {
	_, err := s.engine.AgentBySession(ctx, agentID, sessionID)
	_, ended := sessionEndedNotice(err)
	return !ended
}

// agentPage is the layout data of a console page. Admin pages also carry
// the banners of the webhook endpoints handoff disabled (one store read).
func (s *Server) agentPage(c echo.Context, title, nav string) views.AgentPage {
	a := currentAgent(c)
	p := views.AgentPage{Title: title, AgentName: a.Name, IsAdmin: a.Role == kustomer.RoleAdmin, Nav: nav,
		Notice: s.sessions.TakeNotice(c.Response(), c.Request()),
		Status: string(a.Status), StatusReason: a.StatusReason, AwayAfterMS: strconv.FormatInt(s.awayAfter().Milliseconds(), 10),
		Path: c.Request().URL.RequestURI()}
	if p.Status == "" {
		p.Status = string(kustomer.StatusOffline)
	}
	if p.IsAdmin && strings.HasPrefix(c.Path(), "/admin/") {
		p.WebhookAlerts = s.webhookAlerts(c)
	}
	return p
}

// signInShow renders the sign-in form.
func (s *Server) signInShow(c echo.Context) error {
	noStore(c)
	r := c.Request()
	notice := s.sessions.TakeNotice(c.Response(), r)
	if id, sid := s.sessions.Agent(r); id != "" {
		_, err := s.engine.AgentBySession(r.Context(), id, sid)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
		}
		// Sent here by a socket whose session ended: say why.
		var ok bool
		if notice, ok = sessionEndedNotice(err); !ok {
			return err
		}
		if err := s.sessions.ClearAgent(c.Response(), r, ""); err != nil {
			return err
		}
	}
	p := views.SignInPage{AgentPage: views.AgentPage{Title: "Sign in", Notice: notice}, Next: safeNext(c.QueryParam("next"))}
	return render(c, http.StatusOK, views.SignInView(p))
}

// signIn checks the credentials. Repeated failures are slowed down per
// account and per address.
func (s *Server) signIn(c echo.Context) error {
	noStore(c)
	r := c.Request()
	email := strings.ToLower(strings.TrimSpace(r.FormValue("email")))
	next := safeNext(r.FormValue("next"))
	p := views.SignInPage{AgentPage: views.AgentPage{Title: "Sign in"}, Email: email, Next: next}
	keys := []string{"email:" + email, "ip:" + clientKey(c)}
	if wait := s.signins.wait(keys...); wait > 0 {
		s.opts.Metrics.signInFailed("throttled")
		p.Error = fmt.Sprintf("Too many failed attempts. Try again in %s.", roundUp(wait))
		c.Response().Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds()+1)))
		return render(c, http.StatusTooManyRequests, views.SignInView(p))
	}
	a, err := s.engine.Authenticate(r.Context(), email, r.FormValue("password"))
	switch {
	case errors.Is(err, kustomer.ErrBadCredentials):
		s.signins.fail(keys...)
		s.opts.Metrics.signInFailed("bad_credentials")
		s.log.InfoContext(c.Request().Context(), "sign-in failed", "reason", "bad credentials", "ip", c.RealIP())
		p.Error = "The email or the password is wrong."
		return render(c, http.StatusUnauthorized, views.SignInView(p))
	case errors.Is(err, kustomer.ErrAccountDisabled):
		s.signins.fail(keys...)
		s.opts.Metrics.signInFailed("disabled")
		p.Error = "This account is disabled. Ask an admin to enable it."
		return render(c, http.StatusForbidden, views.SignInView(p))
	case err != nil:
		return err
	}
	s.signins.reset(keys[0])
	sess, err := s.engine.StartAgentSession(r.Context(), a.ID)
	if err != nil {
		return err
	}
	if err := s.sessions.SetAgent(c.Response(), r, a.ID, sess.ID); err != nil {
		return err
	}
	// Signing in is starting work: online, until the agent says otherwise.
	if _, err := s.engine.SetAgentStatus(r.Context(), a.ID, kustomer.StatusOnline, false); err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "signed in", "agent_id", a.ID)
	return c.Redirect(http.StatusSeeOther, next)
}

// signOut ends the agent's session in this browser: the stored session is
// deleted, so a copy of the cookie stops working too, and the session's
// sockets close. The agent's other sessions go on.
func (s *Server) signOut(c echo.Context) error {
	r := c.Request()
	if id, sid := s.sessions.Agent(r); id != "" {
		if err := s.engine.EndAgentSession(r.Context(), id, sid); err != nil {
			return err
		}
		s.log.InfoContext(c.Request().Context(), "signed out", "agent_id", id)
	}
	if err := s.sessions.ClearAgent(c.Response(), r, "You are signed out."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/agent/sign-in")
}

// safeNext keeps a post-sign-in destination only when it is a console path
// on this site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.IsAbs() || u.Host != "" || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") ||
		!(strings.HasPrefix(u.Path, "/agent") || strings.HasPrefix(u.Path, "/admin")) || strings.HasPrefix(u.Path, "/agent/sign-") {
		return "/agent"
	}
	return u.RequestURI()
}

func roundUp(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", int(d.Seconds()+0.999))
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()+0.999))
}

// throttle slows down repeated sign-in failures: after freeFailures within
// window, each further failure doubles the wait, up to maxWait.
type throttle struct {
	mu      sync.Mutex
	entries map[string]*failures
	now     func() time.Time
}

type failures struct {
	count int
	first time.Time
	until time.Time
}

const (
	freeFailures           = 5
	freeFailuresPerAddress = 20
	failureWindow          = 15 * time.Minute
	maxSignInWait          = 15 * time.Minute
	maxThrottleLen         = 100_000
)

func newThrottle() *throttle {
	return &throttle{entries: make(map[string]*failures), now: time.Now}
}

// wait returns how long the keys must still wait.
func (t *throttle) wait(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var longest time.Duration
	for _, k := range keys {
		if f := t.entries[k]; f != nil && f.until.After(now) {
			longest = max(longest, f.until.Sub(now))
		}
	}
	return longest
}

// fail records a failure for each key.
func (t *throttle) fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.entries) > maxThrottleLen {
		for k, f := range t.entries {
			if now.Sub(f.first) > failureWindow && f.until.Before(now) {
				delete(t.entries, k)
			}
		}
	}
	for _, k := range keys {
		f := t.entries[k]
		if f == nil || now.Sub(f.first) > failureWindow && f.until.Before(now) {
			f = &failures{first: now}
			t.entries[k] = f
		}
		f.count++
		free := freeFailures
		if strings.HasPrefix(k, "ip:") {
			free = freeFailuresPerAddress // an office shares one address
		}
		if f.count >= free {
			wait := time.Second << min(f.count-free, 10)
			f.until = now.Add(min(wait, maxSignInWait))
		}
	}
}

// reset forgets a key's failures.
func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, key)
}

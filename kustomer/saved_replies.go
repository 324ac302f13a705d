package kustomer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// SavedReply is a canned answer agents insert into the composer. A shared
// one (OwnerID "") is the team's: every agent uses it, admins manage it. A
// personal one is its owner's alone. Its body may hold placeholders (see
// ExpandReply), filled in for the conversation it is inserted into.
type SavedReply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Body  string `json:"body"`
	// OwnerID is the agent whose personal reply it is; "" for shared.
	OwnerID   string    `json:"ownerId,omitempty"`
	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Shared reports whether the reply belongs to the team.
func (r SavedReply) Shared() bool { return r.OwnerID == "" }

// Limits on saved replies.
const (
	MaxSavedReplyTitleLen = 80
	// MaxSharedReplies and MaxPersonalReplies bound how many the team and
	// each agent keep, so that the composer's list loads at once.
	MaxSharedReplies   = 500
	MaxPersonalReplies = 100
)

// SavedReplyInput is what an agent sets on a saved reply. Shared is only
// read on creation: a reply does not move between the team and a person.
type SavedReplyInput struct {
	Title  string
	Body   string
	Shared bool
}

// The placeholders a saved reply's body may hold, as {{name}} or, with a
// fallback for an empty value, {{name|fallback}}. Attributes are
// {{attributes.<key>}}, the conversation's custom attribute of that key.
var replyPlaceholders = []string{
	"customer.name", "customer.firstName", "customer.email",
	"agent.name", "agent.firstName", "form.title",
}

// ReplyPlaceholders lists the placeholders saved replies may use, for pages
// to show.
func ReplyPlaceholders() []string {
	return append(slices.Clone(replyPlaceholders), "attributes.<key>")
}

// ReplyContext is what a saved reply's placeholders are filled with.
type ReplyContext struct {
	CustomerName  string
	CustomerEmail string
	AgentName     string
	FormTitle     string
	Attributes    Attributes
}

// placeholder is one {{…}} of a body: its name and fallback, at
// [start, end).
type placeholder struct {
	name, fallback string
	start, end     int
}

// parsePlaceholders finds body's placeholders; it says what is wrong with
// the first malformed or unknown one.
func parsePlaceholders(body string) ([]placeholder, string) {
	var out []placeholder
	for i := 0; ; {
		j := strings.Index(body[i:], "{{")
		if j < 0 {
			return out, ""
		}
		start := i + j
		k := strings.Index(body[start+2:], "}}")
		if k < 0 {
			return nil, "has a {{ without its }}"
		}
		end := start + 2 + k + 2
		inner := body[start+2 : end-2]
		name, fallback, _ := strings.Cut(inner, "|")
		name = strings.TrimSpace(name)
		if strings.Contains(name, "{") {
			return nil, "has a {{ without its }}"
		}
		key, isAttr := strings.CutPrefix(name, "attributes.")
		if !(isAttr && key != "" && !strings.ContainsAny(key, " \t\n")) && !slices.Contains(replyPlaceholders, name) {
			return nil, fmt.Sprintf("uses {{%s}}, which is not a placeholder (use %s)", name, strings.Join(ReplyPlaceholders(), ", "))
		}
		out = append(out, placeholder{name: name, fallback: strings.TrimSpace(fallback), start: start, end: end})
		i = end
	}
}

// ExpandReply fills body's placeholders from rc: an empty value takes the
// placeholder's fallback. A body that does not parse is returned as is.
func ExpandReply(body string, rc ReplyContext) string {
	ps, problem := parsePlaceholders(body)
	if problem != "" || len(ps) == 0 {
		return body
	}
	var b strings.Builder
	last := 0
	for _, p := range ps {
		b.WriteString(body[last:p.start])
		v := rc.value(p.name)
		if v == "" {
			v = p.fallback
		}
		b.WriteString(v)
		last = p.end
	}
	b.WriteString(body[last:])
	return b.String()
}

// value is one placeholder's value.
func (rc ReplyContext) value(name string) string {
	switch name {
	case "customer.name":
		return rc.CustomerName
	case "customer.firstName":
		return firstName(rc.CustomerName)
	case "customer.email":
		return rc.CustomerEmail
	case "agent.name":
		return rc.AgentName
	case "agent.firstName":
		return firstName(rc.AgentName)
	case "form.title":
		return rc.FormTitle
	}
	if key, ok := strings.CutPrefix(name, "attributes."); ok {
		if v, ok := rc.Attributes[key]; ok && v != nil {
			return fmt.Sprint(v)
		}
	}
	return ""
}

// firstName is the first word of a name.
func firstName(name string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(name), " ")
	return first
}

// checkSavedReply cleans and checks in's title and body.
func checkSavedReply(in *SavedReplyInput) error {
	verr := &ValidationError{}
	in.Title = strings.TrimSpace(in.Title)
	in.Body = strings.TrimSpace(strings.ReplaceAll(in.Body, "\r\n", "\n"))
	switch n := utf8.RuneCountInString(in.Title); {
	case n == 0:
		verr.Add("title", "is required")
	case n > MaxSavedReplyTitleLen:
		verr.Add("title", fmt.Sprintf("must be at most %d characters (it has %d)", MaxSavedReplyTitleLen, n))
	case !utf8.ValidString(in.Title) || strings.ContainsAny(in.Title, "\n\r\x00"):
		verr.Add("title", "must be one line of text")
	}
	switch n := utf8.RuneCountInString(in.Body); {
	case n == 0:
		verr.Add("body", "is required")
	case n > MaxBodyLen:
		verr.Add("body", fmt.Sprintf("must be at most %d characters (it has %d)", MaxBodyLen, n))
	case !utf8.ValidString(in.Body) || strings.ContainsRune(in.Body, 0):
		verr.Add("body", "must be text")
	default:
		if _, problem := parsePlaceholders(in.Body); problem != "" {
			verr.Add("body", problem)
		}
	}
	return verr.OrNil()
}

// MayManageReply reports whether by may change or delete r: its owner, or
// an admin for a shared one.
func MayManageReply(by Agent, r SavedReply) bool {
	if by.Disabled {
		return false
	}
	if r.Shared() {
		return by.Role == RoleAdmin
	}
	return r.OwnerID == by.ID
}

// SavedReplies lists the replies by may use: the team's and their own,
// by title.
func (e *Engine) SavedReplies(ctx context.Context, by Agent) ([]SavedReply, error) {
	if by.Disabled || by.ID == "" {
		return nil, fmt.Errorf("saved replies: %w", ErrForbidden)
	}
	return e.store.SavedReplies(ctx, by.ID)
}

// SavedReply returns one reply by may use.
func (e *Engine) SavedReply(ctx context.Context, by Agent, id string) (SavedReply, error) {
	if !ValidID(id) {
		return SavedReply{}, fmt.Errorf("saved reply %q: %w", id, ErrNotFound)
	}
	r, err := e.store.SavedReply(ctx, id)
	if err != nil {
		return SavedReply{}, err
	}
	if !r.Shared() && r.OwnerID != by.ID {
		// Another agent's personal reply: not there, as far as by knows.
		return SavedReply{}, fmt.Errorf("saved reply %q: %w", id, ErrNotFound)
	}
	return r, nil
}

// CreateSavedReply adds a reply: a shared one (admins only) or one of by's
// own.
func (e *Engine) CreateSavedReply(ctx context.Context, by Agent, in SavedReplyInput) (SavedReply, error) {
	now := e.now()
	r := SavedReply{ID: NewID(), CreatedBy: by.ID, CreatedAt: now, UpdatedAt: now}
	if !in.Shared {
		r.OwnerID = by.ID
	}
	if !MayManageReply(by, r) {
		return SavedReply{}, fmt.Errorf("create shared reply: %w", ErrForbidden)
	}
	if err := checkSavedReply(&in); err != nil {
		return SavedReply{}, err
	}
	r.Title, r.Body = in.Title, in.Body
	audit := e.newAudit(by.Actor(), AuditSavedReplies, r.ID, r.Title, AuditCreated)
	audit.change("scope", "", replyScope(r))
	audit.change("body", "", r.Body)
	limit := MaxPersonalReplies
	if r.Shared() {
		limit = MaxSharedReplies
	}
	if err := e.store.CreateSavedReply(ctx, r, limit, audit); err != nil {
		return SavedReply{}, replyTitleTaken(err, r)
	}
	return r, nil
}

// UpdateSavedReply changes a reply's title and body.
func (e *Engine) UpdateSavedReply(ctx context.Context, by Agent, id string, in SavedReplyInput) (SavedReply, error) {
	r, err := e.SavedReply(ctx, by, id)
	if err != nil {
		return SavedReply{}, err
	}
	if !MayManageReply(by, r) {
		return SavedReply{}, fmt.Errorf("update saved reply: %w", ErrForbidden)
	}
	if err := checkSavedReply(&in); err != nil {
		return SavedReply{}, err
	}
	audit := e.newAudit(by.Actor(), AuditSavedReplies, r.ID, r.Title, AuditUpdated)
	audit.change("title", r.Title, in.Title)
	audit.change("body", r.Body, in.Body)
	if len(audit.Changes) == 0 {
		return r, nil
	}
	r.Title, r.Body, r.UpdatedAt = in.Title, in.Body, e.now()
	if err := e.store.UpdateSavedReply(ctx, r, audit); err != nil {
		return SavedReply{}, replyTitleTaken(err, r)
	}
	return r, nil
}

// DeleteSavedReply deletes a reply.
func (e *Engine) DeleteSavedReply(ctx context.Context, by Agent, id string) error {
	r, err := e.SavedReply(ctx, by, id)
	if err != nil {
		return err
	}
	if !MayManageReply(by, r) {
		return fmt.Errorf("delete saved reply: %w", ErrForbidden)
	}
	audit := e.newAudit(by.Actor(), AuditSavedReplies, r.ID, r.Title, AuditDeleted)
	audit.change("scope", replyScope(r), "")
	return e.store.DeleteSavedReply(ctx, r.ID, audit)
}

// replyTitleTaken turns the store's title_taken conflict into a problem
// with the title.
func replyTitleTaken(err error, r SavedReply) error {
	var cerr *ConflictError
	if !errors.As(err, &cerr) || cerr.Code != "title_taken" {
		return err
	}
	msg := "you have a reply with this title already"
	if r.Shared() {
		msg = "the team has a reply with this title already"
	}
	return &ValidationError{Fields: map[string]string{"title": msg}}
}

// replyScope says whose a reply is, for the audit log.
func replyScope(r SavedReply) string {
	if r.Shared() {
		return "team"
	}
	return "personal"
}

package views

import (
	"encoding/json"
	"github.com/handoff/handoff/views/locale"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// siteName is the brand shown in the header and page titles.
const siteName = "handoff"

// documentTitle is the text of <title>: the page's own title, then the brand.
func documentTitle(p Page) string {
	if p.Title == "" {
		return siteName
	}
	return p.Title + " · " + siteName
}

// orDefault returns s, or fallback when s is empty.
func orDefault(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// plural returns "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// fieldID is the id of a field's input; labels point at it.
func fieldID(f FieldView) string { return "field-" + f.Name }

// errorID is the id of the paragraph holding a field's error.
func errorID(f FieldView) string { return "error-" + f.Name }

// helpID is the id of the paragraph holding a field's help text.
func helpID(f FieldView) string { return "help-" + f.Name }

// describedBy lists the ids that describe a field: its help, then its error.
func describedBy(f FieldView) string {
	var ids []string
	if f.Help != "" {
		ids = append(ids, helpID(f))
	}
	if f.Error != "" {
		ids = append(ids, errorID(f))
	}
	return strings.Join(ids, " ")
}

// inputType is the type attribute of a single-line input; unknown types
// fall back to text.
func inputType(f FieldView) string {
	switch f.Type {
	case "email", "url", "tel", "number":
		return f.Type
	default:
		return "text"
	}
}

// autocomplete suggests the browser's autofill hint for common fields.
func autocomplete(f FieldView) string {
	switch f.Type {
	case "email":
		return "email"
	case "tel":
		return "tel"
	case "url":
		return "url"
	}
	switch strings.ToLower(f.Name) {
	case "name", "fullname", "full_name":
		return "name"
	case "company", "organization", "organisation":
		return "organization"
	}
	return ""
}

// optionSelected reports whether an option is the field's current choice.
func optionSelected(f FieldView, o OptionView) bool {
	return o.Selected || (f.Value != "" && o.Value == f.Value)
}

// fieldErrors returns the fields that carry an error, in form order.
func fieldErrors(fields []FieldView) []FieldView {
	var out []FieldView
	for _, f := range fields {
		if f.Error != "" {
			out = append(out, f)
		}
	}
	return out
}

// messageClass is the class list of a message item.
func messageClass(m MessageView) string {
	c := "msg msg-" + orDefault(m.Direction, "in") + " msg-" + orDefault(m.AuthorType, "customer")
	if m.Mine {
		c += " msg-mine"
	}
	if m.Grouped {
		c += " msg-grouped"
	}
	if m.Private {
		c += " msg-private"
	}
	if m.Relaying {
		c += " msg-relaying"
	}
	return c
}

// authorLabel is the name shown above a message.
func authorLabel(m MessageView) string {
	switch {
	case m.Mine:
		return m.L.T("js.you")
	case m.AuthorType == "agent":
		return orDefault(m.AuthorName, m.L.T("js.support"))
	case m.AuthorType == "assistant":
		return orDefault(m.AuthorName, m.L.T("chat.assistant"))
	default:
		return orDefault(m.AuthorName, m.L.T("js.customer"))
	}
}

// eventText is a system message's text in the reader's language: its
// event's, when it names one the catalogs know, else its stored body.
func eventText(m MessageView) string {
	if m.Event == nil {
		return m.Body
	}
	return EventText(m.L, m.Event.Code, m.Event.Params, m.Body)
}

// EventText is a system event's sentence in l's language, for the events
// the catalogs know; body (the stored English) for the others.
func EventText(l *locale.Localizer, code string, params map[string]string, body string) string {
	if code == "" {
		return body
	}
	id := "event." + code
	if s := l.Tf(id, map[string]any{"Name": params["name"], "Team": params["team"]}); s != id {
		return s
	}
	return body
}

// authorKey tells one author's messages from another's, for grouping
// consecutive ones: the kind and the name shown (no internal id).
func authorKey(m MessageView) string {
	if m.AuthorType == "system" {
		return ""
	}
	return m.AuthorType + ":" + m.AuthorName
}

// initials are up to two letters of a name, for an avatar without a
// picture: "Grace Hopper" → "GH".
func initials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		for _, r := range w {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				out = append(out, unicode.ToUpper(r))
				break
			}
		}
		if len(out) == 2 {
			break
		}
	}
	return string(out)
}

// questionLive reports whether m's question can be answered from this view:
// it is the question the assistant waits for, and the viewer is the
// customer (the console shows the question, spent).
func questionLive(m MessageView) bool { return m.Question != nil && m.Question.Live && !m.AgentView }

// answerInputType is the input type of a typed answer to an assistant's
// question; unknown types fall back to text. Numbers and yes/no answers have
// their own markup.
func answerInputType(t string) string {
	switch t {
	case "email", "url", "number":
		return t
	case "datetime":
		return "datetime-local"
	default:
		return "text"
	}
}

// isoTime formats t for a datetime attribute.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// clock formats t as the hour and minute shown beside a message.
func clock(t time.Time) string { return t.UTC().Format("15:04") }

// dateTime formats t for lists and titles.
func dateTime(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") }

// itoa formats n for an attribute.
func itoa[T int | int64](n T) string { return strconv.FormatInt(int64(n), 10) }

// boolAttr formats b for a data attribute.
func boolAttr(b bool) string { return strconv.FormatBool(b) }

// pageNumber is the current page, at least 1.
func pageNumber(p Pager) int { return max(p.Current, 1) }

// errorHeading is the page heading for an error, defaulting to the status text.
func errorHeading(p ErrorPage) string {
	if p.Heading != "" {
		return p.Heading
	}
	if s := http.StatusText(p.Status); s != "" {
		return s
	}
	return "Something went wrong"
}

// consoleName is the brand of the agent console.
const consoleName = "handoff console"

// agentDocumentTitle is the <title> of a console page.
func agentDocumentTitle(p AgentPage) string {
	if p.Title == "" {
		return consoleName
	}
	return p.Title + " · " + consoleName
}

// shortDuration formats d for people: "<1 min", "3 min", "2 h 5 min",
// "3 d 4 h". static/js/agent.js formats the live waiting time the same way.
func shortDuration(d time.Duration) string {
	m := int(d / time.Minute)
	switch {
	case m < 1:
		return "<1 min"
	case m < 60:
		return strconv.Itoa(m) + " min"
	case m < 24*60:
		s := strconv.Itoa(m/60) + " h"
		if m%60 != 0 {
			s += " " + strconv.Itoa(m%60) + " min"
		}
		return s
	default:
		s := strconv.Itoa(m/(24*60)) + " d"
		if h := m % (24 * 60) / 60; h != 0 {
			s += " " + strconv.Itoa(h) + " h"
		}
		return s
	}
}

// seconds formats d as whole seconds for a data attribute.
func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// waitingLabel is the inbox's waiting time of a row.
func waitingLabel(r InboxRow) string {
	if !r.Waiting {
		return "answered"
	}
	return "waiting " + shortDuration(r.WaitingFor)
}

// inboxRowClass is the class list of an inbox row.
func inboxRowClass(r InboxRow) string {
	c := "inbox-row"
	if r.Overdue {
		c += " overdue"
	}
	if r.Unread > 0 {
		c += " unread"
	}
	if r.Ended {
		c += " inbox-ended"
	}
	return c
}

// stars draws a rating out of five: "★★★★☆".
func stars(n int) string {
	n = min(max(n, 0), 5)
	return strings.Repeat("★", n) + strings.Repeat("☆", 5-n)
}

// jsWordKeys are the texts the customer's page scripts show, by the key
// they use; each is catalog message js.<key>, and "ended" is chat.ended.
var jsWordKeys = []string{"reconnecting", "connecting", "live", "error", "support", "customer", "you", "waiting",
	"sending", "relaying", "retry", "edit", "ended_status", "seen", "too_long", "not_sent", "upload_failed", "upload_offline", "typing", "tab_notice", "back_to_form"}

// jsWords are the scripts' texts in l's language, as the JSON the page
// carries in <meta name="handoff-words"> (data, not an inline script).
func jsWords(l *locale.Localizer) string {
	out := make(map[string]string, len(jsWordKeys)+1)
	for _, k := range jsWordKeys {
		out[k] = l.T("js." + k)
	}
	out["ended"] = l.T("chat.ended")
	b, _ := json.Marshal(out) // strings always encode
	return string(b)
}

// ratingWordIDs are the catalog's words for each rating, from 1 to 5.
var ratingWordIDs = [...]string{1: "rating.very_poor", 2: "rating.poor", 3: "rating.ok", 4: "rating.good", 5: "rating.excellent"}

// ratingWord is the catalog id of rating n's word.
func ratingWord(n int) string {
	if n < 1 || n >= len(ratingWordIDs) {
		return ""
	}
	return ratingWordIDs[n]
}

// ratingLabel is the accessible text of a rating: "4 out of 5".
func ratingLabel(n int) string { return strconv.Itoa(n) + " out of 5" }

// ratingChoices are the values of the rating form, lowest first.
var ratingChoices = []int{1, 2, 3, 4, 5}

// showRatingForm reports whether the chat page carries the rating form
// (shown once the conversation has ended, hidden before).
func showRatingForm(p ChatPage) bool { return p.RatingURL != "" && p.Satisfaction == nil }

// firstResponse says how long the first answer took.
func firstResponse(p ConversationPanel) string {
	if p.FirstResponseAt == nil {
		return "No answer yet"
	}
	if p.CreatedAt.IsZero() || p.FirstResponseAt.Before(p.CreatedAt) {
		return "Answered"
	}
	return "after " + shortDuration(p.FirstResponseAt.Sub(p.CreatedAt))
}

// attrFieldID is the id of a custom attribute's input.
func attrFieldID(a AttributeField) string { return "attr-field-" + a.Name }

// attrErrorID is the id of the paragraph holding an attribute's error.
func attrErrorID(a AttributeField) string { return "attr-error-" + a.Name }

// attrInputType is the input type of a single-line attribute.
func attrInputType(a AttributeField) string {
	switch a.Type {
	case "Url":
		return "url"
	case "Num":
		return "number"
	default:
		return "text"
	}
}

// agentFieldID is the id of an input of the agent form.
func agentFieldID(field string) string { return "agent-field-" + field }

// profileDescribedBy lists the ids describing a profile field: its help,
// then its error.
func profileDescribedBy(p ProfilePage, field string) string {
	var ids []string
	if field != "current" {
		ids = append(ids, "profile-help-"+field)
	}
	if p.Errors[field] != "" {
		ids = append(ids, "profile-error-"+field)
	}
	return strings.Join(ids, " ")
}

// agentDescribedBy lists the ids describing a field of the agent form: the
// password's help on the edit page, then the field's error.
func agentDescribedBy(f AgentForm, field string) string {
	var ids []string
	if field == "password" && f.Editing {
		ids = append(ids, "agent-help-password")
	}
	if f.Errors[field] != "" {
		ids = append(ids, "agent-error-"+field)
	}
	return strings.Join(ids, " ")
}

// roleChoices are the roles of an agent account.
var roleChoices = []OptionView{{Value: "agent", Label: "Agent"}, {Value: "admin", Label: "Admin"}}

// roleLabel is the display name of a role.
func roleLabel(role string) string {
	for _, o := range roleChoices {
		if o.Value == role {
			return o.Label
		}
	}
	return role
}

// auditTime is when a change was recorded, as the audit log shows it.
func auditTime(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") }

// assistantSource says where a form's assistant comes from: handoff.yaml, or
// an operator (with the default it replaced).
func assistantSource(f AdminForm) string {
	if !f.Overridden {
		return "(default from handoff.yaml)"
	}
	return "(chosen by an operator; default: " + orDefault(f.DefaultID, "none") + ")"
}

// assistantOptionLabel is the text of one choice of the assistant select;
// the empty choice reads "None".
func assistantOptionLabel(o OptionView) string {
	if o.Label != "" {
		return o.Label
	}
	return orDefault(o.Value, "None")
}

// fileSize formats a file's size for people: bytes, KB or MB.
func fileSize(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " bytes"
	case n < 1000<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 0, 64) + " KB"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
}

// attachAccept hints the file picker at the types the server accepts; the
// server decides by content, whatever the picker offered.
const attachAccept = "image/jpeg,image/png,image/gif,image/webp,application/pdf,video/mp4,video/quicktime,text/plain"

// noteText is what the note's box holds: a refused draft, else the note.
func noteText(p ConversationPanel) string {
	if p.NoteError != "" || p.Note == nil {
		return p.NoteDraft
	}
	return p.Note.Text
}

// ttrTypeLabel names a time-to-respond type for the console.
func ttrTypeLabel(t string) string {
	switch t {
	case "PRIORITIZED":
		return "Prioritized"
	case "URGENT":
		return "Urgent"
	case "CUSTOM":
		return "Custom"
	}
	return "Normal"
}

// presenceLabel names an agent's presence.
func presenceLabel(p string) string {
	switch p {
	case "online":
		return "Online"
	case "away":
		return "Away"
	}
	return "Offline"
}

package views

import (
	"net/http"
	"strconv"
	"strings"
	"time"
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

// errorSummary is the sentence heading the list of field errors.
func errorSummary(n int) string {
	if n == 1 {
		return "Please fix the 1 highlighted field"
	}
	return "Please fix the " + strconv.Itoa(n) + " highlighted fields"
}

// messageClass is the class list of a message item.
func messageClass(m MessageView) string {
	c := "msg msg-" + orDefault(m.Direction, "in") + " msg-" + orDefault(m.AuthorType, "customer")
	if m.Mine {
		c += " msg-mine"
	}
	return c
}

// authorLabel is the name shown above a message.
func authorLabel(m MessageView) string {
	switch {
	case m.Mine:
		return "You"
	case m.AuthorType == "agent" || m.AuthorType == "assistant":
		return orDefault(m.AuthorName, "Support")
	default:
		return orDefault(m.AuthorName, "Customer")
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

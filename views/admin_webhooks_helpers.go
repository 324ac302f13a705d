package views

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// withPeriod ends s with a full stop, unless it already ends a sentence.
func withPeriod(s string) string {
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

// capitalize starts s with a capital letter.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// eventSlug makes an event type usable in an element id.
func eventSlug(t string) string { return strings.NewReplacer(".", "-", "_", "-").Replace(t) }

// webhookDescribedBy lists the ids that describe a field of the endpoint
// form: its help, when it has one, and its error.
func webhookDescribedBy(f WebhookForm, field string, help bool) string {
	var ids []string
	if help {
		ids = append(ids, "webhook-help-"+field)
	}
	if f.Errors[field] != "" {
		ids = append(ids, "webhook-error-"+field)
	}
	return strings.Join(ids, " ")
}

// countNumber is n, with "+" when there were more than counted.
func countNumber(n int, capped bool) string {
	s := strconv.Itoa(n)
	if capped {
		s += "+"
	}
	return s
}

// countLabel is "1 thing", "n things" or "n+ things".
func countLabel(n int, capped bool, one, many string) string {
	if n == 1 && !capped {
		return "1 " + one
	}
	return countNumber(n, capped) + " " + many
}

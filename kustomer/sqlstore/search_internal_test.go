package sqlstore

import (
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer"
)

// TestExcerpt: the words a search's terms begin are marked as SQLite's
// tokenizer compares them (case and accents aside), and a long message is
// cut around the first.
func TestExcerpt(t *testing.T) {
	mark := func(s string) string {
		return strings.NewReplacer(kustomer.MatchStart, "[", kustomer.MatchEnd, "]").Replace(s)
	}
	long := strings.Repeat("lorem ", 30) + "the Refund arrived " + strings.Repeat("ipsum ", 30)
	for _, c := range []struct {
		text  string
		terms []string
		want  string
	}{
		{"I would like a refund, please.", []string{"refu"}, "I would like a [refund], please."},
		{"Café crème at the CAFETERIA", []string{"cafe"}, "[Café] crème at the [CAFETERIA]"},
		{"ada@example.com wrote", []string{"ada", "example"}, "[ada]@[example].com wrote"},
		{"no match here", []string{"zebra"}, "no match here"},
		{long, []string{"refund"}, "… lorem lorem lorem lorem the [Refund] arrived ipsum ipsum ipsum ipsum ipsum ipsum ipsum ipsum ipsum ipsum ipsum ipsum ipsum …"},
	} {
		if got := mark(excerpt(c.text, c.terms)); got != c.want {
			t.Errorf("excerpt(%.30q, %q)\n got %q\nwant %q", c.text, c.terms, got, c.want)
		}
	}
}

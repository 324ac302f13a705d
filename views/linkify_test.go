package views

import (
	"strings"
	"testing"
)

func TestLinkify(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []segment
	}{
		{"no links here", []segment{{Text: "no links here"}}},
		{"see https://example.com/a?b=1.", []segment{{Text: "see "}, {Text: "https://example.com/a?b=1", URL: "https://example.com/a?b=1"}, {Text: "."}}},
		{"(http://x.org/y) and https://z.io", []segment{{Text: "("}, {Text: "http://x.org/y", URL: "http://x.org/y"}, {Text: ") and "}, {Text: "https://z.io", URL: "https://z.io"}}},
		{"javascript:alert(1) ftp://files.example.com www.example.com", []segment{{Text: "javascript:alert(1) ftp://files.example.com www.example.com"}}},
		{"", []segment{{Text: ""}}},
	} {
		got := linkify(tt.in)
		if len(got) != len(tt.want) {
			t.Errorf("linkify(%q) = %+v, want %+v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("linkify(%q)[%d] = %+v, want %+v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

func TestMessageLinks(t *testing.T) {
	_, html := render(t, MessageItem(MessageView{ID: "m1", Seq: 1, Body: `read https://example.com/guide?a=1&b=<2> now`, Direction: "out", AuthorType: "agent", AuthorName: "Grace"}))
	want := `read <a href="https://example.com/guide?a=1&amp;b=" target="_blank" rel="noopener nofollow ugc" data-testid="message-link">https://example.com/guide?a=1&amp;b=</a>&lt;2&gt; now`
	if !strings.Contains(html, want) {
		t.Errorf("message with a link:\n%s\nwant it to contain\n%s", html, want)
	}
}

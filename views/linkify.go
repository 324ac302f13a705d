package views

import (
	"regexp"
	"strings"

	"mvdan.cc/xurls/v2"
)

// linkRE finds web addresses (http and https only) in message text; xurls
// keeps trailing punctuation and unbalanced brackets out of them.
var linkRE = func() *regexp.Regexp {
	re, err := xurls.StrictMatchingScheme(`https?://`)
	if err != nil {
		panic(err)
	}
	return re
}()

// segment is a run of message text, or a link when URL is set.
type segment struct {
	Text string
	URL  string
}

// linkify splits text into plain runs and web addresses, so that a message
// shows its links as links on every page, with or without JavaScript.
func linkify(text string) []segment {
	if !strings.Contains(text, "://") {
		// Every address linkRE finds names its scheme: most messages
		// have none, and skip the expression.
		return []segment{{Text: text}}
	}
	locs := linkRE.FindAllStringIndex(text, -1)
	if len(locs) == 0 {
		return []segment{{Text: text}}
	}
	out := make([]segment, 0, 2*len(locs)+1)
	at := 0
	for _, l := range locs {
		if l[0] > at {
			out = append(out, segment{Text: text[at:l[0]]})
		}
		u := text[l[0]:l[1]]
		out = append(out, segment{Text: u, URL: u})
		at = l[1]
	}
	if at < len(text) {
		out = append(out, segment{Text: text[at:]})
	}
	return out
}

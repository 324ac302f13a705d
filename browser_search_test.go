package main

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
)

// searchResult is one row of the inbox's search results as the page shows
// it: where it matched and the words marked.
type searchResult struct {
	ID     string   `json:"id"`
	Label  string   `json:"label"`
	Marked []string `json:"marked"`
}

// searchResults reads the inbox's rows with their matches.
func (p *tab) searchResults() []searchResult {
	p.t.Helper()
	return runAction(p, "read the search results", chromedp.Evaluate[[]searchResult](`Array.from(document.querySelectorAll('#inbox-list [data-testid="inbox-row"]')).map(r => {
		const m = r.querySelector('[data-testid="inbox-match"]');
		return {
			id: r.dataset.conversationId || "",
			label: m ? m.querySelector('.inbox-match-label').textContent.trim() : "",
			marked: m ? Array.from(m.querySelectorAll('mark')).map(el => el.textContent) : [],
		};
	})`))
}

// search types q into the inbox's search box and submits it.
func (p *tab) search(q string) {
	p.t.Helper()
	p.do("type the search "+q, chromedp.Clear(tid("inbox-search")), chromedp.SendKeys(tid("inbox-search"), q))
	res := p.navigate("search for "+q, chromedp.Click(tid("filter-submit")))
	if res.Status != http.StatusOK || p.path() != "/agent" {
		p.fatalf("search %q: on %s with status %d, want /agent with 200", q, p.path(), res.Status)
	}
}

// TestBrowserInboxSearch: an agent finds conversations from the inbox by a
// word of a message, of the customer's name or of an attribute, with the
// matching words marked; the search stays when the queue changes, shows
// what it searched for, and is cleared with one link.
func TestBrowserInboxSearch(t *testing.T) {
	srv := startServer(t)
	browser := newBrowser(t)
	browser.signIn(srv, testAdminEmail, testAdminPassword)

	customer := browser.isolatedTab()
	parcel := customer.startConversation(srv, contactForm{Name: "Priya Patel", Email: "priya@example.com", Topic: "order", OrderNumber: "A-10042",
		Message: "My parcel never arrived and I would like a refund."})
	other := browser.isolatedTab()
	invoice := other.startConversation(srv, contactForm{Name: "Charles Babbage", Email: "charles@engine.example", Topic: "billing", Message: "Where can I download my invoices?"})

	agent := browser
	agent.open(srv, "/agent?queue=open", http.StatusOK)
	agent.search("REFUND")
	if got := agent.searchResults(); len(got) != 1 || got[0].ID != parcel || got[0].Label != "Message:" || !slices.Equal(got[0].Marked, []string{"refund"}) {
		agent.fatalf("results for REFUND = %+v, want only %s, its message with \"refund\" marked", got, parcel)
	}
	if v := runAction(agent, "read the search box", chromedp.Value(tid("inbox-search"))); v != "REFUND" {
		agent.fatalf("the search box holds %q after the search, want REFUND", v)
	}
	if got := agent.text(tid("inbox-total")); got != `1 conversation match “REFUND” · Clear search` {
		agent.fatalf("inbox total = %q", got)
	}

	// A prefix of the customer's name, and words from two places at once.
	agent.search("babb")
	if got := agent.searchResults(); len(got) != 1 || got[0].ID != invoice || got[0].Label != "Customer:" || !slices.Equal(got[0].Marked, []string{"Babbage"}) {
		agent.fatalf("results for babb = %+v, want only %s, its customer with \"Babbage\" marked", got, invoice)
	}
	agent.search("priya parcel")
	if got := agent.searchResults(); len(got) != 1 || got[0].ID != parcel {
		agent.fatalf("results for \"priya parcel\" = %+v, want only %s", got, parcel)
	}
	agent.search("10042")
	if got := agent.searchResults(); len(got) != 1 || got[0].ID != parcel || got[0].Label != "Attributes:" || !slices.Equal(got[0].Marked, []string{"10042"}) {
		agent.fatalf("results for 10042 = %+v, want only %s, by its order number", got, parcel)
	}

	// The search stays across queues.
	agent.clickTo("open the Ended queue", tid("queue-ended"), "/agent")
	u, err := url.Parse(runAction(agent, "read the address", chromedp.Evaluate[string](`location.href`)))
	if err != nil || u.Query().Get("q") != "10042" || u.Query().Get("queue") != "ended" {
		agent.fatalf("the Ended queue's address is %v (%v), want queue=ended and q=10042", u, err)
	}
	agent.waitFor("no ended conversation matches", `!!document.querySelector('[data-testid="inbox-empty"]')`)
	if got := agent.text(tid("inbox-empty")); got != "No conversation in this queue matches your search." {
		agent.fatalf("empty ended queue says %q", got)
	}

	// Clearing the search lists the queue again.
	agent.clickTo("open the All open queue", tid("queue-open"), "/agent")
	agent.clickTo("clear the search", tid("inbox-search-clear"), "/agent")
	var ids []string
	for _, r := range agent.searchResults() {
		ids = append(ids, r.ID)
	}
	if len(ids) != 2 || !slices.Contains(ids, parcel) || !slices.Contains(ids, invoice) {
		agent.fatalf("after clearing the search the open queue lists %v, want both conversations", ids)
	}

	// Nothing to search for is said, with the input kept.
	agent.search("!!!")
	if got := agent.text(tid("inbox-search-error")); got != "Type a word or a number to search for." {
		agent.fatalf("search error = %q", got)
	}
	if v := runAction(agent, "read the search box", chromedp.Value(tid("inbox-search"))); v != "!!!" {
		agent.fatalf("the search box holds %q, want the query kept", v)
	}
}

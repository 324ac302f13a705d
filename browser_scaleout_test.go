package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/handoff/handoff/kustomer/sqlstore/sqlstoretest"
)

// customerSockets reads how many customer sockets an instance holds.
func customerSockets(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, `handoff_open_sockets{kind="customer"} `) {
			return strings.TrimPrefix(line, `handoff_open_sockets{kind="customer"} `)
		}
	}
	return "0"
}

// TestBrowserScaleOutBehindNginx: Debian's nginx balances two instances on
// one PostgreSQL database. In Chromium a customer fills the form and chats
// through nginx; the agent's reply is sent through the instance that does
// not hold the customer's socket and shows live; the customer's answer is
// stored once.
func TestBrowserScaleOutBehindNginx(t *testing.T) {
	env := sharedEnv(sqlstoretest.PostgresURL(t))
	delete(env, "HANDOFF_BASE_URL") // the site is whatever Host nginx passes on
	env["HANDOFF_TRUSTED_PROXIES"] = "127.0.0.1/32"
	a := startRun(t, t.TempDir(), env)
	b := startRun(t, t.TempDir(), env)
	site := &testServer{URL: "http://" + startNginx(t, strings.TrimPrefix(a.base, "http://"), strings.TrimPrefix(b.base, "http://"))}

	p := newBrowser(t)
	id := p.startConversation(site, contactForm{Name: "Noor", Email: "noor@example.com", Topic: "billing", Message: "Charged twice this month"})
	p.waitLive()
	var other *runningServer
	switch {
	case customerSockets(t, a.base) == "1" && customerSockets(t, b.base) == "0":
		other = b
	case customerSockets(t, b.base) == "1" && customerSockets(t, a.base) == "0":
		other = a
	default:
		t.Fatalf("customer sockets: A %s, B %s; want the one socket on one instance", customerSockets(t, a.base), customerSockets(t, b.base))
	}
	if _, err := orgSend(t, other.base, id, "Refund on its way"); err != nil {
		t.Fatal(err)
	}
	p.waitFor("the reply from the other instance shows live", messageIsShownJS("Refund on its way", "out"))
	p.do("answer", chromedp.SendKeys(tid("composer-body"), "Thank you!"), chromedp.Click(tid("send")))
	p.waitFor("the customer's answer is acknowledged", messageIsShownJS("Thank you!", "in"))
	var stored struct {
		Messages []struct{ Body, Direction string }
	}
	req, _ := http.NewRequest(http.MethodGet, other.base+"/api/v1/org/conversations/"+id+"/messages", nil)
	req.Header.Set("Authorization", "Bearer "+scaleToken)
	res, err := apiClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&stored); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range stored.Messages {
		bodies = append(bodies, m.Body)
	}
	if got := strings.Join(bodies, " | "); got != "Charged twice this month | Refund on its way | Thank you!" {
		t.Errorf("stored thread: %s", got)
	}
}

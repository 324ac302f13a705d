package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// orgJSON calls the organization API and decodes its answer into out.
func orgJSON(t *testing.T, base, method, path, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, base+"/api/v1/org"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+followUpToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := apiClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
	}
	return res.StatusCode
}

// TestRunWebhooks runs the server with a real receiver registered through
// the organization API: while the receiver holds the first delivery
// unanswered, the chat goes on (an agent's reply reaches the customer's
// socket); once it answers, every event arrives signed, in order, a
// refused one again after its retry, and the delivery log shows each
// attempt. The endpoint's secret and the token in its URL never reach the
// log.
func TestRunWebhooks(t *testing.T) {
	type hit struct {
		header http.Header
		body   []byte
	}
	var (
		mu      sync.Mutex
		hits    []hit
		n       int
		release = make(chan struct{})
		arrived = make(chan struct{}, 100)
		held    = make(chan struct{}, 1)
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		if k == 1 {
			held <- struct{}{}
			<-release // the first delivery waits for the test
		}
		if k == 3 {
			w.WriteHeader(http.StatusInternalServerError) // the reply's first attempt fails
			arrived <- struct{}{}
			return
		}
		mu.Lock()
		hits = append(hits, hit{r.Header.Clone(), body})
		mu.Unlock()
		arrived <- struct{}{}
	}))
	defer receiver.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	env := map[string]string{"HANDOFF_CONFIG": "handoff.yaml", "HANDOFF_API_TOKEN": followUpToken, "HANDOFF_WEBHOOK_RETRY_MIN": "50ms"}
	srv := startRun(t, t.TempDir(), env)
	var created struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	hookURL := receiver.URL + "/hook?token=q-s3cr3t-9"
	if st := orgJSON(t, srv.base, http.MethodPost, "/webhooks", `{"url":"`+hookURL+`","events":["conversation.created","message.created"]}`, &created); st != http.StatusCreated {
		t.Fatalf("register: %d", st)
	}

	c := handOff(t, srv.base, "dana@example.com")
	<-held // the receiver holds conversation.created unanswered

	// The chat does not wait for the receiver.
	conn := c.openChat(t, 1)
	reply(t, srv.base, c.id, "We are on it.")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var f struct {
			Type    string `json:"type"`
			Message struct {
				Body string `json:"body"`
			} `json:"message"`
		}
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatalf("the reply did not reach the customer while the receiver held a delivery: %v", err)
		}
		if f.Type == "message" && f.Message.Body == "We are on it." {
			break
		}
	}
	close(release)

	deadline := time.After(10 * time.Second)
	for {
		mu.Lock()
		got := len(hits)
		mu.Unlock()
		if got >= 3 {
			break
		}
		select {
		case <-arrived:
		case <-deadline:
			t.Fatalf("the receiver accepted %d deliveries, want 3", got)
		}
	}
	verifier, err := standardwebhooks.NewWebhook(created.Secret)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	mu.Lock()
	for _, h := range hits {
		if err := verifier.Verify(h.body, h.header); err != nil {
			t.Errorf("signature: %v", err)
		}
		var b struct {
			Type string `json:"type"`
			Data struct {
				Message struct {
					Body string `json:"body"`
				} `json:"message"`
			} `json:"data"`
		}
		if err := json.Unmarshal(h.body, &b); err != nil {
			t.Errorf("delivery body: %v", err) // the lock is held: no Fatal here
		}
		order = append(order, b.Type+" "+b.Data.Message.Body)
	}
	mu.Unlock()
	want := []string{"conversation.created ", "message.created Where is my parcel?", "message.created We are on it."}
	if strings.Join(order, "|") != strings.Join(want, "|") {
		t.Fatalf("received %q, want %q", order, want)
	}

	var log struct {
		Attempts []struct {
			EventType string `json:"eventType"`
			Status    int    `json:"status"`
			Attempt   int    `json:"attempt"`
		} `json:"attempts"`
	}
	for end := time.Now().Add(5 * time.Second); len(log.Attempts) < 4 && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		orgJSON(t, srv.base, http.MethodGet, "/webhooks/"+created.ID+"/deliveries", "", &log)
	}
	if len(log.Attempts) != 4 || log.Attempts[0].Status != 200 || log.Attempts[0].Attempt != 2 || log.Attempts[1].Status != 500 {
		t.Fatalf("delivery log: %+v; want 4 attempts, the reply's 500 then 200", log.Attempts)
	}
	for _, secret := range []string{created.Secret, "q-s3cr3t-9"} {
		if strings.Contains(srv.logs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

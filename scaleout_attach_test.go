package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer/sqlstore/sqlstoretest"
)

// TestScaleOutAttachment: the customer uploads a picture on instance A and
// sends it there; the agent on B sees it live and fetches it from B, which
// reads it from the shared database.
func TestScaleOutAttachment(t *testing.T) {
	env := sharedEnv(sqlstoretest.PostgresURL(t))
	a := startRun(t, t.TempDir(), env)
	b := startRun(t, t.TempDir(), env)

	customer := newBrowserClient(t)
	res := customer.post(a.base+"/forms/contact", url.Values{"name": {"Kim"}, "email": {"kim@example.com"}, "topic": {"billing"}, "message": {"Hello from A"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("hand-off on A: %d", res.StatusCode)
	}
	chat := res.Header.Get("Location")
	id := strings.TrimPrefix(chat, "/conversations/")
	agent := newBrowserClient(t)
	if res := agent.post(b.base+"/agent/sign-in", url.Values{"email": {scaleAdmin}, "password": {scalePassword}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in on B: %d", res.StatusCode)
	}
	aws := agent.dial(b.base, "/agent/conversations/"+id+"/ws", siteOrigin)
	if err := aws.WriteJSON(map[string]any{"type": "hello", "afterSeq": 1}); err != nil {
		t.Fatal(err)
	}

	pic := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{7}, 700<<10)...) // several chunks
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "photo.png")
	if _, err := fw.Write(pic); err != nil {
		t.Fatal(err)
	}
	mw.Close()
	up, err := customer.Post(a.base+chat+"/attachments", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Body.Close()
	var att struct{ ID, URL string }
	if err := json.NewDecoder(up.Body).Decode(&att); err != nil || up.StatusCode != http.StatusCreated {
		t.Fatalf("upload on A: %d %v", up.StatusCode, err)
	}
	cws := customer.dial(a.base, chat+"/ws", siteOrigin)
	if err := cws.WriteJSON(map[string]any{"type": "hello", "afterSeq": 1}); err != nil {
		t.Fatal(err)
	}
	if err := cws.WriteJSON(map[string]any{"type": "send", "clientMessageId": "pic-1", "attachments": []any{map[string]any{"id": att.ID}}}); err != nil {
		t.Fatal(err)
	}
	await(t, aws, "the picture on B", func(f wsFrame) bool {
		return f.Type == "message" && strings.Contains(string(f.Message), att.URL)
	})
	got, err := agent.Get(b.base + att.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	data, _ := io.ReadAll(got.Body)
	if got.StatusCode != http.StatusOK || !bytes.Equal(data, pic) {
		t.Errorf("fetching from B: %d, %d bytes (want %d)", got.StatusCode, len(data), len(pic))
	}
}

package main

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestPersistedRelay checks the bare persisted relay: what one side sends
// reaches the other, and is in its database, in order, by then.
func TestPersistedRelay(t *testing.T) {
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "prelay.db")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveRelay(ctx, addr, db) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	base := "http://" + addr
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(end) {
			t.Fatal("the relay did not start")
		}
	}
	a, err := dialRelay(ctx, base, "r1")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := dialRelay(ctx, base, "r1")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, m := range []string{"one", "two"} {
		if err := a.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := sql.Open("sqlite", bareDSN(db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, want := range []string{"one", "two"} {
		b.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, got, err := b.ReadMessage()
		if err != nil || string(got) != want {
			t.Fatalf("received %q, %v; want %q", got, err, want)
		}
		// Delivered, so committed.
		var body string
		if err := conn.QueryRow(`SELECT CAST(body AS TEXT) FROM relayed WHERE room = 'r1' AND CAST(body AS TEXT) = ?`, want).Scan(&body); err != nil {
			t.Fatalf("%q delivered but not stored: %v", want, err)
		}
	}
	var seqs int
	if err := conn.QueryRow(`SELECT COUNT(*) FROM relayed WHERE room = 'r1' AND seq IN (1, 2)`).Scan(&seqs); err != nil || seqs != 2 {
		t.Fatalf("seqs stored: %d, %v", seqs, err)
	}
}

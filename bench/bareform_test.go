package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// bareMux seeds a bare history database and serves it as the bare form
// handler does.
func bareMux(tb testing.TB) (mux *http.ServeMux, customer, conv string) {
	tb.Helper()
	ctx := context.Background()
	db := filepath.Join(tb.TempDir(), "bare.db")
	customer, conv, err := seedBareHistory(ctx, db, 100, 100)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := openBare(ctx, db)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	s := &bareServer{store: st}
	mux = http.NewServeMux()
	mux.HandleFunc("GET /forms/contact", s.formShow)
	mux.HandleFunc("POST /forms/contact", s.formSubmit)
	mux.HandleFunc("GET /conversations/{id}", s.conversationShow)
	mux.HandleFunc("GET /conversations", s.conversationList)
	return mux, customer, conv
}

func TestBareHistoryPages(t *testing.T) {
	mux, customer, conv := bareMux(t)
	get := func(path, cookie string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: bareCookie, Value: cookie})
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		return w
	}
	w := get("/conversations/"+conv, bareCookieValue(customer))
	if w.Code != http.StatusOK || bytes.Count(w.Body.Bytes(), []byte(`data-testid="message"`)) != 100 {
		t.Errorf("chat page: %d with %d messages", w.Code, bytes.Count(w.Body.Bytes(), []byte(`data-testid="message"`)))
	}
	w = get("/conversations?pageSize=100", bareCookieValue(customer))
	if w.Code != http.StatusOK || bytes.Count(w.Body.Bytes(), []byte(`data-testid="conversation-row"`)) != 100 {
		t.Errorf("list: %d with %d rows", w.Code, bytes.Count(w.Body.Bytes(), []byte(`data-testid="conversation-row"`)))
	}
	if w := get("/conversations/"+conv, bareCookieValue("someone-else")); w.Code != http.StatusForbidden {
		t.Errorf("another customer's cookie: %d, want 403", w.Code)
	}
	if w := get("/conversations/"+conv, customer+".forged"); w.Code != http.StatusForbidden {
		t.Errorf("a forged cookie: %d, want 403", w.Code)
	}
}

func TestBareFormHandOff(t *testing.T) {
	mux, _, _ := bareMux(t)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/forms/contact", nil))
	hidden := hiddenInputs(w.Body.Bytes())
	if hidden["submissionId"] == "" {
		t.Fatalf("no submissionId in %s", w.Body)
	}
	post := func(v url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/forms/contact", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		return w
	}
	v := formValues(1, hidden)
	first := post(v)
	if first.Code != http.StatusSeeOther || !strings.HasPrefix(first.Header().Get("Location"), "/conversations/") {
		t.Fatalf("POST: %d to %q", first.Code, first.Header().Get("Location"))
	}
	// A double submit lands on the same conversation.
	if again := post(v); again.Header().Get("Location") != first.Header().Get("Location") {
		t.Errorf("retry went to %q, first to %q", again.Header().Get("Location"), first.Header().Get("Location"))
	}
	v.Del("email")
	if bad := post(v); bad.Code != http.StatusUnprocessableEntity {
		t.Errorf("invalid form: %d, want 422", bad.Code)
	}
}

func BenchmarkBarePages(b *testing.B) {
	mux, customer, conv := bareMux(b)
	for _, path := range []string{"/conversations/" + conv, "/conversations?pageSize=100"} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.AddCookie(&http.Cookie{Name: bareCookie, Value: bareCookieValue(customer)})
				w := httptest.NewRecorder()
				mux.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

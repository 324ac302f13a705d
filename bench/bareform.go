package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The bare form handler: a plain net/http server that parses the same
// contact form with the same rules in spirit, runs the same hand-off
// transaction on the bare store and answers 303, plus bare renderings of a
// chat page and a conversation list for the history scenario. It runs as
// its own process (bench -serve form) so it is measured like the server.

// bareCookieKey signs the bare session cookie. It guards nothing: the bare
// server only ever serves the load generator on loopback.
var bareCookieKey = []byte("bench-bare-cookie-key-0123456789")

const bareCookie = "bare_session"

// bareCookieValue is the signed session value naming customerID.
func bareCookieValue(customerID string) string {
	m := hmac.New(sha256.New, bareCookieKey)
	m.Write([]byte(customerID))
	return customerID + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// bareCustomer returns the customer a request's cookie names, if signed.
func bareCustomer(r *http.Request) (string, bool) {
	c, err := r.Cookie(bareCookie)
	if err != nil {
		return "", false
	}
	id, _, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(c.Value), []byte(bareCookieValue(id))) {
		return "", false
	}
	return id, true
}

// contactForm is a validated contact form.
type contactForm struct {
	Name, Email, Topic, OrderNumber, Message string
	SubmissionID, Referrer                   string
}

var contactTopics = map[string]bool{"billing": true, "order": true, "technical": true, "other": true}

// validateContact checks the contact form's fields as handoff.yaml defines
// them, returning an error message per invalid field.
func validateContact(v url.Values) (contactForm, map[string]string) {
	f := contactForm{
		Name:         strings.TrimSpace(v.Get("name")),
		Email:        strings.TrimSpace(v.Get("email")),
		Topic:        v.Get("topic"),
		OrderNumber:  strings.TrimSpace(v.Get("orderNumber")),
		Message:      strings.TrimSpace(strings.ReplaceAll(v.Get("message"), "\r\n", "\n")),
		SubmissionID: v.Get("submissionId"),
		Referrer:     v.Get("referrer"),
	}
	errs := map[string]string{}
	switch {
	case f.Name == "":
		errs["name"] = "is required"
	case utf8.RuneCountInString(f.Name) > 100 || strings.ContainsAny(f.Name, "\r\n"):
		errs["name"] = "must be one line of at most 100 characters"
	}
	if f.Email == "" {
		errs["email"] = "is required"
	} else if a, err := mail.ParseAddress(f.Email); err != nil || a.Address != f.Email || len(f.Email) > 254 {
		errs["email"] = "must be an email address"
	}
	if f.Topic == "" {
		errs["topic"] = "is required"
	} else if !contactTopics[f.Topic] {
		errs["topic"] = "must be one of the options"
	}
	if utf8.RuneCountInString(f.OrderNumber) > 32 || strings.ContainsAny(f.OrderNumber, "\r\n") {
		errs["orderNumber"] = "must be one line of at most 32 characters"
	}
	switch {
	case f.Message == "":
		errs["message"] = "is required"
	case utf8.RuneCountInString(f.Message) > 8000:
		errs["message"] = "must be at most 8000 characters"
	}
	if len(f.SubmissionID) > 64 || strings.IndexFunc(f.SubmissionID, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		f.SubmissionID = ""
	}
	if u, err := url.Parse(f.Referrer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || len(f.Referrer) > 2048 {
		f.Referrer = ""
	}
	return f, errs
}

// The bare pages are written by hand into a buffer, escaping every value,
// the way generated templ code renders: the leanest honest rendering.

func esc(b *bytes.Buffer, s string) { b.WriteString(html.EscapeString(s)) }

func bareFormPage(b *bytes.Buffer, submissionID, referrer string, errs map[string]string) {
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Contact support</title></head><body>` +
		`<form method="post" action="/forms/contact"><input type="hidden" name="submissionId" value="`)
	esc(b, submissionID)
	b.WriteString(`">`)
	if referrer != "" {
		b.WriteString(`<input type="hidden" name="referrer" value="`)
		esc(b, referrer)
		b.WriteString(`">`)
	}
	for _, f := range []string{"name", "email", "topic", "orderNumber"} {
		b.WriteString(`<label>` + f + ` <input name="` + f + `"></label>`)
		if msg := errs[f]; msg != "" {
			b.WriteString(`<p class="error">`)
			esc(b, msg)
			b.WriteString(`</p>`)
		}
	}
	b.WriteString(`<textarea name="message"></textarea><button>Start chat</button></form></body></html>`)
}

func bareChatPage(b *bytes.Buffer, id string, created time.Time, msgs []bareMessageView) {
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Chat</title></head><body><main data-testid="chat" data-conversation-id="`)
	esc(b, id)
	b.WriteString(`"><h1>Contact support</h1><p>Started <time datetime="` + created.Format(time.RFC3339) + `">` + created.Format("2 Jan 15:04") + `</time></p><ol data-testid="thread">`)
	for _, m := range msgs {
		seq := strconv.FormatInt(m.Seq, 10)
		b.WriteString(`<li class="msg msg-`)
		esc(b, m.Direction)
		b.WriteString(`" data-testid="message" data-seq="` + seq + `"><span class="msg-author">`)
		esc(b, m.Author)
		b.WriteString(`</span> <span class="msg-body">`)
		esc(b, m.Body)
		b.WriteString(`</span> <time datetime="` + m.At.Format(time.RFC3339) + `">` + m.At.Format("15:04") + `</time> <span>#` + seq + "</span></li>\n")
	}
	b.WriteString(`</ol><form method="post" action="/conversations/`)
	esc(b, id)
	b.WriteString(`/messages"><textarea name="body"></textarea><button>Send</button></form></main></body></html>`)
}

type bareRow struct {
	ID, Form, Preview string
	Last              time.Time
	Ended             bool
}

func bareListPage(b *bytes.Buffer, total int, rows []bareRow) {
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Your conversations</title></head><body><main><h1>Your conversations</h1><p>` +
		strconv.Itoa(total) + ` conversations</p><ul>`)
	for _, r := range rows {
		b.WriteString(`<li data-testid="conversation-row" data-conversation-id="`)
		esc(b, r.ID)
		b.WriteString(`"><a href="/conversations/`)
		esc(b, r.ID)
		b.WriteString(`"><span>`)
		esc(b, r.Form)
		b.WriteString(`</span> <span>`)
		esc(b, r.Preview)
		b.WriteString(`</span> <time datetime="` + r.Last.Format(time.RFC3339) + `">` + r.Last.Format("2 Jan 15:04") + `</time>`)
		if r.Ended {
			b.WriteString(` <span>Ended</span>`)
		} else {
			b.WriteString(` <span>Open</span>`)
		}
		b.WriteString("</a></li>\n")
	}
	b.WriteString(`</ul></main></body></html>`)
}

type bareMessageView struct {
	Seq                     int64
	Body, Direction, Author string
	At                      time.Time
}

// bareServer is the bare form handler's state.
type bareServer struct {
	store      *bareStore
	page, list Recorder // in-handler times of the two history pages
}

func writePage(w http.ResponseWriter, status int, buf *bytes.Buffer) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (s *bareServer) formShow(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	bareFormPage(&buf, newBareID(), r.Referer(), nil)
	writePage(w, http.StatusOK, &buf)
}

func (s *bareServer) formSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	f, errs := validateContact(r.PostForm)
	if len(errs) > 0 {
		var buf bytes.Buffer
		bareFormPage(&buf, f.SubmissionID, f.Referrer, errs)
		writePage(w, http.StatusUnprocessableEntity, &buf)
		return
	}
	customerID, _ := bareCustomer(r)
	custom, _ := json.Marshal(map[string]string{"topicStr": f.Topic, "orderNumberStr": f.OrderNumber})
	locale, _, _ := strings.Cut(r.Header.Get("Accept-Language"), ",")
	pctx, _ := json.Marshal(map[string]string{"referrer": f.Referrer, "userAgent": r.UserAgent(), "locale": locale})
	convID, customerID, err := s.store.handoff(r.Context(), bareHandoff{
		CustomerID: customerID, Name: f.Name, Email: strings.ToLower(f.Email), Message: f.Message,
		SubmissionID: f.SubmissionID, Custom: string(custom), Context: string(pctx),
	})
	if err != nil {
		http.Error(w, "hand-off failed", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: bareCookie, Value: bareCookieValue(customerID), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/conversations/"+convID, http.StatusSeeOther)
}

func (s *bareServer) conversationShow(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { s.page.Record(time.Since(start)) }()
	customerID, ok := bareCustomer(r)
	if !ok {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	ctx := r.Context()
	var (
		id, owner, form, preview string
		created, last, lastSeq   int64
		ended                    sql.NullInt64
	)
	err := s.store.conv.QueryRowContext(ctx, r.PathValue("id")).Scan(&id, &owner, &form, &created, &last, &preview, &ended, &lastSeq)
	if errors.Is(err, sql.ErrNoRows) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "read failed", http.StatusInternalServerError)
		return
	}
	if owner != customerID {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	rows, err := s.store.lastMsgs.QueryContext(ctx, id)
	if err != nil {
		http.Error(w, "read failed", http.StatusInternalServerError)
		return
	}
	var msgs []bareMessageView
	for rows.Next() {
		var m bareMessageView
		var at int64
		var authorType string
		if err := rows.Scan(&m.Seq, &m.Body, &m.Direction, &authorType, &m.Author, &at); err != nil {
			rows.Close()
			http.Error(w, "read failed", http.StatusInternalServerError)
			return
		}
		m.At = time.UnixMilli(at).UTC()
		msgs = append(msgs, m)
	}
	rows.Close()
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	var buf bytes.Buffer
	bareChatPage(&buf, id, time.UnixMilli(created).UTC(), msgs)
	writePage(w, http.StatusOK, &buf)
}

func (s *bareServer) conversationList(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { s.list.Record(time.Since(start)) }()
	customerID, ok := bareCustomer(r)
	if !ok {
		var buf bytes.Buffer
		bareListPage(&buf, 0, nil)
		writePage(w, http.StatusOK, &buf)
		return
	}
	size := 100
	if v := r.URL.Query().Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			http.Error(w, "bad pageSize", http.StatusBadRequest)
			return
		}
		size = n
	}
	ctx := r.Context()
	var total int
	if err := s.store.countConvs.QueryRowContext(ctx, customerID).Scan(&total); err != nil {
		http.Error(w, "read failed", http.StatusInternalServerError)
		return
	}
	rows, err := s.store.listConvs.QueryContext(ctx, customerID, size)
	if err != nil {
		http.Error(w, "read failed", http.StatusInternalServerError)
		return
	}
	var out []bareRow
	for rows.Next() {
		var x bareRow
		var created, last int64
		var ended sql.NullInt64
		if err := rows.Scan(&x.ID, &x.Form, &created, &last, &x.Preview, &ended); err != nil {
			rows.Close()
			http.Error(w, "read failed", http.StatusInternalServerError)
			return
		}
		x.Last, x.Ended = time.UnixMilli(last).UTC(), ended.Valid
		out = append(out, x)
	}
	rows.Close()
	var buf bytes.Buffer
	bareListPage(&buf, total, out)
	writePage(w, http.StatusOK, &buf)
}

// bareStats is the bare server's own record of the history pages' handler
// times.
type bareStats struct {
	Page Summary `json:"page"`
	List Summary `json:"list"`
}

func (s *bareServer) stats(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(bareStats{Page: s.page.Summary(), List: s.list.Summary()})
}

// serveForm runs the bare form handler on addr over the database at dbPath
// until ctx ends.
func serveForm(ctx context.Context, addr, dbPath string) error {
	store, err := openBare(ctx, dbPath)
	if err != nil {
		return err
	}
	defer func() { _ = store.Close() }()
	s := &bareServer{store: store}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("GET /stats", s.stats)
	mux.HandleFunc("GET /forms/contact", s.formShow)
	mux.HandleFunc("POST /forms/contact", s.formSubmit)
	mux.HandleFunc("GET /conversations/{id}", s.conversationShow)
	mux.HandleFunc("GET /conversations", s.conversationList)
	return serveUntil(ctx, addr, http.NewCrossOriginProtection().Handler(mux))
}

// serveUntil serves h on addr until ctx ends, then shuts down.
func serveUntil(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// seedBareHistory fills the bare database at path like the history scenario
// fills the server: one customer with convs conversations, the first
// holding msgs messages. It returns the customer and that conversation.
func seedBareHistory(ctx context.Context, path string, msgs, convs int) (customerID, convID string, err error) {
	s, err := openBare(ctx, path)
	if err != nil {
		return "", "", err
	}
	defer func() { _ = s.Close() }()
	v := formValues(0, nil)
	in := bareHandoff{Name: v.Get("name"), Email: v.Get("email"), Message: v.Get("message"), Custom: `{"topicStr":"order"}`, Context: `{}`}
	in.SubmissionID = newBareID()
	convID, customerID, err = s.handoff(ctx, in)
	if err != nil {
		return "", "", err
	}
	for i := 2; i <= msgs; i++ {
		tag := fmt.Sprintf("h%d", i)
		if err := s.appendMessages(ctx, []bareMsg{{ConversationID: convID, ClientID: tag, Body: benchBody(tag), Direction: "out", AuthorType: "agent", Author: "Bench"}}); err != nil {
			return "", "", err
		}
	}
	in.CustomerID = customerID
	for i := 1; i < convs; i++ {
		in.SubmissionID = newBareID()
		if _, _, err := s.handoff(ctx, in); err != nil {
			return "", "", err
		}
	}
	return customerID, convID, nil
}

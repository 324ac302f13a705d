package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/handoff/handoff/kustomer"
)

var (
	testPNG  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 100)...)
	testPDF  = []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
	testHTML = []byte("<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>")
)

// multipartBody is a multipart form with a file in field and the given
// other fields.
func multipartBody(t testing.TB, field, name string, data []byte, fields ...string) (body *bytes.Buffer, contentType string) {
	t.Helper()
	body = &bytes.Buffer{}
	mw := multipart.NewWriter(body)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	if field != "" {
		fw, err := mw.CreateFormFile(field, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return body, mw.FormDataContentType()
}

// upload posts a file as the multipart field "file" to path.
func (c *client) upload(path, name string, data []byte, header ...string) response {
	c.e.t.Helper()
	body, ct := multipartBody(c.e.t, "file", name, data)
	req, _ := http.NewRequest(http.MethodPost, c.e.URL+path, body)
	req.Header.Set("Content-Type", ct)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

// uploaded is an upload's answer, failing the test unless it is 201.
func uploaded(t testing.TB, res response) kustomer.Attachment {
	t.Helper()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", res.StatusCode, res.Body)
	}
	var raw map[string]any
	res.json(t, &raw)
	for _, k := range []string{"id", "name", "contentType", "contentLength", "url"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("upload answer lacks %s: %s", k, res.Body)
		}
	}
	var a kustomer.Attachment
	res.json(t, &a)
	return a
}

func (e *env) attachmentBytes() float64 {
	return testutil.ToFloat64(e.srv.opts.Metrics.attBytes)
}

// TestAttachmentsLiveBothWays: the customer uploads a picture and sends it
// over the socket, the agent sees it live and fetches it; the agent sends a
// PDF from the console and the customer gets it live; the organization API
// uploads and sends the same way.
func TestAttachmentsLiveBothWays(t *testing.T) {
	e := newEnv(t)
	e.engine.Observer = e.srv.opts.Metrics
	agent, _ := e.agentClient(t, "Dana", kustomer.RoleAgent)
	customer := e.client()
	id := customer.handoff(t)
	custSock := customer.mustDial(t, id, 1)
	agentSock := &ws{t: t, conn: agent.dialPath(t, "/agent/conversations/"+id+"/ws")}
	agentSock.send(map[string]any{"type": "hello", "afterSeq": 1})

	pic := uploaded(t, customer.upload("/api/v1/conversations/"+id+"/attachments", "photo.png", testPNG))
	if pic.Name != "photo.png" || pic.ContentType != "image/png" || pic.Size != int64(len(testPNG)) || pic.URL != "/conversations/"+id+"/attachments/"+pic.ID {
		t.Errorf("uploaded %+v", pic)
	}
	if got := e.attachmentBytes(); got != float64(len(testPNG)) {
		t.Errorf("attachment bytes metric %v, want %d", got, len(testPNG))
	}
	custSock.send(map[string]any{"type": "send", "clientMessageId": "pic-1", "attachments": []any{map[string]any{"id": pic.ID}}})
	got, _ := agentSock.messages(1)
	var m kustomer.Message
	if err := json.Unmarshal(got[0].Message, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 || m.Attachments[0] != pic || m.Body != "" {
		t.Fatalf("agent got %s, want the picture alone", got[0].Message)
	}
	if !strings.Contains(got[0].HTML, `src="`+pic.URL+`"`) || !strings.Contains(got[0].HTML, `data-testid="attachment-image"`) {
		t.Errorf("the agent's frame shows no preview of the picture: %s", got[0].HTML)
	}
	res := agent.get(pic.URL)
	if res.StatusCode != http.StatusOK || !bytes.Equal(res.Body, testPNG) {
		t.Fatalf("agent fetching the picture: %d", res.StatusCode)
	}
	wantHeaders(t, "the picture", res, "image/png", `inline; filename=photo.png`)

	doc := uploaded(t, agent.upload("/agent/conversations/"+id+"/attachments", "quote 1.pdf", testPDF))
	agentSock.send(map[string]any{"type": "send", "clientMessageId": "doc-1", "body": "Here you are", "attachments": []any{map[string]any{"id": doc.ID}}})
	got, _ = custSock.messages(2) // the customer's own picture, then the PDF
	if err := json.Unmarshal(got[1].Message, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 || m.Attachments[0] != doc || m.Body != "Here you are" {
		t.Fatalf("customer got %s, want the PDF", got[1].Message)
	}
	res = customer.get(doc.URL)
	if res.StatusCode != http.StatusOK || !bytes.Equal(res.Body, testPDF) {
		t.Fatalf("customer fetching the PDF: %d", res.StatusCode)
	}
	wantHeaders(t, "the PDF", res, "application/pdf", `attachment; filename="quote 1.pdf"`)
	// On the reloaded page, the same markup: a preview and a link.
	page := customer.get("/conversations/" + id).doc(t)
	if src, _ := page.Find(`[data-testid="attachment-image"]`).Attr("src"); src != pic.URL {
		t.Errorf("page preview src %q, want %q", src, pic.URL)
	}
	if href, _ := page.Find(`[data-testid="attachment-link"]`).Attr("href"); href != doc.URL {
		t.Errorf("page file link %q, want %q", href, doc.URL)
	}

	// The organization API: upload, send, fetch at the url.
	org := e.client()
	bearer := []string{"Authorization", "Bearer " + testToken}
	txt := uploaded(t, org.upload("/api/v1/org/conversations/"+id+"/attachments", "notes.txt", []byte("tracking: 1Z999\n"), bearer...))
	if txt.ContentType != "text/plain; charset=utf-8" {
		t.Errorf("text uploaded as %q", txt.ContentType)
	}
	res = e.org(http.MethodPost, "/conversations/"+id+"/messages", map[string]any{"authorName": "Bot", "attachments": []any{map[string]any{"id": txt.ID}}})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("org send: %d %s", res.StatusCode, res.Body)
	}
	req, _ := http.NewRequest(http.MethodGet, e.URL+txt.URL, nil)
	req.Header.Set(bearer[0], bearer[1])
	if res := org.do(req); res.StatusCode != http.StatusOK || string(res.Body) != "tracking: 1Z999\n" {
		t.Errorf("org fetching the text: %d %q", res.StatusCode, res.Body)
	}
	// Through the customer API, too, the message carries the files.
	res = customer.sendJSON(http.MethodGet, "/api/v1/conversations/"+id+"/messages?afterSeq=1", nil)
	for _, a := range []kustomer.Attachment{pic, doc, txt} {
		if !strings.Contains(string(res.Body), a.URL) {
			t.Errorf("getMessages lacks %s: %s", a.Name, res.Body)
		}
	}
}

func wantHeaders(t testing.TB, what string, res response, contentType, disposition string) {
	t.Helper()
	h := res.Header
	if got := h.Get("Content-Type"); got != contentType {
		t.Errorf("%s: Content-Type %q, want %q", what, got, contentType)
	}
	if got := h.Get("Content-Disposition"); got != disposition {
		t.Errorf("%s: Content-Disposition %q, want %q", what, got, disposition)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", what, got)
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "sandbox") {
		t.Errorf("%s: Content-Security-Policy %q", what, csp)
	}
}

// TestAttachmentRefusals: every bad upload is refused with an error naming
// the file and the rule, and stores nothing.
func TestAttachmentRefusals(t *testing.T) {
	e := newEnv(t)
	e.engine.Observer = e.srv.opts.Metrics
	customer := e.client()
	id := customer.handoff(t)
	path := "/api/v1/conversations/" + id + "/attachments"
	big := append(bytes.Clone(testPNG), make([]byte, kustomer.MaxAttachmentBytes)...)

	tests := []struct {
		name    string
		file    string
		data    []byte
		status  int
		details []string
	}{
		{"HTML named .png", "cat.png", testHTML, 422, []string{"cat.png", "HTML", "images (JPEG, PNG, GIF, WebP), PDF"}},
		{"over 5 MB", "big.png", big, 422, []string{"big.png", "larger than 5 MB"}},
		{"far over 5 MB", "huge.png", append(bytes.Clone(big), make([]byte, 3<<20)...), 422, []string{"huge.png", "larger than 5 MB"}},
		{"empty", "empty.txt", nil, 422, []string{"empty.txt", "is empty"}},
	}
	for _, tt := range tests {
		res := customer.upload(path, tt.file, tt.data)
		if res.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, res.StatusCode, tt.status, res.Body)
			continue
		}
		errs := res.apiErrors(t)
		if p := errs.pointers(); len(p) != 1 || p[0] != "/file" {
			t.Errorf("%s: pointers %v, want /file", tt.name, p)
		}
		for _, d := range tt.details {
			if !strings.Contains(string(res.Body), d) {
				t.Errorf("%s: answer does not say %q: %s", tt.name, d, res.Body)
			}
		}
	}

	// Not a file upload at all.
	if res := customer.sendJSON(http.MethodPost, path, map[string]any{"file": "x"}, invalid...); res.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("JSON instead of a form: %d", res.StatusCode)
	}
	body, ct := multipartBody(t, "attachment", "a.png", testPNG)
	req, _ := http.NewRequest(http.MethodPost, e.URL+path, body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set(invalidHeader, "1")
	if res := customer.do(req); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), "field named file") {
		t.Errorf("no field named file: %d %s", res.StatusCode, res.Body)
	}
	if got := e.attachmentBytes(); got != 0 {
		t.Errorf("refused uploads stored %v bytes", got)
	}
	// Exactly 5 MB is accepted: the route's limit is not the global 1 MB.
	uploaded(t, customer.upload(path, "limit.png", big[:kustomer.MaxAttachmentBytes]))
}

// TestAttachmentRefusalsInPageLanguage: the chat page's script uploads
// asking for JSON and names its language; a refusal answers JSON it can
// show, in that language, naming the file. The API answers in English.
func TestAttachmentRefusalsInPageLanguage(t *testing.T) {
	e := newEnv(t)
	customer := e.client()
	id := customer.handoff(t)
	chat := "/conversations/" + id + "/attachments"
	json := []string{"Accept", "application/json", "Accept-Language", "fr"}
	big := append(bytes.Clone(testPNG), make([]byte, kustomer.MaxAttachmentBytes)...)
	for _, tt := range []struct {
		lang, file string
		data       []byte
		title      string
		detail     string
	}{
		{"de", "seite.png", testHTML, "Ungültiger Wert", "Die Datei seite.png (text/html) kann nicht gesendet werden."},
		{"es", "vacío.txt", nil, "Valor no válido", "El archivo vacío.txt está vacío."},
		{"ar", "كبير.png", big, "قيمة غير صالحة", "حجم الملف كبير.png أكبر من 5 ميغابايت"},
		{"", "leer.txt", nil, "Valeur non valide", "Le fichier leer.txt est vide."}, // no ?lang=: the browser's language
	} {
		path := chat
		if tt.lang != "" {
			path += "?lang=" + tt.lang
		}
		res := customer.upload(path, tt.file, tt.data, json...)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: %d %s, want 422 JSON", tt.file, res.StatusCode, res.Header.Get("Content-Type"))
		}
		errs := res.apiErrors(t)
		if got := errs.Errors[0]; got.Title != tt.title || !strings.Contains(got.Detail, tt.detail) {
			t.Errorf("%s: %q / %q, want %q / %q", tt.file, got.Title, got.Detail, tt.title, tt.detail)
		}
	}
	// The same refusal over the API: English, for developers.
	res := customer.upload("/api/v1/conversations/"+id+"/attachments?lang=de", "seite.png", testHTML, json...)
	if errs := res.apiErrors(t); !strings.Contains(errs.Errors[0].Detail, "seite.png is an HTML page") {
		t.Errorf("API refusal: %s", res.Body)
	}
	// A page without a script still gets the page, in its language.
	res = customer.upload(chat+"?lang=de", "seite.png", testHTML, "Accept", "text/html")
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(res.Body), "Die Datei seite.png") {
		t.Errorf("HTML refusal: %s %s", res.Header.Get("Content-Type"), res.Body)
	}
}

// TestAttachmentAccess: files reach only the conversation's participants,
// and a note's file never reaches the customer.
func TestAttachmentAccess(t *testing.T) {
	e := newEnv(t)
	agent, _ := e.agentClient(t, "Dana", kustomer.RoleAgent)
	customer, mallory := e.client(), e.client()
	id := customer.handoff(t)
	otherID := mallory.handoff(t)

	pic := uploaded(t, customer.upload("/api/v1/conversations/"+id+"/attachments", "photo.png", testPNG))
	if res := customer.sendJSON(http.MethodPost, "/api/v1/conversations/"+id+"/messages", map[string]any{"attachments": []any{map[string]any{"id": pic.ID}}}); res.StatusCode != http.StatusCreated {
		t.Fatalf("send: %d %s", res.StatusCode, res.Body)
	}
	if res := customer.get(pic.URL); res.StatusCode != http.StatusOK {
		t.Errorf("the customer fetching their picture: %d", res.StatusCode)
	}
	refused := []struct {
		name   string
		c      *client
		path   string
		status int
	}{
		{"another customer", mallory, pic.URL, http.StatusForbidden},
		{"nobody", e.client(), pic.URL, http.StatusForbidden},
		{"another customer through their own conversation's URL", mallory, "/conversations/" + otherID + "/attachments/" + pic.ID, http.StatusForbidden},
	}
	for _, r := range refused {
		if res := r.c.get(r.path); res.StatusCode != r.status || bytes.Contains(res.Body, testPNG[:8]) {
			t.Errorf("%s: %d, want %d", r.name, res.StatusCode, r.status)
		}
	}
	// An embedded chat without cookies fetches with its hand-off token; a
	// token opens its own conversation's files only.
	conv, err := e.store.Conversation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := e.srv.sessions.IssueHandoff(id, conv.CustomerID, time.Now())
	if res := e.client().get(pic.URL + "?token=" + url.QueryEscape(tok)); res.StatusCode != http.StatusOK || !bytes.Equal(res.Body, testPNG) {
		t.Errorf("fetching with the hand-off token: %d", res.StatusCode)
	}
	other, _ := e.store.Conversation(context.Background(), otherID)
	otherTok, _ := e.srv.sessions.IssueHandoff(otherID, other.CustomerID, time.Now())
	for _, path := range []string{pic.URL, "/conversations/" + otherID + "/attachments/" + pic.ID} {
		if res := e.client().get(path + "?token=" + url.QueryEscape(otherTok)); res.StatusCode == http.StatusOK {
			t.Errorf("another conversation's token fetched %s", path)
		}
	}
	if res := mallory.upload("/api/v1/conversations/"+id+"/attachments", "x.png", testPNG); res.StatusCode != http.StatusForbidden {
		t.Errorf("another customer uploading: %d", res.StatusCode)
	}

	// A note's file: not over the customer's socket, not on the page, not
	// at its URL.
	custSock := customer.mustDial(t, id, 2)
	secret := uploaded(t, agent.upload("/agent/conversations/"+id+"/attachments", "internal.pdf", testPDF))
	if res := e.org(http.MethodPost, "/conversations/"+id+"/messages", map[string]any{"private": true, "attachments": []any{map[string]any{"id": secret.ID}}}); res.StatusCode != http.StatusCreated {
		t.Fatalf("note: %d %s", res.StatusCode, res.Body)
	}
	e.agentSays(t, id, "We are looking into it.")
	if got, _ := custSock.messages(1); got[0].msg(t).Body != "We are looking into it." || strings.Contains(string(got[0].Message)+got[0].HTML, "internal.pdf") {
		t.Errorf("the customer's socket got %s", got[0].Message)
	}
	if res := customer.get(secret.URL); res.StatusCode != http.StatusNotFound {
		t.Errorf("the customer fetching a note's file: %d, want 404", res.StatusCode)
	}
	if res := agent.get(secret.URL); res.StatusCode != http.StatusOK {
		t.Errorf("the agent fetching a note's file: %d", res.StatusCode)
	}
	page := string(customer.get("/conversations/" + id).Body)
	api := string(customer.sendJSON(http.MethodGet, "/api/v1/conversations/"+id+"/messages", nil).Body)
	if strings.Contains(page, "internal.pdf") || strings.Contains(api, "internal.pdf") {
		t.Errorf("the note's file shows to the customer")
	}
}

// postComposer posts the chat page's form as a browser without JavaScript
// does: multipart, with a file when name is not empty.
func (c *client) postComposer(path, body, name string, data []byte) response {
	c.e.t.Helper()
	field := "file"
	buf, ct := multipartBody(c.e.t, field, name, data, "clientMessageId", kustomer.NewID(), "body", body)
	req, _ := http.NewRequest(http.MethodPost, c.e.URL+path, buf)
	req.Header.Set("Content-Type", ct)
	return c.do(req)
}

// TestAttachmentWithoutJavaScript: the chat page's plain form sends a file
// with or without words, and a refused file re-renders the page with the
// error and the words kept.
func TestAttachmentWithoutJavaScript(t *testing.T) {
	e := newEnv(t)
	e.engine.Observer = e.srv.opts.Metrics
	customer := e.client()
	id := customer.handoff(t)
	page := customer.get("/conversations/" + id).doc(t)
	form := page.Find(`form[data-testid="composer"]`)
	action, _ := form.Attr("action")
	if enc, _ := form.Attr("enctype"); enc != "multipart/form-data" || form.Find(`input[type="file"][name="file"]`).Length() != 1 {
		t.Fatalf("the composer cannot post a file: enctype %q", enc)
	}

	res := customer.postComposer(action, "", "photo.png", testPNG)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a file alone: %d %s", res.StatusCode, res.Body)
	}
	res = customer.postComposer(action, "and the invoice", "invoice.pdf", testPDF)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a file with words: %d %s", res.StatusCode, res.Body)
	}
	doc := customer.get("/conversations/" + id).doc(t)
	if n := doc.Find(`[data-testid="attachment-image"]`).Length(); n != 1 {
		t.Errorf("%d previews, want 1", n)
	}
	if got := doc.Find(`[data-testid="attachment-link"]`).Text(); got != "invoice.pdf" {
		t.Errorf("file link %q", got)
	}
	stored := e.attachmentBytes()

	// A refused file: the page again, the words kept, the error naming it.
	res = customer.postComposer(action, "see attached", "cat.png", testHTML)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an HTML file: %d", res.StatusCode)
	}
	doc = res.doc(t)
	if msg := doc.Find(`[data-testid="composer-error"]`).Text(); !strings.Contains(msg, "cat.png") || !strings.Contains(msg, "accepted files are") {
		t.Errorf("error %q does not name the file and the rule", msg)
	}
	if got := doc.Find(`[data-testid="composer-body"]`).Text(); got != "see attached" {
		t.Errorf("draft %q not kept", got)
	}
	// A plain text message still posts as before, without a file.
	res = customer.postComposer(action, "just words", "", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("words only: %d %s", res.StatusCode, res.Body)
	}
	if got := e.attachmentBytes(); got != stored {
		t.Errorf("the refused file stored %v bytes", got-stored)
	}
}

// TestAttachmentUploadsShareTheSendLimit: a customer's uploads take from the
// bucket sends take from; once it is empty, an upload is a 429 and stores
// nothing, and a send is refused too.
func TestAttachmentUploadsShareTheSendLimit(t *testing.T) {
	e := newEnv(t)
	e.engine.Observer = e.srv.opts.Metrics
	e.fakeClock()
	customer := e.client()
	id := customer.handoff(t)
	path := "/api/v1/conversations/" + id + "/attachments"
	for i := range kustomer.DefaultLimits.SendBurst {
		if res := customer.upload(path, fmt.Sprintf("p%d.png", i), testPNG); res.StatusCode != http.StatusCreated {
			t.Fatalf("upload %d: %d %s", i+1, res.StatusCode, res.Body)
		}
	}
	stored := e.attachmentBytes()
	res := customer.upload(path, "one-more.png", testPNG)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("upload over the limit: %d, want 429 with Retry-After", res.StatusCode)
	}
	if got := e.attachmentBytes(); got != stored {
		t.Errorf("a refused upload stored %v bytes", got-stored)
	}
	if res := customer.sendJSON(http.MethodPost, "/api/v1/conversations/"+id+"/messages", map[string]any{"body": "hi"}); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a send after the uploads emptied the bucket: %d, want 429", res.StatusCode)
	}
}

// TestAttachmentRefusedOverSocket: a send naming a file that is not the
// sender's is an error frame for that send; nothing is stored.
func TestAttachmentRefusedOverSocket(t *testing.T) {
	e := newEnv(t)
	customer, other := e.client(), e.client()
	id := customer.handoff(t)
	otherID := other.handoff(t)
	theirs := uploaded(t, other.upload("/api/v1/conversations/"+otherID+"/attachments", "theirs.png", testPNG))
	sock := customer.mustDial(t, id, 1)
	sock.send(map[string]any{"type": "send", "clientMessageId": "steal", "attachments": []any{map[string]any{"id": theirs.ID}}})
	for {
		f := sock.next()
		if f.Type == "message" {
			t.Fatalf("a message was stored: %s", f.Message)
		}
		if f.Type == "error" {
			if f.Code != "invalid" || f.ClientMessageID != "steal" {
				t.Errorf("error frame %+v", f)
			}
			break
		}
	}
	if conv, _ := e.store.Conversation(context.Background(), id); conv.LastSeq != 1 {
		t.Errorf("LastSeq %d after a refused send, want 1", conv.LastSeq)
	}
}

// TestAttachmentUnsentCap: files uploaded and not sent are capped per
// conversation; over the cap is a 409 saying so, and nothing is stored.
func TestAttachmentUnsentCap(t *testing.T) {
	e := newEnv(t)
	e.engine.Observer = e.srv.opts.Metrics
	customer := e.client()
	id := customer.handoff(t)
	path := "/api/v1/conversations/" + id + "/attachments"
	five := append(bytes.Clone(testPDF), make([]byte, kustomer.MaxAttachmentBytes-len(testPDF))...)
	for i := range kustomer.MaxUnsentAttachmentBytes / kustomer.MaxAttachmentBytes {
		uploaded(t, customer.upload(path, fmt.Sprintf("f%d.pdf", i), five))
	}
	stored := e.attachmentBytes()
	res := customer.upload(path, "one-more.pdf", testPDF)
	if res.StatusCode != http.StatusConflict || !strings.Contains(string(res.Body), "waiting to be sent") {
		t.Fatalf("upload over the cap: %d %s", res.StatusCode, res.Body)
	}
	if got := e.attachmentBytes(); got != stored {
		t.Errorf("the refused upload stored %v bytes", got-stored)
	}
}

// TestAttachmentConsoleWithoutJavaScript: the console's plain form sends a
// file (as a reply or a note); a refused file re-renders the console with
// the error and the words kept.
func TestAttachmentConsoleWithoutJavaScript(t *testing.T) {
	e := newEnv(t)
	agent, _ := e.agentClient(t, "Dana", kustomer.RoleAgent)
	id := e.client().handoff(t)
	form := agent.get("/agent/conversations/" + id).doc(t).Find(`form[data-testid="agent-composer"]`)
	action, _ := form.Attr("action")
	if enc, _ := form.Attr("enctype"); enc != "multipart/form-data" || form.Find(`input[type="file"][name="file"]`).Length() != 1 {
		t.Fatalf("the console's composer cannot post a file: enctype %q", enc)
	}
	if res := agent.postComposer(action, "", "label.pdf", testPDF); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a file alone: %d %s", res.StatusCode, res.Body)
	}
	if link := agent.get("/agent/conversations/" + id).doc(t).Find(`[data-testid="attachment-link"]`).Text(); link != "label.pdf" {
		t.Errorf("console shows file link %q", link)
	}
	res := agent.postComposer(action, "the label", "label.png", testHTML)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an HTML file: %d", res.StatusCode)
	}
	doc := res.doc(t)
	if msg := doc.Find(`[data-testid="agent-composer-error"]`).Text(); !strings.Contains(msg, "label.png") || !strings.Contains(msg, "accepted files are") {
		t.Errorf("error %q does not name the file and the rule", msg)
	}
	if got := doc.Find(`[data-testid="agent-composer-body"]`).Text(); got != "the label" {
		t.Errorf("draft %q not kept", got)
	}
}

// TestUploadBudgetPerAddress: the files one client address uploads are
// bounded in bytes, whatever the customers and conversations it uses; over
// the budget an upload is 429 and stores nothing, and the budget refills.
func TestUploadBudgetPerAddress(t *testing.T) {
	e := newEnv(t)
	e.engine.Observer = e.srv.opts.Metrics
	e.srv.opts.Limits.HandoffRate = kustomer.Rate{Off: true}
	e.srv.uploads = uploadBudget{burstKiB: 8 << 10, perHourKiB: 60 << 10} // 8 MB, then 1 MB a minute
	clk := e.fakeClock()
	big := bytes.Repeat([]byte("plain text, a large log file\n"), 3<<20/29) // about 3 MB
	upload := func() response {
		c := e.client() // a new visitor each time, from the same address
		id := c.handoff(t)
		return c.upload("/api/v1/conversations/"+id+"/attachments", "log.txt", big)
	}
	if res := upload(); res.StatusCode != http.StatusCreated {
		t.Fatalf("first upload: %d %s", res.StatusCode, res.Body)
	}
	stored := e.attachmentBytes()
	// 5 MB are left, not enough for a file at the 5 MB limit.
	res := upload()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("upload over the address's budget: %d, want 429 with Retry-After", res.StatusCode)
	}
	if !strings.Contains(string(res.Body), "uploaded a lot") {
		t.Errorf("no clear message: %s", res.Body)
	}
	// The chat page's script is told in its language, with the wait.
	c := e.client()
	cid := c.handoff(t)
	res = c.upload("/conversations/"+cid+"/attachments?lang=fr", "log.txt", big, "Accept", "application/json")
	if errs := res.apiErrors(t); res.StatusCode != http.StatusTooManyRequests || errs.Errors[0].Title != "Trop de fichiers" ||
		!strings.Contains(errs.Errors[0].Detail, "Veuillez réessayer dans ") {
		t.Errorf("the chat's upload over the budget: %d %s", res.StatusCode, res.Body)
	}
	if got := e.attachmentBytes(); got != stored {
		t.Errorf("a refused upload stored %v bytes", got-stored)
	}
	clk.Add(time.Minute)
	if res := upload(); res.StatusCode != http.StatusCreated {
		t.Errorf("after a minute's refill: %d", res.StatusCode)
	}
}

package kustomertest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// Files of each kind, as their first bytes make them.
var (
	pngFile  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 64)...)
	jpegFile = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), make([]byte, 64)...)
	gifFile  = []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	webpFile = []byte("RIFF\x1a\x00\x00\x00WEBPVP8 \x0e\x00\x00\x00")
	pdfFile  = []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
	mp4File  = []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom\x00\x00\x00\x08free")
	isomFile = []byte("\x00\x00\x00\x10ftypisom\x00\x00\x02\x00\x00\x00\x00\x08free")
	movFile  = []byte("\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  \x00\x00\x00\x08wide")
	textFile = []byte("order 1234\nplease check\n")
	htmlFile = []byte("<!DOCTYPE html><html><script>alert(document.cookie)</script></html>")
	zipFile  = []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00")
	exeFile  = []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff")
)

// uploadCountingStore counts the files a store is asked to keep.
type uploadCountingStore struct {
	kustomer.Store
	uploads atomic.Int64
}

func (s *uploadCountingStore) CreateAttachment(ctx context.Context, a kustomer.StoredAttachment, content [][]byte, maxUnsent int64) error {
	s.uploads.Add(1)
	return s.Store.CreateAttachment(ctx, a, content, maxUnsent)
}

func (f *engineFixture) upload(t testing.TB, actor kustomer.Actor, convID, name string, data []byte) kustomer.Attachment {
	t.Helper()
	a, err := f.engine.UploadAttachment(t.Context(), actor, convID, name, bytes.NewReader(data))
	must(t, "UploadAttachment "+name, err)
	return a
}

// fetch returns a file's content as actor may read it.
func (f *engineFixture) fetch(t testing.TB, actor kustomer.Actor, id string) []byte {
	t.Helper()
	a, err := f.engine.Attachment(t.Context(), actor, id)
	must(t, "Attachment", err)
	var buf bytes.Buffer
	_, err = f.engine.CopyAttachment(t.Context(), a, &buf)
	must(t, "CopyAttachment", err)
	return buf.Bytes()
}

func testEngineAttachmentTypes(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	accepted := []struct {
		name string
		data []byte
		want string
	}{
		{"photo.png", pngFile, "image/png"},
		{"photo.jpg", jpegFile, "image/jpeg"},
		{"anim.gif", gifFile, "image/gif"},
		{"pic.webp", webpFile, "image/webp"},
		{"quote.pdf", pdfFile, "application/pdf"},
		{"clip.mp4", mp4File, "video/mp4"},
		{"clip-isom.mp4", isomFile, "video/mp4"},
		{"clip.mov", movFile, "video/quicktime"},
		{"notes.txt", textFile, "text/plain; charset=utf-8"},
		// The name says nothing: a PNG called .txt is a PNG.
		{"really-a-png.txt", pngFile, "image/png"},
		{`C:\Users\ada\scan.pdf`, pdfFile, "application/pdf"},
	}
	for _, tt := range accepted {
		a := f.upload(t, cust, c.ID, tt.name, tt.data)
		if a.ContentType != tt.want || a.Size != int64(len(tt.data)) || a.URL != kustomer.AttachmentURL(c.ID, a.ID) || !kustomer.ValidID(a.ID) {
			t.Errorf("%s: uploaded as %+v, want type %s, size %d, its URL", tt.name, a, tt.want, len(tt.data))
		}
		if got := f.fetch(t, cust, a.ID); !bytes.Equal(got, tt.data) {
			t.Errorf("%s: content read back differs", tt.name)
		}
	}
	if a := f.upload(t, cust, c.ID, `C:\Users\ada\scan.pdf`, pdfFile); a.Name != "scan.pdf" {
		t.Errorf("a Windows path is named %q, want scan.pdf", a.Name)
	}

	counting := &uploadCountingStore{Store: f.store}
	e := kustomer.NewEngine(counting, f.broker, f.engine.Config(), nil)
	big := append(bytes.Clone(pngFile), make([]byte, kustomer.MaxAttachmentBytes)...)
	rejected := []struct {
		name  string
		data  []byte
		wants []string // in the message, besides the name
	}{
		{"cat.png", htmlFile, []string{"HTML", "accepted files are images (JPEG, PNG, GIF, WebP), PDF"}},
		{"archive.zip", zipFile, []string{"application/zip", "accepted files are"}},
		{"setup.pdf", exeFile, []string{"unknown type", "accepted files are"}},
		{"empty.txt", nil, []string{"is empty"}},
		{"big.png", big, []string{"larger than 5 MB"}},
	}
	for _, tt := range rejected {
		_, err := e.UploadAttachment(ctx, cust, c.ID, tt.name, bytes.NewReader(tt.data))
		var ve *kustomer.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: err = %v, want a ValidationError", tt.name, err)
			continue
		}
		msg := ve.Fields["file"]
		for _, w := range append(tt.wants, tt.name) {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: message %q does not say %q", tt.name, msg, w)
			}
		}
	}
	if n := counting.uploads.Load(); n != 0 {
		t.Errorf("%d rejected files reached the store", n)
	}
	// Exactly at the limit is accepted.
	f.upload(t, cust, c.ID, "limit.png", big[:kustomer.MaxAttachmentBytes])

	// The operator's types are accepted besides the built-in ones.
	cfg, err := kustomer.ParseConfig(strings.NewReader(engineConfig + "attachments:\n  types: [application/zip]\n"))
	must(t, "ParseConfig", err)
	e = kustomer.NewEngine(f.store, f.broker, cfg, nil)
	a, err := e.UploadAttachment(ctx, cust, c.ID, "archive.zip", bytes.NewReader(zipFile))
	must(t, "a type the operator allows", err)
	if a.ContentType != "application/zip" {
		t.Errorf("archive.zip: type %q", a.ContentType)
	}
	_, err = e.UploadAttachment(ctx, cust, c.ID, "cat.png", bytes.NewReader(htmlFile))
	var ve *kustomer.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Fields["file"], "application/zip") {
		t.Errorf("with the operator's types, the rule names them: %v", err)
	}
}

func testEngineAttachmentSend(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	other, mallory := f.start(t, "someone else's")
	sub := f.subscribe(t, agent, c.ID)

	a := f.upload(t, cust, c.ID, "photo.png", pngFile)
	b := f.upload(t, cust, c.ID, "quote.pdf", pdfFile)
	// An attachments-only message.
	m, created, err := f.engine.SendMessage(ctx, cust, kustomer.SendMessageInput{
		ConversationID: c.ID, ClientMessageID: "with-files", Attachments: []kustomer.Attachment{{ID: a.ID}, {ID: b.ID}},
	})
	must(t, "SendMessage with attachments only", err)
	if !created || m.Body != "" || len(m.Attachments) != 2 || m.Attachments[0] != a || m.Attachments[1] != b {
		t.Fatalf("sent %+v, want the two files %+v %+v", m, a, b)
	}
	if ev := nextEvent(t, sub); ev.Message == nil || ev.Message.ID != m.ID || len(ev.Message.Attachments) != 2 {
		t.Errorf("event = %+v, want the message with its files", ev)
	}
	if got := f.conversation(t, c.ID).Preview; got != "📎 photo.png" {
		t.Errorf("preview %q, want the first file's name", got)
	}
	msgs, err := f.engine.GetMessages(ctx, cust, c.ID, kustomer.MessageQuery{AfterSeq: 1})
	must(t, "GetMessages", err)
	if len(msgs) != 1 || len(msgs[0].Attachments) != 2 || msgs[0].Attachments[0] != a {
		t.Errorf("read back %+v", msgs)
	}
	if !bytes.Equal(f.fetch(t, agent, a.ID), pngFile) || !bytes.Equal(f.fetch(t, cust, b.ID), pdfFile) {
		t.Errorf("content differs once sent")
	}
	// A retry returns the same message.
	again, created, err := f.engine.SendMessage(ctx, cust, kustomer.SendMessageInput{
		ConversationID: c.ID, ClientMessageID: "with-files", Attachments: []kustomer.Attachment{{ID: a.ID}, {ID: b.ID}},
	})
	if err != nil || created || again.ID != m.ID {
		t.Errorf("retry: %v created %v id %s, want the first message", err, created, again.ID)
	}

	// Someone else's customer reaches neither the files nor the uploads.
	_, err = f.engine.Attachment(ctx, mallory, a.ID)
	wantErr(t, "another customer fetching", err, kustomer.ErrForbidden)
	_, err = f.engine.UploadAttachment(ctx, mallory, c.ID, "x.png", bytes.NewReader(pngFile))
	wantErr(t, "another customer uploading", err, kustomer.ErrForbidden)

	before := f.conversation(t, c.ID).LastSeq
	agentFile := f.upload(t, agent, c.ID, "reply.pdf", pdfFile)
	custFile := f.upload(t, cust, c.ID, "more.png", pngFile)
	elsewhere := f.upload(t, mallory, other.ID, "mine.png", pngFile)
	refused := []struct {
		name  string
		actor kustomer.Actor
		ids   []string
		field string
	}{
		{"another conversation's file", cust, []string{elsewhere.ID}, "attachments[0]"},
		{"the agent's file by the customer", cust, []string{agentFile.ID}, "attachments[0]"},
		{"the customer's file by an agent", agent, []string{custFile.ID}, "attachments[0]"},
		{"an unknown id", cust, []string{kustomer.NewID()}, "attachments[0]"},
		{"not an id", cust, []string{"../../etc/passwd"}, "attachments[0]"},
		{"the same file twice", cust, []string{custFile.ID, custFile.ID}, "attachments[1]"},
		{"too many files", cust, make([]string, kustomer.MaxMessageAttachments+1), "attachments"},
	}
	for _, r := range refused {
		var refs []kustomer.Attachment
		for _, id := range r.ids {
			refs = append(refs, kustomer.Attachment{ID: id})
		}
		_, _, err := f.engine.SendMessage(ctx, r.actor, kustomer.SendMessageInput{ConversationID: c.ID, Body: "see", Attachments: refs})
		wantValidation(t, r.name, err, r.field)
	}
	// A file already sent.
	_, _, err = f.engine.SendMessage(ctx, cust, kustomer.SendMessageInput{ConversationID: c.ID, Attachments: []kustomer.Attachment{{ID: a.ID}}})
	var ce *kustomer.ConflictError
	if !errors.As(err, &ce) || ce.Code != "attachment_unavailable" || !strings.Contains(ce.Reason, "photo.png") {
		t.Errorf("sending a file again: err = %v, want a ConflictError naming photo.png", err)
	}
	if got := f.conversation(t, c.ID).LastSeq; got != before {
		t.Errorf("refused sends stored messages: LastSeq %d, want %d", got, before)
	}
	// Unsent files reach their uploader and agents only.
	_, err = f.engine.Attachment(ctx, cust, agentFile.ID)
	wantErr(t, "the customer fetching the agent's unsent file", err, kustomer.ErrNotFound)
	f.fetch(t, cust, custFile.ID)
	f.fetch(t, agent, custFile.ID)

	// The files of one message add up to at most 9.5 MB.
	five := append(bytes.Clone(pdfFile), make([]byte, kustomer.MaxAttachmentBytes-len(pdfFile))...)
	x := f.upload(t, cust, c.ID, "x.pdf", five)
	y := f.upload(t, cust, c.ID, "y.pdf", five[:kustomer.MaxMessageAttachmentBytes-kustomer.MaxAttachmentBytes+1])
	_, _, err = f.engine.SendMessage(ctx, cust, kustomer.SendMessageInput{ConversationID: c.ID, Attachments: []kustomer.Attachment{{ID: x.ID}, {ID: y.ID}}})
	wantValidation(t, "files over 9.5 MB together", err, "attachments")
}

func testEngineAttachmentPrivate(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	file := f.upload(t, agent, c.ID, "internal.pdf", pdfFile)
	note, _, err := f.engine.SendMessage(ctx, agent, kustomer.SendMessageInput{ConversationID: c.ID, Private: true, Attachments: []kustomer.Attachment{{ID: file.ID}}})
	must(t, "a note with a file", err)
	if len(note.Attachments) != 1 {
		t.Errorf("note = %+v, want its file", note)
	}
	_, err = f.engine.Attachment(ctx, cust, file.ID)
	wantErr(t, "the customer fetching a note's file", err, kustomer.ErrNotFound)
	f.fetch(t, agent, file.ID)
}

func testEngineAttachmentCleanup(t *testing.T, f *engineFixture) {
	ctx := t.Context()
	c, cust := f.start(t, "hello")
	now := t0.Add(time.Hour)
	f.engine.Now = func() time.Time { return now }
	unsent := f.upload(t, cust, c.ID, "forgotten.png", pngFile)
	sent := f.upload(t, cust, c.ID, "sent.png", pngFile)
	_, _, err := f.engine.SendMessage(ctx, cust, kustomer.SendMessageInput{ConversationID: c.ID, Attachments: []kustomer.Attachment{{ID: sent.ID}}})
	must(t, "SendMessage", err)

	now = now.Add(kustomer.UnsentAttachmentTTL - time.Second)
	n, err := f.engine.DeleteUnsentAttachments(ctx)
	if err != nil || n != 0 {
		t.Errorf("before a day: deleted %d, %v; want none", n, err)
	}
	now = now.Add(2 * time.Second)
	n, err = f.engine.DeleteUnsentAttachments(ctx)
	if err != nil || n != 1 {
		t.Errorf("after a day: deleted %d, %v; want 1", n, err)
	}
	_, err = f.engine.Attachment(ctx, cust, unsent.ID)
	wantErr(t, "the expired upload", err, kustomer.ErrNotFound)
	f.fetch(t, cust, sent.ID)
}

package kustomertest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// noQuota is a cap on unsent bytes no test reaches.
const noQuota = 1 << 40

// chunks splits data in pieces as the Engine hands them to the store.
func chunks(data []byte) [][]byte {
	var out [][]byte
	for len(data) > kustomer.AttachmentChunkSize {
		out = append(out, data[:kustomer.AttachmentChunkSize])
		data = data[kustomer.AttachmentChunkSize:]
	}
	return append(out, data)
}

// fileOf returns n bytes of a pattern that differs from chunk to chunk.
func fileOf(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/1000)
	}
	return b
}

// uploadAttachment stores an unsent file of size bytes in conversationID,
// uploaded by the customer "cust", and returns its record.
func uploadAttachment(t testing.TB, s kustomer.Store, conversationID, name string, size int, when time.Time) kustomer.StoredAttachment {
	t.Helper()
	a := kustomer.StoredAttachment{
		Attachment:     kustomer.Attachment{ID: kustomer.NewID(), Name: name, ContentType: "application/pdf", Size: int64(size)},
		ConversationID: conversationID,
		Uploader:       kustomer.Author{Type: kustomer.AuthorCustomer, ID: "cust"},
		CreatedAt:      when,
	}
	must(t, "CreateAttachment "+name, s.CreateAttachment(t.Context(), a, chunks(fileOf(size)), noQuota))
	return a
}

// readAttachment returns a file's content as CopyAttachment writes it.
func readAttachment(t testing.TB, s kustomer.Store, id string) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := s.CopyAttachment(t.Context(), id, &buf)
	must(t, "CopyAttachment", err)
	if n != int64(buf.Len()) {
		t.Errorf("CopyAttachment: returned %d, wrote %d bytes", n, buf.Len())
	}
	return buf.Bytes()
}

func checkAttachment(t testing.TB, what string, got, want kustomer.StoredAttachment) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testAttachmentContent(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	// Sizes around the store's chunking: none, tiny, and several chunks
	// with a partial last one.
	for _, size := range []int{0, 1, 600 << 10, 5 << 20} {
		a := uploadAttachment(t, s, c.ID, "file.bin", size, at(1))
		got, err := s.Attachment(ctx, a.ID)
		must(t, "Attachment", err)
		checkAttachment(t, "read back", got, a)
		if data := readAttachment(t, s, a.ID); !bytes.Equal(data, fileOf(size)) {
			t.Errorf("content of %d bytes: read back %d bytes, not the same", size, len(data))
		}
	}
	_, err := s.Attachment(ctx, "nope")
	wantErr(t, "Attachment of an unknown id", err, kustomer.ErrNotFound)
	_, err = s.CopyAttachment(ctx, "nope", &bytes.Buffer{})
	wantErr(t, "CopyAttachment of an unknown id", err, kustomer.ErrNotFound)
	a := kustomer.StoredAttachment{Attachment: kustomer.Attachment{ID: kustomer.NewID(), Name: "x"}, ConversationID: "nope", CreatedAt: at(1)}
	wantErr(t, "CreateAttachment in an unknown conversation", s.CreateAttachment(ctx, a, chunks([]byte("x")), noQuota), kustomer.ErrNotFound)
}

func testAttachmentQuota(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	other, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	newFile := func(convID string) kustomer.StoredAttachment {
		return kustomer.StoredAttachment{Attachment: kustomer.Attachment{ID: kustomer.NewID(), Name: "a.pdf", ContentType: "application/pdf", Size: 600},
			ConversationID: convID, Uploader: kustomer.Author{Type: kustomer.AuthorCustomer, ID: "cust"}, CreatedAt: at(1)}
	}
	first := newFile(c.ID)
	must(t, "first upload", s.CreateAttachment(ctx, first, chunks(fileOf(600)), 1000))
	over := newFile(c.ID)
	err := s.CreateAttachment(ctx, over, chunks(fileOf(600)), 1000)
	var ce *kustomer.ConflictError
	if !errors.As(err, &ce) || ce.Code != "attachment_quota" {
		t.Fatalf("upload over the cap: err = %v, want a ConflictError attachment_quota", err)
	}
	_, err = s.Attachment(ctx, over.ID)
	wantErr(t, "the refused upload", err, kustomer.ErrNotFound)
	// The cap is per conversation.
	must(t, "upload to another conversation", s.CreateAttachment(ctx, newFile(other.ID), chunks(fileOf(600)), 1000))
	// Sent files no longer count.
	nm := newMessage(c.ID, kustomer.DirectionIn, "", at(2))
	nm.Attachments = []kustomer.Attachment{first.Attachment}
	appendMsg(t, s, nm)
	must(t, "upload after sending", s.CreateAttachment(ctx, over, chunks(fileOf(600)), 1000))
}

func testAttachmentSend(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	other, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	a := uploadAttachment(t, s, c.ID, "a.pdf", 10, at(1))
	b := uploadAttachment(t, s, c.ID, "b.pdf", 20, at(1))
	elsewhere := uploadAttachment(t, s, other.ID, "c.pdf", 30, at(1))

	nm := newMessage(c.ID, kustomer.DirectionIn, "", at(2))
	nm.Attachments = []kustomer.Attachment{a.Attachment, b.Attachment}
	m := appendMsg(t, s, nm)
	for _, x := range []kustomer.StoredAttachment{a, b} {
		got, err := s.Attachment(ctx, x.ID)
		must(t, "Attachment", err)
		x.MessageID = m.ID
		checkAttachment(t, "sent", got, x)
	}

	refused := []struct {
		name string
		atts []kustomer.Attachment
	}{
		{"sent already", []kustomer.Attachment{a.Attachment}},
		{"of another conversation", []kustomer.Attachment{elsewhere.Attachment}},
		{"unknown", []kustomer.Attachment{{ID: "nope", Name: "nope.pdf"}}},
	}
	for _, r := range refused {
		nm := newMessage(c.ID, kustomer.DirectionIn, "again", at(3))
		nm.Attachments = r.atts
		_, _, err := s.AppendMessage(ctx, nm)
		var ce *kustomer.ConflictError
		if !errors.As(err, &ce) || ce.Code != "attachment_unavailable" {
			t.Errorf("a file %s: err = %v, want a ConflictError attachment_unavailable", r.name, err)
		}
	}
	if got := getConversation(t, s, c.ID).LastSeq; got != 2 {
		t.Errorf("after refused sends: LastSeq = %d, want 2 (nothing stored)", got)
	}

	// A note's file is marked private.
	note := privateNote(c.ID, "", 4)
	n := uploadAttachment(t, s, c.ID, "n.pdf", 5, at(4))
	note.Attachments = []kustomer.Attachment{n.Attachment}
	nm2 := appendMsg(t, s, note)
	got, err := s.Attachment(ctx, n.ID)
	must(t, "Attachment", err)
	n.MessageID, n.Private = nm2.ID, true
	checkAttachment(t, "a note's file", got, n)
}

func testAttachmentDeleteUnsent(t *testing.T, s kustomer.Store) {
	ctx := t.Context()
	c, _ := create(t, s, newConversation(kustomer.NewID(), at(0), "hello"))
	old1 := uploadAttachment(t, s, c.ID, "old1.pdf", 300<<10, at(1))
	old2 := uploadAttachment(t, s, c.ID, "old2.pdf", 10, at(2))
	sent := uploadAttachment(t, s, c.ID, "sent.pdf", 10, at(1))
	recent := uploadAttachment(t, s, c.ID, "recent.pdf", 10, at(10))
	nm := newMessage(c.ID, kustomer.DirectionIn, "", at(3))
	nm.Attachments = []kustomer.Attachment{sent.Attachment}
	appendMsg(t, s, nm)

	n, err := s.DeleteUnsentAttachments(ctx, at(5), 1)
	must(t, "DeleteUnsentAttachments", err)
	if n != 1 {
		t.Errorf("first call deleted %d, want 1 (the limit)", n)
	}
	n, err = s.DeleteUnsentAttachments(ctx, at(5), 10)
	must(t, "DeleteUnsentAttachments", err)
	if n != 1 {
		t.Errorf("second call deleted %d, want 1", n)
	}
	for _, gone := range []kustomer.StoredAttachment{old1, old2} {
		_, err := s.Attachment(ctx, gone.ID)
		wantErr(t, "deleted "+gone.Name, err, kustomer.ErrNotFound)
		_, err = s.CopyAttachment(ctx, gone.ID, &bytes.Buffer{})
		wantErr(t, "content of deleted "+gone.Name, err, kustomer.ErrNotFound)
	}
	for _, kept := range []kustomer.StoredAttachment{sent, recent} {
		if data := readAttachment(t, s, kept.ID); !bytes.Equal(data, fileOf(10)) {
			t.Errorf("%s: content changed", kept.Name)
		}
	}
}

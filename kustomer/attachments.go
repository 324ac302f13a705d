package kustomer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on attachments (the Kustomer Chat SDK's).
const (
	// MaxAttachmentBytes bounds one file.
	MaxAttachmentBytes = 5 << 20
	// MaxMessageAttachmentBytes bounds the files of one message together.
	MaxMessageAttachmentBytes = 19 << 19 // 9.5 MiB
	// MaxMessageAttachments bounds how many files one message carries.
	MaxMessageAttachments = 10
	// MaxUnsentAttachmentBytes bounds the files uploaded to one
	// conversation and not sent yet, so that anonymous uploads cannot grow
	// the database without bound.
	MaxUnsentAttachmentBytes = 20 << 20
	// UnsentAttachmentTTL is how long an uploaded file waits to be sent
	// before it is deleted.
	UnsentAttachmentTTL = 24 * time.Hour
	// AttachmentChunkSize is the largest piece of a file the store is handed.
	AttachmentChunkSize = 256 << 10
	// MaxAttachmentNameLen bounds a file's name, in characters.
	MaxAttachmentNameLen = 200
)

// builtinAttachmentTypes are the media types accepted without configuration.
var builtinAttachmentTypes = []string{
	"image/jpeg", "image/png", "image/gif", "image/webp",
	"application/pdf", "video/mp4", "video/quicktime", "text/plain",
}

// attachmentRule says, for error messages, which files are accepted.
const attachmentRule = "images (JPEG, PNG, GIF, WebP), PDF, MP4 or MOV video, and plain text"

// AttachmentURL is the path a file of a conversation is fetched at, by
// every participant (customer, agent, organization API).
func AttachmentURL(conversationID, id string) string {
	return "/conversations/" + conversationID + "/attachments/" + id
}

// IsInlineImage reports whether a file of contentType is shown inline as a
// picture rather than offered as a download.
func IsInlineImage(contentType string) bool {
	switch contentType {
	case "image/jpeg", "image/png", "image/gif", "image/webp":
		return true
	}
	return false
}

// UploadAttachment reads a file from r and stores it, unsent, in the
// conversation. Its type is sniffed from its content, never taken from
// name; a file of a type not accepted, empty, or larger than
// MaxAttachmentBytes is a *ValidationError on field "file" naming the file
// and the rule, and nothing is stored. The file is held in memory once, in
// the pieces it is read in.
func (e *Engine) UploadAttachment(ctx context.Context, actor Actor, conversationID, name string, r io.Reader) (Attachment, error) {
	c, err := e.Conversation(ctx, actor, conversationID)
	if err != nil {
		return Attachment{}, err
	}
	if c.Ended && actor.IsCustomer() {
		return Attachment{}, &ConflictError{Code: "conversation_ended", Reason: "the conversation has ended"}
	}
	name = cleanFileName(name)
	var (
		content [][]byte
		size    int64
	)
	for {
		buf := make([]byte, AttachmentChunkSize)
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			size += int64(n)
			if size > MaxAttachmentBytes {
				return Attachment{}, fileProblem("file_too_large", name, map[string]int{"megabytes": MaxAttachmentBytes >> 20}, nil,
					fmt.Sprintf("%s is larger than %s, the limit for one file", name, formatMB(MaxAttachmentBytes)))
			}
			content = append(content, buf[:n])
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return Attachment{}, fmt.Errorf("read attachment: %w", err)
		}
	}
	if size == 0 {
		return Attachment{}, fileProblem("file_empty", name, nil, nil, fmt.Sprintf("%s is empty", name))
	}
	ct := sniffAttachment(content[0])
	if !e.attachmentTypeAccepted(ct) {
		mt, _, _ := strings.Cut(ct, ";")
		return Attachment{}, fileProblem("file_type", name, nil, map[string]string{"type": mt, "extra": e.extraTypes()},
			fmt.Sprintf("%s is %s, which cannot be sent: accepted files are %s", name, describeType(ct), e.attachmentRule()))
	}
	id := NewID()
	a := StoredAttachment{
		Attachment:     Attachment{ID: id, Name: name, ContentType: ct, Size: size, URL: AttachmentURL(c.ID, id)},
		ConversationID: c.ID,
		Uploader:       Author{Type: actor.Type, ID: actor.ID},
		CreatedAt:      e.now(),
	}
	if err := e.store.CreateAttachment(ctx, a, content, MaxUnsentAttachmentBytes); err != nil {
		return Attachment{}, err
	}
	e.Observer.AttachmentStored(size)
	return a.Attachment, nil
}

// Attachment returns a file's record if actor may fetch it: agents may fetch
// any file; a customer, the files sent in their conversation (agents' notes
// excepted) and the ones they uploaded and have not sent yet. Any other file
// is ErrNotFound or ErrForbidden, as its conversation is.
func (e *Engine) Attachment(ctx context.Context, actor Actor, id string) (StoredAttachment, error) {
	if !ValidID(id) {
		return StoredAttachment{}, fmt.Errorf("attachment %q: %w", id, ErrNotFound)
	}
	a, err := e.store.Attachment(ctx, id)
	if err != nil {
		return StoredAttachment{}, err
	}
	if _, err := e.Conversation(ctx, actor, a.ConversationID); err != nil {
		return StoredAttachment{}, err
	}
	if actor.IsCustomer() && (a.Private || a.MessageID == "" && a.Uploader.ID != actor.ID) {
		return StoredAttachment{}, fmt.Errorf("attachment %s: %w", id, ErrNotFound)
	}
	a.URL = AttachmentURL(a.ConversationID, a.ID)
	return a, nil
}

// CopyAttachment writes the content of a file returned by Attachment to w.
func (e *Engine) CopyAttachment(ctx context.Context, a StoredAttachment, w io.Writer) (int64, error) {
	return e.store.CopyAttachment(ctx, a.ID, w)
}

// DeleteUnsentAttachments deletes the files uploaded more than
// UnsentAttachmentTTL ago and never sent, and returns how many.
func (e *Engine) DeleteUnsentAttachments(ctx context.Context) (int, error) {
	const batch = 100
	before := e.now().Add(-UnsentAttachmentTTL)
	total := 0
	for {
		n, err := e.store.DeleteUnsentAttachments(ctx, before, batch)
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}

// messageAttachments checks the files a message refers to by ID and returns
// their records: each must have been uploaded to the conversation by the
// same side (the customer, or the organization) and, for a customer, by
// that customer. Whether a file is still unsent is the
// store's to check, atomically with the send.
func (e *Engine) messageAttachments(ctx context.Context, actor Actor, c Conversation, refs []Attachment) ([]Attachment, error) {
	out := make([]Attachment, 0, len(refs))
	var total int64
	for i, ref := range refs {
		field := fmt.Sprintf("attachments[%d]", i)
		bad := func(msg string) error { return &ValidationError{Fields: map[string]string{field: msg}} }
		if !ValidID(ref.ID) {
			return nil, bad("must be the id of an uploaded file")
		}
		if slices.ContainsFunc(refs[:i], func(o Attachment) bool { return o.ID == ref.ID }) {
			return nil, bad("names the same file twice")
		}
		a, err := e.store.Attachment(ctx, ref.ID)
		if errors.Is(err, ErrNotFound) {
			return nil, bad("no such file: it was never uploaded or has expired; upload it again")
		}
		if err != nil {
			return nil, err
		}
		sameSide := a.Uploader.Type == AuthorCustomer == actor.IsCustomer()
		if a.ConversationID != c.ID || !sameSide || actor.IsCustomer() && a.Uploader.ID != actor.ID {
			return nil, bad("no such file: it was never uploaded or has expired; upload it again")
		}
		total += a.Size
		out = append(out, a.Attachment)
	}
	if total > MaxMessageAttachmentBytes {
		return nil, &ValidationError{Fields: map[string]string{"attachments": fmt.Sprintf("the files add up to %s; one message carries at most %s", formatMB(total), formatMB(MaxMessageAttachmentBytes))}}
	}
	for i := range out {
		out[i].URL = AttachmentURL(c.ID, out[i].ID)
	}
	return out, nil
}

// sniffAttachment names the media type of a file from its first bytes:
// net/http's sniffing, plus the video containers it does not name.
func sniffAttachment(head []byte) string {
	ct := http.DetectContentType(head)
	if ct == "application/octet-stream" && len(head) >= 12 {
		box, brand := string(head[4:8]), string(head[8:12])
		switch {
		case box == "ftyp" && brand == "qt  ":
			return "video/quicktime"
		case box == "ftyp" && slices.Contains([]string{"isom", "iso2", "iso4", "iso5", "iso6", "avc1", "M4V ", "M4VH", "M4VP", "dash", "mp41", "mp42"}, brand):
			return "video/mp4"
		case slices.Contains([]string{"moov", "mdat", "wide", "free", "skip", "pnot"}, box):
			// A QuickTime movie from before ftyp boxes.
			return "video/quicktime"
		}
	}
	if ct == "text/plain; charset=utf-8" {
		return ct // the charset is worth keeping for text
	}
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return ct
}

// attachmentTypeAccepted reports whether a sniffed type may be sent.
func (e *Engine) attachmentTypeAccepted(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	if slices.Contains(builtinAttachmentTypes, mt) {
		return true
	}
	return e.config != nil && slices.Contains(e.config.Attachments.Types, mt)
}

// attachmentRule says which files are accepted, for error messages.
func (e *Engine) attachmentRule() string {
	if e.config == nil || len(e.config.Attachments.Types) == 0 {
		return attachmentRule
	}
	return attachmentRule + ", and " + strings.Join(e.config.Attachments.Types, ", ")
}

// extraTypes lists the types accepted beyond the built-in ones, if any.
func (e *Engine) extraTypes() string {
	if e.config == nil {
		return ""
	}
	return strings.Join(e.config.Attachments.Types, ", ")
}

// fileProblem is a refused file as a validation error on field "file":
// msg in English, and code with the file's name and the numbers and words
// given, for a page to say in its reader's language.
func fileProblem(code, name string, params map[string]int, words map[string]string, msg string) *ValidationError {
	if words == nil {
		words = map[string]string{}
	}
	words["name"] = name
	return &ValidationError{Fields: map[string]string{"file": msg}, Problems: map[string]Problem{"file": {Code: code, Params: params, Words: words}}}
}

// describeType names a sniffed type for a person.
func describeType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	switch mt {
	case "text/html":
		return "an HTML page (text/html)"
	case "application/octet-stream":
		return "of an unknown type"
	}
	return "of type " + mt
}

// formatMB formats a size in megabytes, as the limits are stated.
func formatMB(n int64) string {
	s := fmt.Sprintf("%.1f", float64(n)/(1<<20))
	return strings.TrimSuffix(s, ".0") + " MB"
}

// cleanFileName keeps the last element of a file name a browser or client
// sent, without control characters, at most MaxAttachmentNameLen characters.
func cleanFileName(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == "/" || name == ".." {
		name = "file"
	}
	if r := []rune(name); len(r) > MaxAttachmentNameLen {
		name = string(r[:MaxAttachmentNameLen])
	}
	return name
}

// CleanUnsentAttachments deletes expired unsent files now and then every
// interval, until ctx ends. Failures are logged and tried again next time.
func (e *Engine) CleanUnsentAttachments(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := e.DeleteUnsentAttachments(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			e.log.ErrorContext(ctx, "delete unsent attachments", "err", err)
		case n > 0:
			e.log.InfoContext(ctx, "deleted unsent attachments", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

package handlers

import (
	"testing"
)

// FuzzDecodeFrame feeds arbitrary bytes to the socket's frame decoder: it
// must never panic, and a frame it accepts carries what its type needs.
func FuzzDecodeFrame(f *testing.F) {
	for _, seed := range []string{
		`{"type":"hello","afterSeq":3}`,
		`{"type":"hello"}`,
		`{"type":"send","clientMessageId":"a1","body":"hi","payload":{"x":1}}`,
		`{"type":"send","body":"no id"}`,
		`{"type":"typing","typing":true}`,
		`{"type":"read","seq":2}`,
		`{"type":"read"}`,
		`{"type":"hello","afterSeq":-1}`,
		`{"type":"send","clientMessageId":"a b","body":"x"}`,
		`{"type":"x","extra":1}`,
		`[1,2]`, `null`, `{}`, `{"type":"hello"}{"type":"hello"}`, "\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, ferr := decodeFrame(data)
		if ferr != nil {
			if ferr.Type != "error" || ferr.Code == "" || ferr.Message == "" {
				t.Fatalf("error frame %+v", ferr)
			}
			return
		}
		switch fr.Type {
		case "hello":
			if fr.AfterSeq != nil && *fr.AfterSeq < 0 {
				t.Fatalf("accepted negative afterSeq")
			}
		case "send":
			if !validClientID(fr.ClientMessageID) {
				t.Fatalf("accepted send without a valid clientMessageId: %q", fr.ClientMessageID)
			}
		case "typing":
			if fr.Typing == nil {
				t.Fatal("accepted typing without a value")
			}
		case "read":
			if fr.Seq == nil {
				t.Fatal("accepted read without a seq")
			}
		default:
			t.Fatalf("accepted unknown type %q", fr.Type)
		}
	})
}

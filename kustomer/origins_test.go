package kustomer_test

import (
	"strings"
	"testing"

	"github.com/handoff/handoff/kustomer"
)

func TestParseOrigin(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
	}{
		{"https://www.example.com", "https://www.example.com"},
		{"HTTPS://Shop.Example.com:443/", "https://shop.example.com"},
		{"http://example.com:80", "http://example.com"},
		{"http://example.com:443", "http://example.com:443"},
		{"https://example.com:80", "https://example.com:80"},
		{"http://localhost:8080", "http://localhost:8080"},
		{"http://127.0.0.1:3000", "http://127.0.0.1:3000"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"https://[2001:DB8::1]:443", "https://[2001:db8::1]"},
		{"  https://padded.example.com  ", "https://padded.example.com"},
		{"https://xn--bcher-kva.example", "https://xn--bcher-kva.example"},
		{"https://my_host.example.com", "https://my_host.example.com"},

		{"", ""},
		{"*", ""},
		{"https://*.example.com", ""},
		{"ftp://files.example.com", ""},
		{"example.com", ""},
		{"//example.com", ""},
		{"https:example.com", ""},
		{"https://", ""},
		{"https:///path", ""},
		{"https://www.example.com/path", ""},
		{"https://www.example.com//", ""},
		{"https://www.example.com/?", ""},
		{"https://www.example.com?a=1", ""},
		{"https://www.example.com#top", ""},
		{"https://www.example.com#", ""},
		{"https://user@www.example.com", ""},
		{"https://user:pw@www.example.com", ""},
		{"https://www.example.com:0", ""},
		{"https://www.example.com:65536", ""},
		{"https://www.example.com:https", ""},
		{"https://www..example.com", ""},
		{"https://www.example.com.", ""},
		{"https://bücher.example", ""},
		{"https://exa mple.com", ""},
		{"https://example.com\\@evil.com", ""},
		{"https://%65xample.com", ""},
		{"https://[::ffff:1.2.3.4]", ""}, // browsers write it differently
		{"javascript:alert(1)", ""},
		{"https://" + strings.Repeat("a", 300) + ".com", ""},
	}
	for _, tt := range tests {
		got, err := kustomer.ParseOrigin(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseOrigin(%q) = %q, want an error", tt.in, got)
			} else if !strings.Contains(err.Error(), "is not an origin like https://www.example.com") {
				t.Errorf("ParseOrigin(%q) error %q does not say what an origin looks like", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseOrigin(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseOriginMessage(t *testing.T) {
	_, err := kustomer.ParseOrigin("ftp://x")
	if err == nil || err.Error() != `"ftp://x" is not an origin like https://www.example.com` {
		t.Errorf("error = %v", err)
	}
	_, err = kustomer.ParseOrigin("https://" + strings.Repeat("a", 500))
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("a long entry is quoted in full: %d bytes", len(err.Error()))
	}
}

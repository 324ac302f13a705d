package kustomer

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxAllowedOrigins bounds how many origins may embed one form.
const MaxAllowedOrigins = 20

// maxOriginLen bounds one origin: a scheme, a 253-byte host name and a port.
const maxOriginLen = 300

// ParseOrigin checks that s is a web origin, scheme://host[:port] with
// scheme http or https, and returns it as browsers send it in an Origin
// header: scheme and host in lower case, without a default port (:80 for
// http, :443 for https). A single trailing "/" is dropped; userinfo, any
// other path, a query, a fragment and wildcards are refused.
func ParseOrigin(s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := func() (string, error) {
		return "", fmt.Errorf("%q is not an origin like https://www.example.com", shorten(s, 80))
	}
	if s == "" || len(s) > maxOriginLen || strings.ContainsAny(s, "*?#\\ \t\r\n") {
		return bad()
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawPath != "" {
		return bad()
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return bad()
	}
	host := strings.ToLower(u.Hostname())
	if !validHost(host) {
		return bad()
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return bad()
		}
		if (scheme == "http" && n != 80) || (scheme == "https" && n != 443) {
			host += ":" + strconv.Itoa(n)
		}
	}
	return scheme + "://" + host, nil
}

// validHost reports whether h (lower case, without brackets) is an IP
// address or a DNS name of ASCII letters, digits, "-" and "_" in non-empty
// labels.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if strings.Contains(h, ":") {
		ip := net.ParseIP(h)
		return ip != nil && ip.To4() == nil
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
				return false
			}
		}
	}
	return true
}

// parseOrigins normalizes every origin of list with ParseOrigin, dropping
// repeats and keeping the order. It reports the first invalid entry, or
// more than MaxAllowedOrigins distinct origins. The result is never nil.
func parseOrigins(list []string) ([]string, error) {
	out := make([]string, 0, min(len(list), MaxAllowedOrigins))
	seen := make(map[string]bool, len(list))
	for _, s := range list {
		o, err := ParseOrigin(s)
		if err != nil {
			return nil, err
		}
		if seen[o] {
			continue
		}
		seen[o] = true
		out = append(out, o)
	}
	if len(out) > MaxAllowedOrigins {
		return nil, fmt.Errorf("at most %d origins may embed a form (this list has %d)", MaxAllowedOrigins, len(out))
	}
	return out, nil
}

// shorten returns s cut to at most n runes, marking a cut with "…".
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/andybalholm/brotli"
)

// visit is what a browser transfers to show one page: the page and the
// files it links (stylesheets, scripts, icons, images under /static/).
type visit struct {
	Requests int   `json:"requests"`
	Bytes    int64 `json:"bytes"` // bodies as sent (compressed), headers not counted
}

// assetRefs finds the /static/ files a page links.
var assetRefs = regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`)

// cachedAsset is what a browser keeps of a file: whether it may reuse it
// without asking (immutable, within max-age), and its ETag to revalidate.
type cachedAsset struct {
	fresh bool
	etag  string
}

// measureVisits loads path as a browser with an empty cache would, then
// again with what that visit cached: the repeat visit fetches the page,
// skips the files it may keep for good, and revalidates the others by
// ETag (a 304 sends no body).
func measureVisits(ctx context.Context, b *browser, path string) (first, repeat visit, err error) {
	cache := map[string]cachedAsset{}
	load := func(v *visit, repeat bool) error {
		accept := http.Header{"Accept-Encoding": {"br, gzip"}}
		res, body, err := b.get(ctx, path, accept)
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			return &statusError{"GET " + path, res.StatusCode, snippet(body)}
		}
		v.Requests++
		v.Bytes += int64(len(body))
		html, err := decoded(res, body)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, m := range assetRefs.FindAllStringSubmatch(html, -1) {
			ref := m[1]
			if seen[ref] {
				continue
			}
			seen[ref] = true
			h := accept.Clone()
			if c, ok := cache[ref]; repeat && ok {
				if c.fresh {
					continue // kept for good: not asked for
				}
				if c.etag != "" {
					h.Set("If-None-Match", c.etag)
				}
			}
			res, body, err := b.get(ctx, ref, h)
			if err != nil {
				return err
			}
			if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusNotModified {
				return &statusError{"GET " + ref, res.StatusCode, snippet(body)}
			}
			v.Requests++
			v.Bytes += int64(len(body))
			if res.StatusCode == http.StatusOK {
				cache[ref] = cachedAsset{fresh: strings.Contains(res.Header.Get("Cache-Control"), "immutable"), etag: res.Header.Get("ETag")}
			}
		}
		return nil
	}
	if err := load(&first, false); err != nil {
		return first, repeat, fmt.Errorf("first visit: %w", err)
	}
	if err := load(&repeat, true); err != nil {
		return first, repeat, fmt.Errorf("repeat visit: %w", err)
	}
	return first, repeat, nil
}

// decoded is a response's body as the browser reads it, decompressed.
func decoded(res *http.Response, body []byte) (string, error) {
	var r io.Reader
	switch res.Header.Get("Content-Encoding") {
	case "":
		return string(body), nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	default:
		return "", fmt.Errorf("unexpected Content-Encoding %q", res.Header.Get("Content-Encoding"))
	}
	b, err := io.ReadAll(r)
	return string(b), err
}

package static

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"
)

// hashLen is how many hex digits of a file's SHA-256 its fingerprinted
// name carries.
const hashLen = 10

var (
	// byName maps a file ("css/app.css") to its fingerprinted name
	// ("css/app.3f9c0a1b2c.css"), and byHashed back.
	byName   = map[string]string{}
	byHashed = map[string]string{}
)

func init() {
	err := fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := FS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h := fingerprinted(p, hex.EncodeToString(sum[:])[:hashLen])
		byName[p], byHashed[h] = h, p
		return nil
	})
	if err != nil {
		panic(err) // the embedded files are readable, or the binary is broken
	}
}

// fingerprinted puts hash before the file's extension.
func fingerprinted(name, hash string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

// Path is the URL of file name ("css/app.css") with its content's hash in
// it ("/static/css/app.3f9c0a1b2c.css"): a URL whose content never changes,
// so browsers and caches may keep it for good. A name not in FS is given
// as /static/name.
func Path(name string) string {
	if h, ok := byName[name]; ok {
		return "/static/" + h
	}
	return "/static/" + name
}

// Resolve finds the file a path under /static/ asks for: by its
// fingerprinted name (current=true: the content is the one the name
// promises, cacheable for good), by its plain name, or by a name whose
// hash is not the current file's (a page of an earlier release): then the
// current file, current=false. ok=false when there is no such file.
func Resolve(p string) (name string, current, ok bool) {
	if n, found := byHashed[p]; found {
		return n, true, true
	}
	if _, found := byName[p]; found {
		return p, false, true
	}
	// name.<hash>.ext of another release.
	ext := path.Ext(p)
	base := strings.TrimSuffix(p, ext)
	if i := strings.LastIndexByte(base, '.'); i > 0 && len(base)-i-1 == hashLen {
		if n := base[:i] + ext; byName[n] != "" {
			return n, false, true
		}
	}
	return "", false, false
}

// Package static holds the files served under /static/: the stylesheet, the
// browser scripts and the images. It has no logic of its own.
package static

import "embed"

// FS holds css/, js/ and img/, with paths relative to this directory
// (for example "css/app.css").
//
//go:embed css js img
var FS embed.FS

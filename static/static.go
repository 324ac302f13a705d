// Package static holds the files served under /static/: the stylesheet, the
// browser scripts, the images and the embed loader. It has no logic of its
// own.
package static

import "embed"

// FS holds css/, js/, img/ and embed.js, with paths relative to this
// directory (for example "css/app.css"). embed.js is generated from
// src/embed.js (make generate); src/ itself is not embedded, so not served.
//
//go:embed css js img embed.js
var FS embed.FS

package handlers

import "github.com/handoff/handoff/handlers/apitest"

// invalidHeader marks a request a test sends malformed on purpose; see
// apitest.InvalidHeader.
const invalidHeader = apitest.InvalidHeader

// invalid is the header argument of sendJSON for such a request.
var invalid = []string{invalidHeader, "1"}

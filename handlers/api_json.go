package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
)

const maxJSONBytes = 512 << 10

// decodeJSON reads the request's JSON object into dst, refusing unknown
// fields, trailing data, other content types and oversized bodies with a
// clear error.
func decodeJSON(c echo.Context, dst any) error {
	r := c.Request()
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Title: "Unsupported media type", Detail: "Send the body as application/json."}
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), r.Body, maxJSONBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if dec.More() || dec.Decode(&struct{}{}) != io.EOF {
			return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Title: "Invalid JSON", Detail: "The body must hold a single JSON object."}
		}
		return nil
	}
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Title: "Body too large", Detail: fmt.Sprintf("The body must be at most %d bytes.", maxJSONBytes)}
	case errors.Is(err, io.EOF):
		return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Title: "Invalid JSON", Detail: "The body is empty; send a JSON object."}
	case errors.As(err, &syn):
		return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Title: "Invalid JSON", Detail: fmt.Sprintf("The body is not valid JSON (at byte %d).", syn.Offset)}
	case errors.As(err, &typ):
		ptr := "/" + strings.ReplaceAll(typ.Field, ".", "/")
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid", Title: "Invalid value", Detail: fmt.Sprintf("%s must be %s, not %s.", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value), Pointer: ptr}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &Error{Status: http.StatusBadRequest, Code: "unknown_field", Title: "Unknown field", Detail: fmt.Sprintf("%q is not a field of this request.", name), Pointer: "/" + name}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Title: "Invalid JSON", Detail: "The body ends too early."}
	}
	return &Error{Status: http.StatusBadRequest, Code: "invalid_json", Title: "Invalid JSON", Detail: "The body could not be read as JSON."}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "int", "int64", "float64":
		return "a number"
	}
	return "another type"
}

// seqParam reads an optional non-negative integer query parameter.
func seqParam(c echo.Context, name string) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, &kustomer.ValidationError{Fields: map[string]string{name: "must be a whole number, 0 or more"}}
	}
	return n, nil
}

// messageQuery reads afterSeq, beforeSeq and max, or their inclusive
// equivalents as the agent-side queryMessages names them: sequenceMin,
// sequenceMax and maxQuantity. A request names one of each pair.
func messageQuery(c echo.Context) (kustomer.MessageQuery, error) {
	var q kustomer.MessageQuery
	verr := &kustomer.ValidationError{}
	param := func(name string) int64 {
		n, err := seqParam(c, name)
		if err != nil {
			verr.Add(name, "must be a whole number, 0 or more")
		}
		return n
	}
	both := func(a, b string) bool {
		if c.QueryParam(a) != "" && c.QueryParam(b) != "" {
			verr.Add(b, fmt.Sprintf("cannot be given with %s", a))
			return true
		}
		return false
	}
	q.AfterSeq, q.BeforeSeq = param("afterSeq"), param("beforeSeq")
	max, maxName := param("max"), "max"
	if !both("afterSeq", "sequenceMin") {
		if min := param("sequenceMin"); min > 0 {
			q.AfterSeq = min - 1
		}
	}
	if !both("beforeSeq", "sequenceMax") && c.QueryParam("sequenceMax") != "" {
		q.BeforeSeq = param("sequenceMax") + 1
	}
	if !both("max", "maxQuantity") && c.QueryParam("maxQuantity") != "" {
		max, maxName = param("maxQuantity"), "maxQuantity"
	}
	if max > kustomer.MaxMessages {
		verr.Add(maxName, fmt.Sprintf("must be between 1 and %d", kustomer.MaxMessages))
	}
	q.Max = int(max)
	return q, verr.OrNil()
}

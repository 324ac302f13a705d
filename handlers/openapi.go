package handlers

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDocument describes /api/v1: the customer API and the organization
// API, as OpenAPI 3.1. TestOpenAPIDocument keeps its routes those of
// routes.go, and the handlers' tests check every request they send to
// /api/v1 and every answer against it.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPIShow is GET /api/v1/openapi.json.
func (s *Server) openAPIShow(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDocument)
}

// OpenAPIDocument is the API's description (openapi.json), for tools and
// the tests that check traffic against it.
func OpenAPIDocument() []byte { return openAPIDocument }

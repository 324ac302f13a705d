package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/views"
	"github.com/handoff/handoff/views/locale"
)

// fieldLang is the form's hidden field that carries the page's language
// into the conversation it creates. Operators' field names cannot hold a
// dash, so it never collides with one.
const fieldLang = views.LangField

// fieldTimeZone is the form's hidden field the page's script fills with
// the visitor's time zone, for the times in emails.
const fieldTimeZone = views.TimeZoneField

// pageLocale chooses the language of a customer's page: explicit (a ?lang=
// or the form's hidden field) when it names a language we ship, else
// setting (the form's, or the conversation's) when it is a fixed one, else
// the browser's Accept-Language, else English. A page whose language may
// follow the header says so in Vary, for caches.
func pageLocale(c echo.Context, explicit, setting string) *locale.Localizer {
	if _, ok := locale.Match(explicit); !ok || explicit == "" {
		if _, ok := locale.Match(setting); !ok || setting == "" {
			c.Response().Header().Add("Vary", "Accept-Language")
		}
	}
	return locale.Choose(explicit, setting, c.Request().Header.Get("Accept-Language"))
}

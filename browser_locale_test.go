package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// pageLanguage is what a page says of its language and how it lays out.
type pageLanguage struct {
	Lang        string `json:"lang"`
	Dir         string `json:"dir"`
	Direction   string `json:"direction"` // the computed direction of <main>
	NameLabel   string `json:"nameLabel"`
	Placeholder string `json:"placeholder"`
	Status      string `json:"status"` // the connection pill, written by the script
}

const pageLanguageJS = `(() => {
	const label = document.querySelector('[data-field="name"] label');
	const composer = document.querySelector('[data-testid="composer-body"]');
	return {
		lang: document.documentElement.lang,
		dir: document.documentElement.dir,
		direction: getComputedStyle(document.querySelector("main")).direction,
		nameLabel: label ? label.firstChild.textContent.trim() : "",
		placeholder: composer ? composer.placeholder : "",
		status: (document.querySelector('[data-testid="connection-status"]') || {textContent: ""}).textContent.trim(),
	};
})()`

// acceptLanguage makes the tab's requests ask for languages, as a browser
// set to them does.
func (p *tab) acceptLanguage(languages string) {
	p.t.Helper()
	p.do("ask for "+languages, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": languages}})
		return err
	}))
}

func (p *tab) language() pageLanguage {
	p.t.Helper()
	return runAction(p, "read the page's language", chromedp.Evaluate[pageLanguage](pageLanguageJS))
}

// TestBrowserLanguages: a browser that asks for Arabic gets the form and
// then its chat in Arabic, mirrored right to left; a ?lang=es on the form
// beats a German browser, and the chat stays Spanish.
func TestBrowserLanguages(t *testing.T) {
	browser := newBrowser(t)
	// A server per size: the flow hands off twice, and four hand-offs from
	// one address within a minute meet the hand-off limit.
	atBothSizes(t, func(t *testing.T, d display) { languagesFlow(t, startServer(t), browser, d) })
}

func languagesFlow(t *testing.T, srv *testServer, browser *tab, d display) {
	ar := browser.tabAt(t, d)
	ar.acceptLanguage("ar-EG,ar;q=0.9")
	ar.open(srv, "/forms/contact", http.StatusOK)
	if got := ar.language(); got.Lang != "ar" || got.Dir != "rtl" || got.Direction != "rtl" || got.NameLabel != "اسمك" {
		ar.fatalf("Arabic form: %+v, want lang ar, rtl, the name label اسمك", got)
	}
	if d.name == "desktop" {
		ar.screenshot("form-ar.png")
	}
	ar.fill(contactForm{Name: "ليلى", Email: "layla@example.com", Topic: "billing", Message: "فاتورتي غير صحيحة"})
	if res := ar.submitForm(); res.Status != http.StatusOK {
		ar.fatalf("submit: status %d", res.Status)
	}
	ar.waitLive()
	if got := ar.language(); got.Lang != "ar" || got.Dir != "rtl" || got.Direction != "rtl" || got.Placeholder != "اكتب رسالة…" || got.Status != "متصل" {
		ar.fatalf("Arabic chat: %+v", got)
	}
	if d.name == "desktop" {
		ar.screenshot("chat-ar.png")
	}

	es := browser.tabAt(t, d)
	es.acceptLanguage("de-DE,de;q=0.9")
	es.open(srv, "/forms/contact?lang=es", http.StatusOK)
	if got := es.language(); got.Lang != "es" || got.Dir != "ltr" || got.NameLabel != "Tu nombre" {
		es.fatalf("?lang=es form: %+v", got)
	}
	es.fill(contactForm{Name: "Lucía", Email: "lucia@example.com", Topic: "order", Message: "Mi pedido no ha llegado"})
	if res := es.submitForm(); res.Status != http.StatusOK {
		es.fatalf("submit: status %d", res.Status)
	}
	es.waitLive()
	if got := es.language(); got.Lang != "es" || got.Placeholder != "Escribe un mensaje…" || got.Status != "En directo" {
		es.fatalf("chat after ?lang=es, German browser: %+v", got)
	}
	// A message sent over the socket comes back rendered in Spanish: the
	// socket speaks the page's language.
	es.do("send a message", chromedp.SendKeys(tid("composer-body"), "¿Hay novedades?"), chromedp.Click(tid("send")))
	es.waitFor("the sent message, stored and labelled in Spanish",
		`(() => { const a = document.querySelector('[data-testid="thread"] li[data-seq="2"] [data-testid="message-author"]'); return a !== null && a.textContent.trim() === "Tú"; })()`)
	// A file the chat refuses is explained in Spanish too (the page's
	// language, not the German browser's), naming the file.
	page := filepath.Join(t.TempDir(), "pagina.png")
	if err := os.WriteFile(page, []byte("<!DOCTYPE html><html><body>hola</body></html>"), 0o600); err != nil {
		t.Fatal(err)
	}
	es.do("attach a web page named .png and send it", chromedp.SetUploadFiles(tid("composer-file"), []string{page}), chromedp.Click(tid("send")))
	es.waitFor("the refusal, in Spanish, naming the file",
		`(() => { const n = document.querySelector('[data-testid="notice"]'); return n !== null && !n.hidden && n.textContent.includes("El archivo pagina.png (text/html) no se puede enviar"); })()`)
	// Reloaded, the chat keeps the conversation's language.
	es.navigate("reload the chat", chromedp.Reload())
	if got := es.language(); got.Lang != "es" {
		es.fatalf("reloaded chat: %+v", got)
	}
}

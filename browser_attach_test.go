package main

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// writePicture writes a small real PNG to a temporary file and returns its
// path.
func writePicture(t testing.TB) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		for y := range 30 {
			img.Set(x, y, color.RGBA{R: uint8(6 * x), G: 120, B: uint8(8 * y), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "parcel photo.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// imageShownJS is true once the thread shows a picture that has loaded.
const imageShownJS = `Array.from(document.querySelectorAll('[data-testid="thread"] > li:not([data-local]) [data-testid="attachment-image"]'))
	.some(img => img.complete && img.naturalWidth === 40 && img.alt === "parcel photo.png")`

// TestBrowserAttachment: the customer attaches a picture in the chat and
// sends it with a few words; the agent's console shows it live, as a loaded
// preview, without a reload.
func TestBrowserAttachment(t *testing.T) {
	srv := startServer(t)
	browser := newBrowser(t)
	team := newConsoleTeam(srv, browser)

	customer := browser.isolatedTab()
	id := customer.startConversation(srv, contactForm{Name: "Priya Patel", Email: "priya@example.com", Topic: "order", OrderNumber: "A-10042", Message: "My parcel arrived broken."})
	customer.waitLive()

	dana := browser.isolatedTab()
	dana.signIn(srv, team.dana.Email, team.dana.Password)
	dana.open(srv, "/agent/conversations/"+id, http.StatusOK)
	dana.waitLive()
	dana.markPage()

	const words = "Here is a photo of the box."
	customer.markPage()
	customer.do("attach a picture and send it",
		chromedp.SetUploadFiles(tid("composer-file"), []string{writePicture(t)}),
		chromedp.SendKeys(tid("composer-body"), words),
		chromedp.Click(tid("send")))
	customer.waitWithin(liveWithin, "the customer's picture is shown, sent", imageShownJS)
	customer.waitFor("the words went with it", messageIsShownJS(words, "in"))
	dana.waitWithin(liveWithin, "the agent sees the picture live", imageShownJS)
	dana.waitFor("and the words", messageIsShownJS(words, "in"))
	dana.checkNotReloaded("the picture")
	customer.checkNotReloaded("sending the picture") // uploaded by the script, sent over the socket
	if got := runAction(customer, "read the file input", chromedp.Evaluate[int](`document.querySelector('[data-testid="composer-file"]').files.length`)); got != 0 {
		customer.fatalf("the file input still holds %d files after sending", got)
	}

	// A picture pasted into the composer, then one dropped on it, each sent
	// alone: the agent sees both.
	pic, err := os.ReadFile(writePicture(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, how := range []string{"paste", "drop"} {
		name := how + "d.png"
		customer.do(how+" a picture", chromedp.Evaluate[chromedp.Void](`(() => {
			const bytes = Uint8Array.from(atob(`+jsString(base64.StdEncoding.EncodeToString(pic))+`), c => c.charCodeAt(0));
			const dt = new DataTransfer();
			dt.items.add(new File([bytes], `+jsString(name)+`, {type: "image/png"}));
			const target = document.querySelector('[data-testid="composer-body"]');
			const ev = `+jsString(how)+` === "paste"
				? new ClipboardEvent("paste", {clipboardData: dt, bubbles: true, cancelable: true})
				: new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true});
			target.dispatchEvent(ev);
		})()`), chromedp.Click(tid("send")))
		shown := `Array.from(document.querySelectorAll('[data-testid="thread"] > li:not([data-local]) [data-testid="attachment-image"]')).some(img => img.complete && img.naturalWidth === 40 && img.alt === ` + jsString(name) + `)`
		dana.waitWithin(liveWithin, "the agent sees the "+how+"d picture", shown)
		// The customer's own page has it too before the next one goes
		// (the sent picture replaces the local one and loads: the page
		// settles before the next drop and click).
		customer.waitWithin(liveWithin, "the customer's "+how+"d picture is shown, sent", shown)
	}
	customer.checkNotReloaded("pasting and dropping pictures")
}

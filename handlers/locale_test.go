package handlers

import (
	"github.com/handoff/handoff/kustomer"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// getIn fetches path as c with the browser's Accept-Language set to accept.
func (c *client) getIn(path, accept string) response {
	c.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.e.URL+path, nil)
	req.Header.Set("Accept-Language", accept)
	return c.do(req)
}

// postIn posts the form v to path with the browser's Accept-Language.
func (c *client) postIn(path, accept string, v url.Values) response {
	c.e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.e.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", accept)
	return c.do(req)
}

func pageLang(doc *goquery.Document) (lang, dir string) {
	h := doc.Find("html")
	lang, _ = h.Attr("lang")
	dir, _ = h.Attr("dir")
	return lang, dir
}

// TestFormLanguage: the form speaks the browser's language, unless ?lang=
// or the form's own setting says otherwise; Arabic mirrors the page.
func TestFormLanguage(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for _, tt := range []struct {
		name, path, accept       string
		lang, dir, submit, label string
		varyAcceptLanguage       bool
	}{
		{"English by default", "/forms/contact", "", "en", "ltr", "Start chat", "Your name", true},
		{"the browser's Arabic", "/forms/contact", "ar-EG,ar;q=0.9", "ar", "rtl", "بدء المحادثة", "اسمك", true},
		{"the browser's German", "/forms/contact", "de-CH, en;q=0.5", "de", "ltr", "Chat starten", "Ihr Name", true},
		{"?lang= beats the browser", "/forms/contact?lang=es", "de", "es", "ltr", "Iniciar chat", "Tu nombre", false},
		{"a language we do not ship", "/forms/contact", "ja", "en", "ltr", "Start chat", "Your name", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := c.getIn(tt.path, tt.accept)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			doc := res.doc(t)
			if lang, dir := pageLang(doc); lang != tt.lang || dir != tt.dir {
				t.Errorf("<html lang=%q dir=%q>, want %q %q", lang, dir, tt.lang, tt.dir)
			}
			if got := strings.TrimSpace(doc.Find(`[data-testid="submit"]`).Text()); got != tt.submit {
				t.Errorf("submit button %q, want %q", got, tt.submit)
			}
			// The operator's words in handoff.yaml, per language.
			if got := doc.Find(`[data-field="name"] label`).Text(); !strings.Contains(got, tt.label) {
				t.Errorf("name label %q, want %q", got, tt.label)
			}
			if v, _ := doc.Find(`input[name="handoff-lang"]`).Attr("value"); v != tt.lang {
				t.Errorf("hidden language field %q, want %q", v, tt.lang)
			}
			vary := strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Accept-Language")
			if vary != tt.varyAcceptLanguage {
				t.Errorf("Vary: Accept-Language %v, want %v (headers %v)", vary, tt.varyAcceptLanguage, res.Header.Values("Vary"))
			}
		})
	}

	// A form set to German speaks German whatever the browser says.
	f, _ := e.engine.Config().Form("contact")
	f.Language = "de"
	doc := c.getIn("/forms/contact", "fr").doc(t)
	if lang, _ := pageLang(doc); lang != "de" {
		t.Errorf("form set to de: <html lang=%q>", lang)
	}
	f.Language = "auto"

	// An invalid submission is re-shown in the language it was filled in,
	// with the plural of its summary in that language.
	v := contactForm()
	v.Set("name", "")
	v.Set("handoff-lang", "de")
	res := c.postIn("/forms/contact", "en", v)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid submit: status %d", res.StatusCode)
	}
	doc = res.doc(t)
	if lang, _ := pageLang(doc); lang != "de" {
		t.Errorf("re-shown form: <html lang=%q>, want de", lang)
	}
	if got := strings.TrimSpace(doc.Find(`[data-testid="error-summary"] h2`).Text()); got != "Bitte korrigieren Sie das markierte Feld" {
		t.Errorf("error summary %q", got)
	}
	if got := strings.TrimSpace(doc.Find(`[data-testid="error-name"]`).Text()); got != "Dieses Feld ist ein Pflichtfeld." {
		t.Errorf("name's error %q, want it in German", got)
	}

	// Numbers in problems take the language's plural: a French name too
	// long, and an Arabic email that is not one.
	v = contactForm()
	v.Set("name", strings.Repeat("n", 101))
	v.Set("handoff-lang", "fr")
	doc = c.postIn("/forms/contact", "en", v).doc(t)
	if got := strings.TrimSpace(doc.Find(`[data-testid="error-name"]`).Text()); got != "100 caractères au plus (il y en a 101)." {
		t.Errorf("French length error %q", got)
	}
	v = contactForm()
	v.Set("email", "dana@")
	v.Set("handoff-lang", "ar")
	doc = c.postIn("/forms/contact", "en", v).doc(t)
	if got := strings.TrimSpace(doc.Find(`[data-testid="error-email"]`).Text()); got != "أدخل بريدًا إلكترونيًا مثل name@example.com." {
		t.Errorf("Arabic email error %q", got)
	}
}

// TestConversationKeepsLanguage: the conversation records the language of
// the form it came from, and its chat page speaks it whatever the browser
// says, unless ?lang= asks for another.
func TestConversationKeepsLanguage(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	v := contactForm()
	v.Set("handoff-lang", "es")
	res := c.postIn("/forms/contact", "en-US", v)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: status %d: %s", res.StatusCode, res.Body)
	}
	id := strings.TrimPrefix(res.Header.Get("Location"), "/conversations/")
	conv, err := e.store.Conversation(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Lang != "es" {
		t.Errorf("conversation lang %q, want es", conv.Lang)
	}
	page := c.getIn("/conversations/"+id, "de")
	doc := page.doc(t)
	if lang, _ := pageLang(doc); lang != "es" {
		t.Errorf("chat page <html lang=%q>, want es", lang)
	}
	if ph, _ := doc.Find(`[data-testid="composer-body"]`).Attr("placeholder"); ph != "Escribe un mensaje…" {
		t.Errorf("composer placeholder %q", ph)
	}
	if vary := page.Header.Values("Vary"); strings.Contains(strings.Join(vary, ","), "Accept-Language") {
		t.Errorf("chat page of a conversation with a language varies by Accept-Language: %v", vary)
	}
	doc = c.getIn("/conversations/"+id+"?lang=ar", "de").doc(t)
	if lang, dir := pageLang(doc); lang != "ar" || dir != "rtl" {
		t.Errorf("?lang=ar: <html lang=%q dir=%q>", lang, dir)
	}
}

// TestFormOffersOpenConversation: back on the form after a hand-off, the
// visitor is offered their open conversation above the form (another form
// offers nothing); once it has ended, nothing is offered.
func TestFormOffersOpenConversation(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	if n := c.get("/forms/contact").doc(t).Find(`[data-testid="continue-conversation"]`).Length(); n != 0 {
		t.Fatalf("a new visitor is offered a conversation")
	}
	id := c.handoff(t)
	doc := c.get("/forms/contact").doc(t)
	if href, _ := doc.Find(`[data-testid="continue-link"]`).Attr("href"); href != "/conversations/"+id {
		t.Errorf("continue link %q, want /conversations/%s", href, id)
	}
	if doc.Find(`[data-testid="handoff-form"]`).Length() != 1 {
		t.Error("the form is gone: a new conversation must stay possible")
	}
	if n := c.get("/forms/sales").doc(t).Find(`[data-testid="continue-conversation"]`).Length(); n != 0 {
		t.Error("another form offers this form's conversation")
	}
	if _, err := e.engine.EndConversation(t.Context(), kustomer.Actor{Type: kustomer.AuthorAgent, ID: "a1", Name: "Grace"}, id); err != nil {
		t.Fatal(err)
	}
	if n := c.get("/forms/contact").doc(t).Find(`[data-testid="continue-conversation"]`).Length(); n != 0 {
		t.Error("an ended conversation is offered")
	}
}

// TestExpectation: the form and the chat, until somebody answers, say how
// soon an answer usually comes; outside the form's hours, when the team is
// back, in the page's language.
func TestExpectation(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	// Nobody online: the answer comes later, by email.
	const offline = "Our team is offline right now. Leave your message: we'll answer by email."
	if got := strings.TrimSpace(c.get("/forms/contact").doc(t).Find(`[data-testid="expectation"]`).Text()); got != offline {
		t.Errorf("form with nobody online: expectation %q", got)
	}
	// An agent online, with a console open.
	grace := e.newAgent(t, "Grace", kustomer.RoleAgent)
	if _, err := e.engine.SetAgentStatus(t.Context(), grace.ID, kustomer.StatusOnline, false); err != nil {
		t.Fatal(err)
	}
	e.engine.TouchAgent(t.Context(), grace.ID)
	if got := strings.TrimSpace(c.get("/forms/contact").doc(t).Find(`[data-testid="expectation"]`).Text()); got != "We usually reply within 5 minutes." {
		t.Errorf("form: expectation %q", got)
	}
	id := c.handoff(t)
	if got := strings.TrimSpace(c.get("/conversations/" + id).doc(t).Find(`[data-testid="expectation"]`).Text()); got != "We usually reply within 5 minutes." {
		t.Errorf("chat before an answer: expectation %q", got)
	}
	if _, _, err := e.engine.SendMessage(t.Context(), kustomer.Actor{Type: kustomer.AuthorAgent, ID: "a1", Name: "Grace"}, kustomer.SendMessageInput{ConversationID: id, Body: "Hi!"}); err != nil {
		t.Fatal(err)
	}
	if n := c.get("/conversations/" + id).doc(t).Find(`[data-testid="expectation"]`).Length(); n != 0 {
		t.Error("the chat still promises an answer after one came")
	}

	// Closed today (a holiday in a schedule open every day): back tomorrow
	// at midnight, said in Spanish.
	f, _ := e.engine.Config().Form("contact")
	day := []string{"00:00-24:00"}
	today := time.Now().UTC()
	f.Hours = &kustomer.Schedule{TimeZone: "UTC", Weekly: map[string][]string{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day},
		Holidays: []string{today.Format("2006-01-02")}}
	if p := f.Hours.Compile(); len(p) != 0 {
		t.Fatal(p)
	}
	doc := c.get("/forms/contact?lang=es").doc(t)
	back, _ := doc.Find(`[data-testid="expect-back"]`).Attr("datetime")
	if want := time.Date(today.Year(), today.Month(), today.Day()+1, 0, 0, 0, 0, time.UTC).Format("2006-01-02T15:04:05Z07:00"); back != want {
		t.Errorf("back at %q, want %q", back, want)
	}
	if got := doc.Find(`[data-testid="expectation"]`).Text(); !strings.HasPrefix(strings.TrimSpace(got), "Volvemos el ") {
		t.Errorf("closed, in Spanish: %q", got)
	}
}

// TestChatGroupsAuthors: a reloaded thread shows one author's consecutive
// messages grouped, as the live thread does.
func TestChatGroupsAuthors(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	id := c.handoff(t)
	grace := kustomer.Actor{Type: kustomer.AuthorAgent, ID: "a1", Name: "Grace Hopper"}
	for _, body := range []string{"Hello!", "Let me look.", "Found it."} {
		if _, _, err := e.engine.SendMessage(t.Context(), grace, kustomer.SendMessageInput{ConversationID: id, Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	var got []bool
	c.get("/conversations/" + id).doc(t).Find(`[data-testid="message"]`).Each(func(_ int, s *goquery.Selection) {
		got = append(got, s.HasClass("msg-grouped"))
	})
	if want := []bool{false, false, true, true}; !slices.Equal(got, want) {
		t.Errorf("grouped %v, want %v (the customer's first message, then Grace's three)", got, want)
	}
	if got := c.get("/conversations/" + id).doc(t).Find(`[data-testid="agent-avatar"]`).First().Text(); got != "GH" {
		t.Errorf("Grace's initials %q, want GH", got)
	}
}

// TestSystemEventsInTheReadersLanguage: what agents do (join, end) is told
// to a German customer in German; the stored text stays English for the
// console.
func TestSystemEventsInTheReadersLanguage(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	v := contactForm()
	v.Set("handoff-lang", "de")
	res := c.postForm("/forms/contact", v)
	id := strings.TrimPrefix(res.Header.Get("Location"), "/conversations/")
	grace := kustomer.Actor{Type: kustomer.AuthorAgent, ID: "a1", Name: "Grace"}
	if _, err := e.engine.Join(t.Context(), grace, id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.engine.EndConversation(t.Context(), grace, id); err != nil {
		t.Fatal(err)
	}
	var events []string
	c.get("/conversations/" + id).doc(t).Find(`.msg-system [data-testid="message-body"]`).Each(func(_ int, s *goquery.Selection) {
		events = append(events, strings.TrimSpace(s.Text()))
	})
	if want := []string{"Grace ist der Unterhaltung beigetreten.", "Die Unterhaltung ist beendet."}; !slices.Equal(events, want) {
		t.Errorf("events %q, want %q", events, want)
	}
	msgs, err := e.store.Messages(t.Context(), id, kustomer.MessageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if got := msgs[1].Body; got != "Grace joined the conversation." {
		t.Errorf("stored body %q", got)
	}
}

// TestErrorPageLanguage: an error page a customer meets speaks their
// browser's language.
func TestErrorPageLanguage(t *testing.T) {
	e := newEnv(t)
	doc := e.client().getIn("/forms/nope", "fr-FR,fr;q=0.9").doc(t)
	if got := strings.TrimSpace(doc.Find(`[data-testid="error-heading"]`).Text()); got != "Introuvable" {
		t.Errorf("heading %q, want Introuvable", got)
	}
	if lang, _ := pageLang(doc); lang != "fr" {
		t.Errorf("<html lang=%q>", lang)
	}

	// The rarer pages a customer can meet, in German.
	c := e.client()
	req := func(method, path, contentType, body string) *http.Request {
		r, _ := http.NewRequest(method, e.URL+path, strings.NewReader(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		r.Header.Set("Accept-Language", "de-DE,de;q=0.9")
		return r
	}
	for _, tt := range []struct {
		name    string
		r       *http.Request
		status  int
		heading string
	}{
		{"a body over the limit", req(http.MethodPost, "/forms/contact", "application/x-www-form-urlencoded", "message="+strings.Repeat("x", 2<<20)), http.StatusRequestEntityTooLarge, "Anfrage zu groß"},
		{"a form that cannot be read", req(http.MethodPost, "/forms/contact", "application/x-www-form-urlencoded", "name=%zz"), http.StatusBadRequest, "Formular nicht lesbar"},
	} {
		res := c.do(tt.r)
		doc := res.doc(t)
		if got := strings.TrimSpace(doc.Find(`[data-testid="error-heading"]`).Text()); res.StatusCode != tt.status || got != tt.heading {
			t.Errorf("%s: %d %q, want %d %q", tt.name, res.StatusCode, got, tt.status, tt.heading)
		}
	}
}

// TestRatingProblemsInTheChatsLanguage: a rating refused on the page
// without JavaScript says why in the conversation's language.
func TestRatingProblemsInTheChatsLanguage(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	v := contactForm()
	v.Set("handoff-lang", "de")
	id := strings.TrimPrefix(c.postForm("/forms/contact", v).Header.Get("Location"), "/conversations/")
	if _, err := e.engine.EndConversation(t.Context(), kustomer.Actor{Type: kustomer.AuthorAgent, ID: "a1", Name: "Grace"}, id); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"rating": {"9"}}, "Wählen Sie einen bis fünf Sterne."},
		{url.Values{"rating": {"4"}, "comment": {strings.Repeat("x", kustomer.MaxCSATCommentLen+1)}}, "Höchstens 1000 Zeichen erlaubt (es sind 1001)."},
	} {
		res := c.postForm("/conversations/"+id+"/rating", tt.form)
		if got := strings.TrimSpace(res.doc(t).Find(`[data-testid="rating-error"]`).Text()); res.StatusCode != http.StatusUnprocessableEntity || got != tt.want {
			t.Errorf("%v: %d %q, want 422 %q", tt.form, res.StatusCode, got, tt.want)
		}
	}
}

// TestConversationRecordsTimeZone: the zone the form's script reports is
// kept with the conversation (for the times in emails) when it is a real
// zone, and dropped otherwise.
func TestConversationRecordsTimeZone(t *testing.T) {
	e := newEnv(t)
	for tz, want := range map[string]string{"America/Mexico_City": "America/Mexico_City", "Nowhere/Atlantis": "", "<script>": ""} {
		v := contactForm()
		v.Set("handoff-tz", tz)
		res := e.client().postForm("/forms/contact", v)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: submit: status %d: %s", tz, res.StatusCode, res.Body)
		}
		conv, err := e.store.Conversation(t.Context(), strings.TrimPrefix(res.Header.Get("Location"), "/conversations/"))
		if err != nil {
			t.Fatal(err)
		}
		if conv.Context.TimeZone != want {
			t.Errorf("%q: stored time zone %q, want %q", tz, conv.Context.TimeZone, want)
		}
	}
}

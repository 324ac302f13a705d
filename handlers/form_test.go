package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/handoff/handoff/kustomer"
)

func TestFormShowSetsNoCookie(t *testing.T) {
	e := newEnv(t)
	res := e.client().get("/forms/contact")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if c := res.Header.Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("form page set cookies before the visitor acted: %v", c)
	}
	// handoff.yaml lets the demo host page of `make run` embed the form.
	if csp := res.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'self' http://127.0.0.1:8081") {
		t.Errorf("CSP %q: want frame-ancestors of handoff.yaml's allowed origins", csp)
	}
	doc := res.doc(t)
	for _, name := range []string{"name", "email", "topic", "orderNumber", "message"} {
		if doc.Find(`[data-testid="field-`+name+`"]`).Length() != 1 {
			t.Errorf("field %s not rendered", name)
		}
	}
	if v, _ := doc.Find(`input[name="submissionId"]`).Attr("value"); !kustomer.ValidID(v) {
		t.Errorf("submissionId %q", v)
	}
}

func TestFormUnknownIs404(t *testing.T) {
	e := newEnv(t)
	res := e.client().get("/forms/nope")
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d, want 404", res.StatusCode)
	}
	if !strings.Contains(string(res.Body), "404") {
		t.Errorf("error page does not show the status")
	}
}

func TestFormInvalidKeepsValues(t *testing.T) {
	tests := []struct {
		name    string
		form    string
		change  map[string]string
		field   string
		message string
	}{
		{"missing name", "contact", map[string]string{"name": ""}, "name", "required"},
		{"missing message", "contact", map[string]string{"message": "   "}, "message", "required"},
		{"bad email", "contact", map[string]string{"email": "dana@"}, "email", "email address"},
		{"email with name", "contact", map[string]string{"email": "Dana <dana@example.com>"}, "email", "email address"},
		{"topic not offered", "contact", map[string]string{"topic": "refund"}, "topic", "listed options"},
		{"order number too long", "contact", map[string]string{"orderNumber": strings.Repeat("9", 33)}, "orderNumber", "at most 32"},
		{"message too long", "contact", map[string]string{"message": strings.Repeat("é", kustomer.MaxBodyLen+1)}, "message", "at most 8000"},
		{"name too long", "contact", map[string]string{"name": strings.Repeat("x", 101)}, "name", "at most 100"},
		{"team size not a number", "sales", map[string]string{"teamSize": "a dozen"}, "teamSize", "number"},
		{"invalid utf-8", "contact", map[string]string{"orderNumber": "A\xff"}, "orderNumber", "valid text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			v := contactForm()
			if tt.form == "sales" {
				v = url.Values{"name": {"Ann"}, "email": {"ann@example.com"}, "company": {"Acme"}, "newsletter": {"true"}, "message": {"Pricing?"}}
			}
			for k, val := range tt.change {
				v.Set(k, val)
			}
			c := e.client()
			res := c.postForm("/forms/"+tt.form, v)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", res.StatusCode)
			}
			doc := res.doc(t)
			errEl := doc.Find(`[data-testid="error-` + tt.field + `"]`)
			if !strings.Contains(errEl.Text(), tt.message) {
				t.Errorf("error beside %s = %q, want it to mention %q", tt.field, errEl.Text(), tt.message)
			}
			if inv, _ := doc.Find(`[data-testid="field-` + tt.field + `"]`).Attr("aria-invalid"); inv != "true" {
				t.Errorf("field %s not marked aria-invalid", tt.field)
			}
			if n := doc.Find(`.field-error[data-testid^="error-"]`).Length(); n != 1 {
				t.Errorf("%d field errors shown, want 1", n)
			}
			// Every value typed is kept.
			for name, want := range v {
				if name == "newsletter" {
					if _, checked := doc.Find(`[data-testid="field-newsletter"]`).Attr("checked"); !checked {
						t.Errorf("newsletter checkbox not kept checked")
					}
					continue
				}
				sel := doc.Find(`[data-testid="field-` + name + `"]`)
				var got string
				switch goquery.NodeName(sel) {
				case "textarea":
					got = sel.Text()
				case "select":
					got, _ = sel.Find("option[selected]").Attr("value")
				default:
					got, _ = sel.Attr("value")
				}
				if strings.ToValidUTF8(got, "\uFFFD") != strings.ToValidUTF8(want[0], "\uFFFD") && !(name == "topic" && tt.field == "topic") {
					t.Errorf("field %s kept %q, want %q", name, got, want[0])
				}
			}
			if n := e.conversationCount(); n != 0 {
				t.Errorf("%d conversations stored after a rejected form", n)
			}
			if len(res.Header.Values("Set-Cookie")) > 0 {
				t.Errorf("a rejected form set a cookie")
			}
		})
	}
}

func TestFormSubmitCreatesConversation(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	v := contactForm()
	v.Set("referrer", "https://www.example.com/pricing")
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/forms/contact", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "handoff-test/1.0")
	req.Header.Set("Accept-Language", "fr-CH, fr;q=0.9")
	res := c.do(req)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303: %s", res.StatusCode, res.Body)
	}
	id := strings.TrimPrefix(res.Header.Get("Location"), "/conversations/")
	cookie := res.Header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	ctx := context.Background()
	conv, err := e.store.Conversation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if conv.FormID != "contact" || conv.AssistantID != "" || conv.IsInAssistantMode {
		t.Errorf("form %q assistant %q mode %v", conv.FormID, conv.AssistantID, conv.IsInAssistantMode)
	}
	wantAttrs := kustomer.Attributes{"topicStr": "order", "orderNumberStr": "A-10042"}
	if len(conv.CustomAttributes) != len(wantAttrs) || conv.CustomAttributes["topicStr"] != "order" || conv.CustomAttributes["orderNumberStr"] != "A-10042" {
		t.Errorf("attributes %v, want %v", conv.CustomAttributes, wantAttrs)
	}
	if conv.Context.Referrer != "https://www.example.com/pricing" || conv.Context.UserAgent != "handoff-test/1.0" || conv.Context.Locale != "fr-CH" {
		t.Errorf("context %+v", conv.Context)
	}
	msgs, err := e.store.Messages(ctx, id, kustomer.MessageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Body != "My parcel never arrived." || msgs[0].Direction != kustomer.DirectionIn || msgs[0].Seq != 1 {
		t.Fatalf("messages %+v", msgs)
	}
	cust, err := e.store.Customer(ctx, conv.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	if cust.Name != "Dana Smith" || len(cust.Emails) != 1 || cust.Emails[0] != "dana@example.com" {
		t.Errorf("customer %+v", cust)
	}
	// The chat page opens for this browser.
	page := c.get("/conversations/" + id)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("chat page: %d", page.StatusCode)
	}
	if got := page.doc(t).Find(`[data-testid="message"]`).First().Text(); !strings.Contains(got, "My parcel never arrived.") {
		t.Errorf("first message not rendered: %q", got)
	}
}

func TestFormSalesTypedAttributes(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	res := c.postForm("/forms/sales", url.Values{"name": {"Ann"}, "email": {"Ann@Example.com"}, "company": {"Acme"}, "teamSize": {"12"}, "message": {"Pricing?"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d: %s", res.StatusCode, res.Body)
	}
	id := strings.TrimPrefix(res.Header.Get("Location"), "/conversations/")
	conv, err := e.store.Conversation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if conv.CustomAttributes["teamSizeNum"] != 12.0 || conv.CustomAttributes["newsletterBool"] != false || conv.CustomAttributes["companyStr"] != "Acme" {
		t.Errorf("attributes %#v", conv.CustomAttributes)
	}
	if conv.AssistantID != "qualify" || !conv.IsInAssistantMode {
		t.Errorf("assistant %q mode %v, want the form's assistant", conv.AssistantID, conv.IsInAssistantMode)
	}
}

func TestFormDoubleSubmitCreatesOne(t *testing.T) {
	e := newEnv(t)
	v := contactForm()
	v.Set("submissionId", kustomer.NewID())
	// Two browsers without a session yet (the first response has not set
	// the cookie) send the same submission.
	first := e.client().postForm("/forms/contact", v)
	second := e.client().postForm("/forms/contact", v)
	if first.StatusCode != http.StatusSeeOther || second.StatusCode != http.StatusSeeOther {
		t.Fatalf("statuses %d %d", first.StatusCode, second.StatusCode)
	}
	if a, b := first.Header.Get("Location"), second.Header.Get("Location"); a != b {
		t.Errorf("double submit made two conversations: %s and %s", a, b)
	}
	if n := e.conversationCount(); n != 1 {
		t.Errorf("%d conversations stored, want 1", n)
	}
}

func TestFormCrossOriginRefused(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/forms/contact", strings.NewReader(contactForm().Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res := e.client().do(req)
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site post: status %d, want 403", res.StatusCode)
	}
	if n := e.conversationCount(); n != 0 {
		t.Errorf("%d conversations stored by a cross-site post", n)
	}
}

func TestFormTooLarge(t *testing.T) {
	e := newEnv(t)
	v := contactForm()
	v.Set("junk", strings.Repeat("x", maxFormBytes))
	res := e.client().postForm("/forms/contact", v)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", res.StatusCode)
	}
	if n := e.conversationCount(); n != 0 {
		t.Errorf("%d conversations stored", n)
	}
}

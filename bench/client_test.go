package main

import (
	"net/url"
	"testing"
	"time"
)

func TestHiddenInputs(t *testing.T) {
	page := []byte(`<form class="form" method="post" action="/forms/contact" novalidate data-testid="handoff-form">` +
		`<input type="hidden" name="submissionId" value="668a151e4356e1efb5a418a0"> ` +
		`<INPUT name='referrer' value='http://127.0.0.1:8080/?a=1&amp;b=2' type=HIDDEN>` +
		`<input type="text" id="field-name" name="name" value="" required maxlength="100">` +
		`<input type="hidden" value="no name">` +
		`<textarea name="message"></textarea></form>`)
	got := hiddenInputs(page)
	want := map[string]string{"submissionId": "668a151e4356e1efb5a418a0", "referrer": "http://127.0.0.1:8080/?a=1&b=2"}
	if len(got) != len(want) {
		t.Fatalf("hiddenInputs = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if got := hiddenInputs([]byte("<p>no form</p>")); len(got) != 0 {
		t.Errorf("no form: %v", got)
	}
}

func TestFormValuesCarryHiddenFields(t *testing.T) {
	v := formValues(7, map[string]string{"submissionId": "abc"})
	if v.Get("submissionId") != "abc" || v.Get("topic") != "order" || v.Get("email") != "bench7@example.com" {
		t.Errorf("formValues = %v", v)
	}
	if _, errs := validateContact(v); len(errs) != 0 {
		t.Errorf("the bench's own form fails the bare validation: %v", errs)
	}
}

func TestValidateContact(t *testing.T) {
	ok := url.Values{"name": {"Dana"}, "email": {"dana@example.com"}, "topic": {"billing"}, "message": {"Hi"}}
	tests := []struct {
		name  string
		edit  func(url.Values)
		field string
	}{
		{"valid", func(url.Values) {}, ""},
		{"no name", func(v url.Values) { v.Del("name") }, "name"},
		{"two-line name", func(v url.Values) { v.Set("name", "a\nb") }, "name"},
		{"bad email", func(v url.Values) { v.Set("email", "dana@") }, "email"},
		{"display-name email", func(v url.Values) { v.Set("email", "Dana <dana@example.com>") }, "email"},
		{"unknown topic", func(v url.Values) { v.Set("topic", "other-thing") }, "topic"},
		{"long order number", func(v url.Values) { v.Set("orderNumber", "123456789012345678901234567890123") }, "orderNumber"},
		{"blank message", func(v url.Values) { v.Set("message", "  ") }, "message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := url.Values{}
			for k, x := range ok {
				v[k] = append([]string(nil), x...)
			}
			tt.edit(v)
			_, errs := validateContact(v)
			if tt.field == "" && len(errs) != 0 {
				t.Errorf("errors %v for a valid form", errs)
			}
			if tt.field != "" && (len(errs) != 1 || errs[tt.field] == "") {
				t.Errorf("errors %v, want one on %s", errs, tt.field)
			}
		})
	}
}

func TestParseFrame(t *testing.T) {
	kind, seq, tag, _, err := parseFrame([]byte(`{"type":"message","seq":7,"message":{"messageId":"m","seq":7,"clientMessageId":"c1-3","body":"x"},"html":"<li>x</li>"}`))
	if err != nil || kind != "message" || seq != 7 || tag != "c1-3" {
		t.Errorf("message frame: %q %d %q %v", kind, seq, tag, err)
	}
	kind, seq, tag, _, err = parseFrame([]byte(`{"type":"ack","clientMessageId":"c1-4","messageId":"m","seq":8}`))
	if err != nil || kind != "ack" || seq != 8 || tag != "c1-4" {
		t.Errorf("ack frame: %q %d %q %v", kind, seq, tag, err)
	}
	kind, _, tag, code, err := parseFrame([]byte(`{"type":"error","code":"rate_limited","message":"Too fast.","clientMessageId":"c1-5"}`))
	if err != nil || kind != "error" || code != "rate_limited" || tag != "c1-5" {
		t.Errorf("error frame: %q %q %q %v", kind, code, tag, err)
	}
	if _, _, _, _, err := parseFrame([]byte(`{"type":"message","seq":7,"message":{"seq":8}}`)); err == nil {
		t.Error("a frame whose two seqs disagree parsed")
	}
	if _, _, _, _, err := parseFrame([]byte(`not json`)); err == nil {
		t.Error("garbage parsed")
	}
	// The relay's frames read the same way.
	kind, seq, tag, _, err = parseFrame(relayFrame(3, "q1-2", "hi"))
	if err != nil || kind != "message" || seq != 3 || tag != "q1-2" {
		t.Errorf("relay frame: %q %d %q %v", kind, seq, tag, err)
	}
}

func TestInflightTimesOnlyTheOtherSide(t *testing.T) {
	f := newInflight()
	var rec Recorder
	notify := make(chan struct{}, 1)
	f.sent("t1", "B", &rec, notify)
	at := time.Now().Add(5 * time.Millisecond)
	f.arrived("t1", "A", at) // the sender's own echo: not timed
	if f.lat.Len() != 0 {
		t.Fatal("the sender's socket was timed")
	}
	f.arrived("t1", "B", at)
	if f.lat.Len() != 1 || rec.Len() != 1 {
		t.Fatalf("delivery not timed: %d %d", f.lat.Len(), rec.Len())
	}
	if d := f.lat.Summary().P50; d < 5*time.Millisecond || d > time.Second {
		t.Errorf("latency %v", d)
	}
	select {
	case <-notify:
	default:
		t.Error("no notification")
	}
	f.arrived("t1", "B", at) // a duplicate is not timed twice
	f.arrived("unknown", "B", at)
	if f.lat.Len() != 1 {
		t.Errorf("timed %d deliveries, want 1", f.lat.Len())
	}
}

func TestErrorCounter(t *testing.T) {
	e := newErrorCounter()
	e.add(nil)
	e.add(&statusError{"POST form", 429, "slow down"})
	e.add(&statusError{"POST form", 429, "slow down"})
	e.add(errNoAck)
	if e.total() != 3 || len(e.summary()) != 2 {
		t.Errorf("total %d, summary %v", e.total(), e.summary())
	}
}

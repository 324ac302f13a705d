package views

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/handoff/handoff/static"
	"github.com/handoff/handoff/views/locale"
)

func TestMessageItemPrivateNote(t *testing.T) {
	tests := []struct {
		name        string
		private     bool
		wantClass   bool
		wantLabel   bool
		wantPrivate string // data-private; empty: absent
	}{
		{name: "note", private: true, wantClass: true, wantLabel: true, wantPrivate: "true"},
		{name: "reply", private: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := render(t, MessageItem(MessageView{
				ID: "m1", Seq: 3, Body: "check the invoice", Direction: "out", AuthorType: "agent",
				AuthorName: "Grace", Mine: true, CreatedAt: testTime, Private: tt.private, AgentView: true,
			}))
			li := one(t, doc, "message")
			if got := li.HasClass("msg-private"); got != tt.wantClass {
				t.Errorf("msg-private class = %v, want %v", got, tt.wantClass)
			}
			got, ok := li.Attr("data-private")
			if ok != (tt.wantPrivate != "") || got != tt.wantPrivate {
				t.Errorf("data-private = %q (present %v), want %q", got, ok, tt.wantPrivate)
			}
			label := byTestID(doc, "private-label")
			if (label.Length() == 1) != tt.wantLabel {
				t.Fatalf("private label shown = %v, want %v", label.Length() == 1, tt.wantLabel)
			}
			if tt.wantLabel && text(label) != "Private note" {
				t.Errorf("label = %q", text(label))
			}
		})
	}
}

func TestMessageItemAgentView(t *testing.T) {
	tests := []struct {
		name          string
		msg           MessageView
		wantSeq       string // empty: no seq label
		wantPerformer string // empty: no performer
	}{
		{
			name:    "console message",
			msg:     MessageView{ID: "m1", Seq: 12, Body: "hi", Direction: "in", AuthorType: "customer", AuthorName: "Ada", CreatedAt: testTime, AgentView: true},
			wantSeq: "#12",
		},
		{
			name:          "console event with performer",
			msg:           MessageView{ID: "m2", Seq: 13, Body: "Conversation transferred to Billing", Direction: "out", AuthorType: "system", AuthorName: "Grace", CreatedAt: testTime, AgentView: true},
			wantSeq:       "#13",
			wantPerformer: "— by Grace",
		},
		{
			name:    "console event without performer",
			msg:     MessageView{ID: "m3", Seq: 14, Body: "Conversation ended", Direction: "out", AuthorType: "system", CreatedAt: testTime, AgentView: true},
			wantSeq: "#14",
		},
		{
			name: "customer event hides the performer",
			msg:  MessageView{ID: "m4", Seq: 15, Body: "Grace joined", Direction: "out", AuthorType: "system", AuthorName: "Grace", CreatedAt: testTime},
		},
		{
			name: "customer message",
			msg:  MessageView{ID: "m5", Seq: 16, Body: "hello", Direction: "out", AuthorType: "agent", AuthorName: "Grace", CreatedAt: testTime},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := render(t, MessageItem(tt.msg))
			seq := byTestID(doc, "message-seq")
			if tt.wantSeq == "" {
				if seq.Length() != 0 {
					t.Errorf("seq label shown: %q", text(seq))
				}
			} else if got := text(seq); got != tt.wantSeq {
				t.Errorf("seq = %q, want %q", got, tt.wantSeq)
			}
			performer := byTestID(doc, "message-performer")
			if tt.wantPerformer == "" {
				if performer.Length() != 0 {
					t.Errorf("performer shown: %q", text(performer))
				}
			} else if got := text(performer); got != tt.wantPerformer {
				t.Errorf("performer = %q, want %q", got, tt.wantPerformer)
			}
			if tt.msg.AuthorType == "system" && tt.wantPerformer != "" {
				if got := text(doc.Find(".msg-event")); !strings.HasPrefix(got, tt.msg.Body+" "+tt.wantPerformer) {
					t.Errorf("event line = %q, want the performer after the text", got)
				}
			}
		})
	}
}

// TestMessageItemCustomerMarkupUnchanged pins the customer's markup of a
// message, as rendered before the console existed (and since: dir="auto"
// on bodies so that right-to-left text reads right in any page, the author
// key that groups one author's messages, an agent's initials): the
// console's additions must never leak into it.
func TestMessageItemCustomerMarkupUnchanged(t *testing.T) {
	tests := []struct {
		name string
		msg  MessageView
		want string
	}{
		{
			name: "message",
			msg:  MessageView{ID: "m2", Seq: 8, ClientMessageID: "c2", Body: "hi", Direction: "out", AuthorType: "agent", AuthorName: "Grace", CreatedAt: testTime},
			want: `<li id="m8" class="msg msg-out msg-agent" data-testid="message" data-seq="8" data-message-id="m2" data-client-message-id="c2" data-direction="out" data-author-type="agent" data-author-key="agent:Grace">` +
				`<div class="msg-bubble"><p class="msg-meta"><span class="avatar avatar-initials" aria-hidden="true" data-testid="agent-avatar">G</span> <span class="msg-author" data-testid="message-author">Grace</span> ` +
				`<time class="msg-time" datetime="2025-03-04T15:04:05Z" title="4 Mar 2025, 15:04 UTC" data-testid="message-time">15:04</time></p>` +
				`<div class="msg-body" data-testid="message-body" dir="auto">hi</div></div></li>`,
		},
		{
			name: "system event",
			msg:  MessageView{ID: "m4", Seq: 10, Body: "Grace joined", Direction: "out", AuthorType: "system", AuthorName: "Grace", CreatedAt: testTime},
			want: `<li id="m10" class="msg msg-out msg-system" data-testid="message" data-seq="10" data-message-id="m4" data-client-message-id="" data-direction="out" data-author-type="system" data-author-key="">` +
				`<p class="msg-event"><span class="msg-body" data-testid="message-body" dir="auto">Grace joined</span> ` +
				`<time class="msg-time" datetime="2025-03-04T15:04:05Z" title="4 Mar 2025, 15:04 UTC" data-testid="message-time">15:04</time></p></li>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, html := render(t, MessageItem(tt.msg)); html != tt.want {
				t.Errorf("customer markup changed:\n got %s\nwant %s", html, tt.want)
			}
		})
	}
}

func agentPage() AgentPage {
	return AgentPage{Title: "Inbox", AgentName: "Grace Hopper", Nav: "inbox"}
}

func TestAgentLayout(t *testing.T) {
	tests := []struct {
		name       string
		page       AgentPage
		wantNav    bool
		wantAgents bool
		wantActive string // data-testid of the active nav link
		wantNotice string
	}{
		{name: "agent", page: agentPage(), wantNav: true, wantActive: "nav-inbox"},
		{name: "admin on agents", page: AgentPage{AgentName: "Ada", IsAdmin: true, Nav: "agents", Notice: "Agent saved."}, wantNav: true, wantAgents: true, wantActive: "nav-agents", wantNotice: "Agent saved."},
		{name: "signed out", page: AgentPage{Title: "Sign in"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := render(t, SignInView(SignInPage{AgentPage: tt.page}))
			assertNoInlineCode(t, doc)
			brand := one(t, doc, "brand")
			if text(brand) != "handoff console" || attr(t, brand, "href") != "/agent" {
				t.Errorf("brand = %q -> %q", text(brand), brand.AttrOr("href", ""))
			}
			if got := byTestID(doc, "nav-inbox").Length() == 1; got != tt.wantNav {
				t.Errorf("inbox link shown = %v, want %v", got, tt.wantNav)
			}
			if got := byTestID(doc, "nav-agents").Length() == 1; got != tt.wantAgents {
				t.Errorf("agents link shown = %v, want %v", got, tt.wantAgents)
			}
			if got := byTestID(doc, "sign-out").Length() == 1; got != tt.wantNav {
				t.Errorf("sign-out shown = %v, want %v", got, tt.wantNav)
			}
			current := doc.Find(`nav [aria-current="page"]`)
			if tt.wantActive == "" {
				if current.Length() != 0 {
					t.Errorf("active links = %d", current.Length())
				}
			} else if current.Length() != 1 || current.AttrOr("data-testid", "") != tt.wantActive {
				t.Errorf("active link = %d %q, want %q", current.Length(), current.AttrOr("data-testid", ""), tt.wantActive)
			}
			if tt.wantNav {
				form := one(t, doc, "sign-out").Closest("form")
				if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/agent/sign-out" {
					t.Errorf("sign-out form = %v", form.Nodes[0].Attr)
				}
				if got := text(one(t, doc, "signed-in-agent")); got != tt.page.AgentName {
					t.Errorf("agent name = %q", got)
				}
				if got, want := scriptSources(doc), []string{static.Path("js/chat-core.js"), static.Path("js/agent.js"), static.Path("js/replies.js"), static.Path("js/presence.js"), static.Path("js/alerts.js"), static.Path("js/shortcuts.js")}; !slices.Equal(got, want) {
					t.Errorf("scripts = %q, want %q", got, want)
				}
			} else if n := doc.Find("script").Length(); n != 0 {
				t.Errorf("scripts on the sign-in page: %d", n)
			}
			if tt.wantNotice == "" {
				none(t, doc, "notice")
			} else if n := one(t, doc, "notice"); text(n) != tt.wantNotice || n.AttrOr("role", "") != "status" {
				t.Errorf("notice = %q role %q", text(n), n.AttrOr("role", ""))
			}
		})
	}
}

func TestSignInViewKeepsEmailNotPassword(t *testing.T) {
	doc, _ := render(t, SignInView(SignInPage{
		AgentPage: AgentPage{Title: "Sign in"},
		Email:     "grace@example.com",
		Error:     "Wrong email or password.",
		Next:      "/agent/conversations/abc",
	}))
	form := one(t, doc, "signin-form")
	if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/agent/sign-in" {
		t.Errorf("form = %v", form.Nodes[0].Attr)
	}
	if got := attr(t, one(t, doc, "signin-email"), "value"); got != "grace@example.com" {
		t.Errorf("email = %q", got)
	}
	password := one(t, doc, "signin-password")
	if attr(t, password, "type") != "password" {
		t.Errorf("password type = %q", password.AttrOr("type", ""))
	}
	if v, ok := password.Attr("value"); ok {
		t.Errorf("password re-filled with %q", v)
	}
	if got := attr(t, form.Find(`input[type="hidden"][name="next"]`), "value"); got != "/agent/conversations/abc" {
		t.Errorf("next = %q", got)
	}
	alert := one(t, doc, "signin-error")
	if text(alert) != "Wrong email or password." || alert.AttrOr("role", "") != "alert" {
		t.Errorf("error = %q role %q", text(alert), alert.AttrOr("role", ""))
	}
	one(t, doc, "signin-submit")
	none(t, doc, "nav-inbox")

	clean, _ := render(t, SignInView(SignInPage{}))
	none(t, clean, "signin-error")
}

func inboxPage() InboxPage {
	return InboxPage{
		AgentPage: agentPage(),
		Queue:     "unassigned",
		Queues: []QueueTab{
			{ID: "unassigned", Label: "Unassigned", URL: "/agent?queue=unassigned", Active: true},
			{ID: "mine", Label: "Mine", URL: "/agent?queue=mine"},
		},
		Forms:      []OptionView{{Value: "", Label: "All"}, {Value: "contact", Label: "Contact", Selected: true}},
		Skills:     []OptionView{{Value: "", Label: "All"}, {Value: "billing", Label: "Billing"}},
		SocketURL:  "/agent/ws",
		RefreshURL: "/agent/inbox?queue=unassigned&form=contact",
		Total:      2,
		Pager:      Pager{Current: 1, NextURL: "/agent?queue=unassigned&page=2"},
		Rows: []InboxRow{
			{
				ID: "c1", URL: "/agent/conversations/c1", CustomerName: "Ada", CustomerEmail: "ada@example.com",
				FormTitle: "Contact", Preview: "My <invoice>", SkillName: "Billing",
				Waiting: true, WaitingFor: 12 * time.Minute, TTRTarget: 5 * time.Minute, Overdue: true, Unread: 3,
			},
			{
				ID: "c2", URL: "/agent/conversations/c2", CustomerName: "Bob", FormTitle: "Contact",
				AssigneeName: "Grace", Waiting: false, Ended: true, Rating: 4, AssistantMode: true,
			},
		},
	}
}

func TestInboxView(t *testing.T) {
	doc, _ := render(t, InboxView(inboxPage()))
	assertNoInlineCode(t, doc)

	inbox := one(t, doc, "inbox")
	if attr(t, inbox, "id") != "inbox" || attr(t, inbox, "data-socket-url") != "/agent/ws" {
		t.Errorf("inbox = %v", inbox.Nodes[0].Attr)
	}
	list := one(t, doc, "inbox-list")
	if attr(t, list, "id") != "inbox-list" || attr(t, list, "data-refresh-url") != "/agent/inbox?queue=unassigned&form=contact" {
		t.Errorf("list = %v", list.Nodes[0].Attr)
	}
	if got := attr(t, one(t, doc, "queue-unassigned"), "aria-current"); got != "page" {
		t.Errorf("active queue aria-current = %q", got)
	}
	if hasAttr(one(t, doc, "queue-mine"), "aria-current") {
		t.Error("inactive queue has aria-current")
	}
	filters := one(t, doc, "inbox-filters")
	if filters.AttrOr("method", "") != "get" {
		t.Errorf("filter method = %q", filters.AttrOr("method", ""))
	}
	if got := attr(t, filters.Find(`input[type="hidden"][name="queue"]`), "value"); got != "unassigned" {
		t.Errorf("hidden queue = %q", got)
	}
	if got := one(t, doc, "filter-form").Find("option[selected]").AttrOr("value", ""); got != "contact" {
		t.Errorf("selected form = %q", got)
	}
	if got := attr(t, one(t, doc, "filter-skill"), "name"); got != "skill" {
		t.Errorf("skill select name = %q", got)
	}
	if got := attr(t, one(t, doc, "page-next"), "href"); got != "/agent?queue=unassigned&page=2" {
		t.Errorf("next page = %q", got)
	}
}

func TestInboxListRows(t *testing.T) {
	doc, _ := render(t, InboxList(inboxPage()))
	rows := byTestID(doc, "inbox-row")
	if rows.Length() != 2 {
		t.Fatalf("rows = %d, want 2", rows.Length())
	}
	if got := text(one(t, doc, "inbox-total")); got != "2 conversations" {
		t.Errorf("total = %q", got)
	}
	none(t, doc, "inbox-empty")

	tests := []struct {
		row          *goquery.Selection
		id           string
		href         string
		wantUnread   string // empty: no badge
		wantOverdue  bool
		wantWaiting  string
		wantAssignee string
		wantRating   string
		wantEnded    bool
	}{
		{
			row: rows.Eq(0), id: "c1", href: "/agent/conversations/c1", wantUnread: "3 unread", wantOverdue: true,
			wantWaiting: "waiting 12 min target 5 min Overdue", wantAssignee: "Unassigned",
		},
		{
			row: rows.Eq(1), id: "c2", href: "/agent/conversations/c2",
			wantWaiting: "answered", wantAssignee: "Grace", wantRating: "★ 4", wantEnded: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			find := func(id string) *goquery.Selection { return tt.row.Find(`[data-testid="` + id + `"]`) }
			if got := attr(t, tt.row, "data-conversation-id"); got != tt.id {
				t.Errorf("conversation id = %q", got)
			}
			if got := find("inbox-link").AttrOr("href", ""); got != tt.href {
				t.Errorf("link = %q", got)
			}
			unread := find("inbox-unread")
			if tt.wantUnread == "" {
				if unread.Length() != 0 {
					t.Errorf("unread badge shown: %q", text(unread))
				}
			} else if got := text(unread); got != tt.wantUnread {
				t.Errorf("unread = %q, want %q", got, tt.wantUnread)
			}
			overdue, ok := tt.row.Attr("data-overdue")
			if ok != tt.wantOverdue || (ok && overdue != "true") || tt.row.HasClass("overdue") != tt.wantOverdue {
				t.Errorf("data-overdue = %q (present %v), class %v; want overdue %v", overdue, ok, tt.row.HasClass("overdue"), tt.wantOverdue)
			}
			waiting := find("inbox-waiting")
			var parts []string
			waiting.Children().Not("[hidden]").Each(func(_ int, s *goquery.Selection) { parts = append(parts, text(s)) })
			got := strings.Join(parts, " ")
			if got != tt.wantWaiting {
				t.Errorf("waiting = %q, want %q", got, tt.wantWaiting)
			}
			if got := text(find("inbox-assignee")); got != tt.wantAssignee {
				t.Errorf("assignee = %q, want %q", got, tt.wantAssignee)
			}
			if got := text(find("inbox-rating")); got != tt.wantRating {
				t.Errorf("rating = %q, want %q", got, tt.wantRating)
			}
			if got := find("inbox-ended").Length() == 1; got != tt.wantEnded {
				t.Errorf("ended badge = %v, want %v", got, tt.wantEnded)
			}
		})
	}
	if got := attr(t, rows.Eq(0).Find(`[data-testid="inbox-waiting"]`), "data-waiting-seconds"); got != "720" {
		t.Errorf("data-waiting-seconds = %q", got)
	}
	if got := text(rows.Eq(0).Find(`[data-testid="inbox-preview"]`)); got != "My <invoice>" {
		t.Errorf("preview = %q", got)
	}

	empty, _ := render(t, InboxList(InboxPage{}))
	one(t, empty, "inbox-empty")
	none(t, empty, "inbox-row")
	none(t, empty, "pager")
}

func TestShortDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Second, "<1 min"},
		{3 * time.Minute, "3 min"},
		{59*time.Minute + 59*time.Second, "59 min"},
		{2 * time.Hour, "2 h"},
		{2*time.Hour + 5*time.Minute, "2 h 5 min"},
		{72 * time.Hour, "3 d"},
		{76 * time.Hour, "3 d 4 h"},
	}
	for _, tt := range tests {
		if got := shortDuration(tt.d); got != tt.want {
			t.Errorf("shortDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func conversationPanel() ConversationPanel {
	first := testTime.Add(3 * time.Minute)
	return ConversationPanel{
		ConversationID:  "c1",
		PanelURL:        "/agent/conversations/c1/panel",
		FormTitle:       "Contact",
		CreatedAt:       testTime,
		SkillName:       "Billing",
		Waiting:         true,
		WaitingSince:    testTime,
		TTRTarget:       5 * time.Minute,
		Overdue:         true,
		FirstResponseAt: &first,
		CustomerName:    "Ada",
		CustomerEmails:  []string{"ada@example.com", "ada@work.example"},
		Referrer:        "https://shop.example/pricing",
		UserAgent:       "Mozilla/5.0",
		Locale:          "en-GB",
		JoinURL:         "/agent/conversations/c1/join",
		UnassignURL:     "/agent/conversations/c1/unassign",
		TransferURL:     "/agent/conversations/c1/transfer",
		EndURL:          "/agent/conversations/c1/end",
		ReopenURL:       "/agent/conversations/c1/reopen",
		TransferAgents:  []OptionView{{Value: "a2", Label: "Linus"}},
		TransferSkills:  []OptionView{{Value: "billing", Label: "Billing"}},
		AttributesURL:   "/agent/conversations/c1/attributes",
	}
}

func TestConversationPanelActions(t *testing.T) {
	tests := []struct {
		name         string
		assignee     string
		mine         bool
		ended        bool
		want         []string // action testids shown
		wantJoinText string
	}{
		{name: "unassigned", want: []string{"action-join", "action-end", "action-transfer-agent", "action-transfer-skill"}, wantJoinText: "Join"},
		{name: "someone else's", assignee: "Linus", want: []string{"action-join", "action-unassign", "action-end", "action-transfer-agent", "action-transfer-skill"}, wantJoinText: "Assign to me"},
		{name: "mine", assignee: "Grace", mine: true, want: []string{"action-unassign", "action-end", "action-transfer-agent", "action-transfer-skill"}},
		{name: "ended", assignee: "Grace", mine: true, ended: true, want: []string{"action-reopen"}},
		{name: "ended unassigned", ended: true, want: []string{"action-reopen"}},
	}
	all := []string{"action-join", "action-unassign", "action-end", "action-reopen", "action-transfer-agent", "action-transfer-skill"}
	urls := map[string]string{
		"action-join": "/agent/conversations/c1/join", "action-unassign": "/agent/conversations/c1/unassign",
		"action-end": "/agent/conversations/c1/end", "action-reopen": "/agent/conversations/c1/reopen",
		"action-transfer-agent": "/agent/conversations/c1/transfer", "action-transfer-skill": "/agent/conversations/c1/transfer",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := conversationPanel()
			p.AssigneeName, p.AssignedToMe, p.Ended = tt.assignee, tt.mine, tt.ended
			doc, _ := render(t, ConversationPanelView(p))
			for _, id := range all {
				shown := byTestID(doc, id).Length() == 1
				if want := slices.Contains(tt.want, id); shown != want {
					t.Errorf("%s shown = %v, want %v", id, shown, want)
					continue
				}
				if !shown {
					continue
				}
				form := byTestID(doc, id).Closest("form")
				if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != urls[id] {
					t.Errorf("%s form = %v", id, form.Nodes[0].Attr)
				}
			}
			if tt.wantJoinText != "" {
				if got := text(one(t, doc, "action-join")); got != tt.wantJoinText {
					t.Errorf("join = %q, want %q", got, tt.wantJoinText)
				}
			}
			wantAssignee := tt.assignee
			if wantAssignee == "" {
				wantAssignee = "Unassigned"
			} else if tt.mine {
				wantAssignee += " (you)"
			}
			if got := text(one(t, doc, "panel-assignee")); got != wantAssignee {
				t.Errorf("assignee = %q, want %q", got, wantAssignee)
			}
			wantStatus := "Open"
			if tt.ended {
				wantStatus = "Ended"
			}
			if got := text(one(t, doc, "panel-status")); got != wantStatus {
				t.Errorf("status = %q, want %q", got, wantStatus)
			}
		})
	}
}

func TestConversationPanelDetails(t *testing.T) {
	p := conversationPanel()
	p.ActionError = "The conversation has ended."
	p.AssistantMode = true
	doc, _ := render(t, ConversationPanelView(p))
	assertNoInlineCode(t, doc)

	one(t, doc, "panel-body")
	if got := text(one(t, doc, "panel-skill")); got != "Billing" {
		t.Errorf("skill = %q", got)
	}
	one(t, doc, "panel-assistant")
	ttr := one(t, doc, "panel-ttr")
	if got := text(ttr); !strings.Contains(got, "Waiting since 4 Mar 2025, 15:04 UTC") || !strings.Contains(got, "target 5 min") || !strings.Contains(got, "Overdue") {
		t.Errorf("ttr = %q", got)
	}
	if attr(t, ttr, "data-overdue") != "true" {
		t.Error("overdue ttr lacks data-overdue")
	}
	if got := text(one(t, doc, "panel-first-response")); got != "after 3 min" {
		t.Errorf("first response = %q", got)
	}
	alert := one(t, doc, "action-error")
	if text(alert) != p.ActionError || alert.AttrOr("role", "") != "alert" {
		t.Errorf("action error = %q role %q", text(alert), alert.AttrOr("role", ""))
	}
	customer := text(one(t, doc, "panel-customer"))
	for _, want := range []string{"Ada", "ada@example.com", "ada@work.example", "https://shop.example/pricing", "en-GB", "Mozilla/5.0"} {
		if !strings.Contains(customer, want) {
			t.Errorf("customer details lack %q: %q", want, customer)
		}
	}
	if got := one(t, doc, "transfer-agent").Find("option").Length(); got != 2 {
		t.Errorf("transfer agent options = %d, want 2", got)
	}
	if got := attr(t, one(t, doc, "transfer-skill"), "name"); got != "skill" {
		t.Errorf("transfer skill name = %q", got)
	}
	if got := attr(t, one(t, doc, "transfer-agent"), "name"); got != "agentId" {
		t.Errorf("transfer agent name = %q", got)
	}
	if got := text(one(t, doc, "panel-rating").Find("p")); got != "Not rated" {
		t.Errorf("rating = %q", got)
	}

	p.Satisfaction = &SatisfactionView{Rating: 4, Comment: "Quick, thanks"}
	p.Waiting, p.Overdue, p.FirstResponseAt = false, false, nil
	doc, _ = render(t, ConversationPanelView(p))
	if got := text(one(t, doc, "panel-rating-stars")); got != "★★★★☆ 4/5" {
		t.Errorf("stars = %q", got)
	}
	if got := text(one(t, doc, "panel-rating-comment")); got != "Quick, thanks" {
		t.Errorf("comment = %q", got)
	}
	ttr = one(t, doc, "panel-ttr")
	if hasAttr(ttr, "data-overdue") || !strings.Contains(text(ttr), "Nothing waiting") {
		t.Errorf("ttr = %q %v", text(ttr), ttr.Nodes[0].Attr)
	}
	if got := text(one(t, doc, "panel-first-response")); got != "No answer yet" {
		t.Errorf("first response = %q", got)
	}
}

func TestConversationPanelAttributes(t *testing.T) {
	p := conversationPanel()
	p.Attributes = []AttributeField{
		{Name: "topicStr", DisplayName: "Topic", Type: "Str", Value: "billing"},
		{Name: "notesTxt", DisplayName: "Notes", Type: "Txt", Value: "line 1\nline <2>"},
		{Name: "amountNum", DisplayName: "Amount", Type: "Num", Value: "abc", Error: "must be a number"},
		{Name: "vipBool", DisplayName: "VIP", Type: "Bool", Value: "true"},
		{Name: "followUpAt", DisplayName: "Follow up", Type: "At", Value: ""},
		{Name: "orderUrl", DisplayName: "Order", Type: "Url", Value: "https://shop.example/o/1"},
	}
	doc, _ := render(t, ConversationPanelView(p))
	form := one(t, doc, "attributes-form")
	if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/agent/conversations/c1/attributes" {
		t.Errorf("attributes form = %v", form.Nodes[0].Attr)
	}
	one(t, doc, "attributes-save")

	tests := []struct {
		name      string
		tag       string
		typ       string // input type; empty for textarea/select
		value     string
		extra     map[string]string
		wantError string
	}{
		{name: "topicStr", tag: "input", typ: "text", value: "billing", extra: map[string]string{"maxlength": "256"}},
		{name: "notesTxt", tag: "textarea", value: "line 1\nline <2>"},
		{name: "amountNum", tag: "input", typ: "number", value: "abc", extra: map[string]string{"step": "any"}, wantError: "must be a number"},
		{name: "vipBool", tag: "select", value: "true"},
		{name: "followUpAt", tag: "input", typ: "text", value: "", extra: map[string]string{"placeholder": "2026-01-31T09:30:00Z"}},
		{name: "orderUrl", tag: "input", typ: "url", value: "https://shop.example/o/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := one(t, doc, "attr-"+tt.name)
			if got := goquery.NodeName(in); got != tt.tag {
				t.Fatalf("tag = %q, want %q", got, tt.tag)
			}
			if got := attr(t, in, "name"); got != tt.name {
				t.Errorf("name = %q", got)
			}
			var value string
			switch tt.tag {
			case "input":
				if got := attr(t, in, "type"); got != tt.typ {
					t.Errorf("type = %q, want %q", got, tt.typ)
				}
				value = attr(t, in, "value")
			case "textarea":
				value = in.Text()
			case "select":
				values := []string{}
				in.Find("option").Each(func(_ int, o *goquery.Selection) { values = append(values, o.AttrOr("value", "")) })
				if strings.Join(values, ",") != ",true,false" {
					t.Errorf("options = %q", values)
				}
				value = in.Find("option[selected]").AttrOr("value", "")
			}
			if value != tt.value {
				t.Errorf("value = %q, want %q", value, tt.value)
			}
			for k, want := range tt.extra {
				if got := attr(t, in, k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			errEl := byTestID(doc, "attr-error-"+tt.name)
			if tt.wantError == "" {
				if errEl.Length() != 0 || hasAttr(in, "aria-invalid") {
					t.Errorf("valid attribute shows an error: %q", text(errEl))
				}
				return
			}
			if got := text(errEl); got != tt.wantError {
				t.Errorf("error = %q, want %q", got, tt.wantError)
			}
			if errEl.Parent().Get(0) != in.Parent().Get(0) {
				t.Error("error is not beside its input")
			}
			if attr(t, in, "aria-invalid") != "true" {
				t.Error("invalid attribute lacks aria-invalid")
			}
		})
	}

	p.Attributes = nil
	doc, _ = render(t, ConversationPanelView(p))
	none(t, doc, "attributes-form")
	one(t, doc, "attributes-empty")
}

func agentConversationPage() AgentConversationPage {
	return AgentConversationPage{
		AgentPage:       agentPage(),
		Panel:           conversationPanel(),
		LastSeq:         2,
		SocketURL:       "/agent/conversations/c1/ws",
		PostURL:         "/agent/conversations/c1/messages",
		ClientMessageID: "cm-1",
		Messages: []MessageView{
			{ID: "m1", Seq: 1, Body: "Hello", Direction: "in", AuthorType: "customer", AuthorName: "Ada", CreatedAt: testTime, AgentView: true},
			{ID: "m2", Seq: 2, Body: "Check the refund", Direction: "out", AuthorType: "agent", Mine: true, Private: true, CreatedAt: testTime, AgentView: true},
		},
	}
}

func TestAgentConversationView(t *testing.T) {
	tests := []struct {
		name         string
		ended        bool
		draftPrivate bool
	}{
		{name: "open"},
		{name: "ended with a note draft", ended: true, draftPrivate: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := agentConversationPage()
			p.Panel.Ended = tt.ended
			p.DraftPrivate = tt.draftPrivate
			if tt.draftPrivate {
				p.Draft, p.DraftError = "my <note>", "Too long."
			}
			doc, _ := render(t, AgentConversationView(p))
			assertNoInlineCode(t, doc)

			root := one(t, doc, "agent-chat")
			for name, want := range map[string]string{
				"id": "agent-chat", "data-conversation-id": "c1", "data-socket-url": "/agent/conversations/c1/ws",
				"data-last-seq": "2", "data-ended": boolAttr(tt.ended),
			} {
				if got := attr(t, root, name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			thread := one(t, doc, "thread")
			if attr(t, thread, "id") != "thread" || !thread.HasClass("thread-agent") {
				t.Errorf("thread = %v", thread.Nodes[0].Attr)
			}
			if got := thread.Find(`[data-testid="message-seq"]`).Length(); got != 2 {
				t.Errorf("seq labels = %d, want 2", got)
			}
			if got := thread.Find(`[data-private="true"]`).Length(); got != 1 {
				t.Errorf("private notes = %d, want 1", got)
			}
			panel := one(t, doc, "panel")
			if attr(t, panel, "id") != "panel" || attr(t, panel, "data-panel-url") != "/agent/conversations/c1/panel" {
				t.Errorf("panel = %v", panel.Nodes[0].Attr)
			}
			if panel.Find(`[data-testid="panel-body"]`).Length() != 1 {
				t.Error("panel lacks its body")
			}
			status := one(t, doc, "connection-status")
			if attr(t, status, "data-state") != "offline" {
				t.Errorf("status = %q", status.AttrOr("data-state", ""))
			}
			if !hasAttr(one(t, doc, "typing"), "hidden") {
				t.Error("typing indicator visible at first")
			}

			composer := one(t, doc, "agent-composer")
			if attr(t, composer, "id") != "composer" || attr(t, composer, "method") != "post" || attr(t, composer, "action") != "/agent/conversations/c1/messages" {
				t.Errorf("composer = %v", composer.Nodes[0].Attr)
			}
			if hasAttr(composer, "hidden") {
				t.Error("the console composer is hidden")
			}
			if got := attr(t, composer.Find(`input[type="hidden"][name="clientMessageId"]`), "value"); got != "cm-1" {
				t.Errorf("clientMessageId = %q", got)
			}
			body := one(t, doc, "agent-composer-body")
			if attr(t, body, "name") != "body" || body.Text() != p.Draft || hasAttr(body, "disabled") {
				t.Errorf("body = %q %v", body.Text(), body.Nodes[0].Attr)
			}
			private := one(t, doc, "composer-private")
			if attr(t, private, "name") != "private" || attr(t, private, "value") != "true" || attr(t, private, "type") != "checkbox" {
				t.Errorf("private toggle = %v", private.Nodes[0].Attr)
			}
			if got := hasAttr(private, "checked"); got != tt.draftPrivate {
				t.Errorf("private checked = %v, want %v", got, tt.draftPrivate)
			}
			if got := hasAttr(one(t, doc, "composer-ended"), "hidden"); got == tt.ended {
				t.Errorf("ended hint hidden = %v with ended = %v", got, tt.ended)
			}
			if tt.draftPrivate {
				if got := text(one(t, doc, "agent-composer-error")); got != "Too long." {
					t.Errorf("draft error = %q", got)
				}
			} else {
				none(t, doc, "agent-composer-error")
			}
			one(t, doc, "agent-send")
		})
	}
}

func adminAgentsPage() AdminAgentsPage {
	return AdminAgentsPage{
		AgentPage: AgentPage{Title: "Agents", AgentName: "Ada", IsAdmin: true, Nav: "agents"},
		Agents: []AgentRow{
			{ID: "a1", Name: "Ada", Email: "ada@example.com", Role: "admin", Self: true, EditURL: "/admin/agents/a1", ToggleURL: "/admin/agents/a1/toggle"},
			{ID: "a2", Name: "Linus", Email: "linus@example.com", Role: "agent", Skills: []string{"Billing"}, EditURL: "/admin/agents/a2", ToggleURL: "/admin/agents/a2/toggle"},
			{ID: "a3", Name: "Old", Email: "old@example.com", Role: "agent", Disabled: true, EditURL: "/admin/agents/a3", ToggleURL: "/admin/agents/a3/toggle"},
		},
		New: AgentForm{
			Action: "/admin/agents",
			Name:   "New <one>",
			Email:  "bad",
			Role:   "admin",
			Skills: []OptionView{{Value: "billing", Label: "Billing", Selected: true}, {Value: "tech", Label: "Tech"}},
			Errors: map[string]string{"email": "Enter a valid email address", "password": "At least 12 characters"},
		},
		Error: "You cannot disable the last admin.",
	}
}

func TestAdminAgentsView(t *testing.T) {
	doc, _ := render(t, AdminAgentsView(adminAgentsPage()))
	assertNoInlineCode(t, doc)

	rows := byTestID(doc, "agent-row")
	if rows.Length() != 3 {
		t.Fatalf("rows = %d, want 3", rows.Length())
	}
	tests := []struct {
		id         string
		wantStatus string
		wantToggle string // empty: no toggle
	}{
		{id: "a1", wantStatus: "Active"},
		{id: "a2", wantStatus: "Active", wantToggle: "Disable"},
		{id: "a3", wantStatus: "Disabled", wantToggle: "Enable"},
	}
	for i, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			row := rows.Eq(i)
			if got := attr(t, row, "data-agent-id"); got != tt.id {
				t.Errorf("agent id = %q", got)
			}
			if got := text(row.Find(`[data-testid="agent-status"]`)); got != tt.wantStatus {
				t.Errorf("status = %q, want %q", got, tt.wantStatus)
			}
			if got := row.Find(`[data-testid="agent-edit"]`).AttrOr("href", ""); got != "/admin/agents/"+tt.id {
				t.Errorf("edit = %q", got)
			}
			toggle := row.Find(`[data-testid="agent-toggle"]`)
			if tt.wantToggle == "" {
				if toggle.Length() != 0 {
					t.Errorf("toggle shown on one's own row: %q", text(toggle))
				}
				return
			}
			if got := text(toggle); got != tt.wantToggle {
				t.Errorf("toggle = %q, want %q", got, tt.wantToggle)
			}
			form := toggle.Closest("form")
			if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/admin/agents/"+tt.id+"/toggle" {
				t.Errorf("toggle form = %v", form.Nodes[0].Attr)
			}
		})
	}

	alert := one(t, doc, "admin-error")
	if text(alert) != "You cannot disable the last admin." || alert.AttrOr("role", "") != "alert" {
		t.Errorf("admin error = %q", text(alert))
	}
	form := one(t, doc, "agent-form")
	if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/admin/agents" {
		t.Errorf("form = %v", form.Nodes[0].Attr)
	}
	if got := attr(t, one(t, doc, "agent-name"), "value"); got != "New <one>" {
		t.Errorf("name = %q", got)
	}
	email := one(t, doc, "agent-email")
	if attr(t, email, "value") != "bad" || hasAttr(email, "readonly") {
		t.Errorf("email = %v", email.Nodes[0].Attr)
	}
	password := one(t, doc, "agent-password")
	if hasAttr(password, "value") || !hasAttr(password, "required") {
		t.Errorf("password = %v", password.Nodes[0].Attr)
	}
	if got := one(t, doc, "agent-role").Find("option[selected]").AttrOr("value", ""); got != "admin" {
		t.Errorf("role = %q", got)
	}
	billing := one(t, doc, "agent-skill-billing")
	if attr(t, billing, "name") != "skills" || attr(t, billing, "value") != "billing" || !hasAttr(billing, "checked") {
		t.Errorf("billing skill = %v", billing.Nodes[0].Attr)
	}
	if hasAttr(one(t, doc, "agent-skill-tech"), "checked") {
		t.Error("unselected skill checked")
	}
	for field, want := range map[string]string{"email": "Enter a valid email address", "password": "At least 12 characters"} {
		errEl := one(t, doc, "agent-error-"+field)
		if text(errEl) != want {
			t.Errorf("%s error = %q", field, text(errEl))
		}
		if errEl.Parent().Get(0) != one(t, doc, "agent-"+field).Parent().Get(0) {
			t.Errorf("%s error is not beside its field", field)
		}
	}
	none(t, doc, "agent-error-name")
	one(t, doc, "agent-create")
	none(t, doc, "agent-save")
}

func TestAdminAgentEditView(t *testing.T) {
	doc, _ := render(t, AdminAgentEditView(AdminAgentEditPage{
		AgentPage: AgentPage{Title: "Edit Linus", AgentName: "Ada", IsAdmin: true, Nav: "agents"},
		Form: AgentForm{
			Action: "/admin/agents/a2", Editing: true, Name: "Linus", Email: "linus@example.com", Role: "agent",
			Skills: []OptionView{{Value: "billing", Label: "Billing"}},
		},
	}))
	assertNoInlineCode(t, doc)
	form := one(t, doc, "agent-form")
	if form.AttrOr("action", "") != "/admin/agents/a2" {
		t.Errorf("action = %q", form.AttrOr("action", ""))
	}
	email := one(t, doc, "agent-email")
	if attr(t, email, "value") != "linus@example.com" || !hasAttr(email, "readonly") {
		t.Errorf("email = %v", email.Nodes[0].Attr)
	}
	if hasAttr(one(t, doc, "agent-password"), "required") {
		t.Error("password required when editing")
	}
	if got := text(one(t, doc, "agent-help-password")); !strings.Contains(strings.ToLower(got), "leave empty to keep") {
		t.Errorf("password help = %q", got)
	}
	one(t, doc, "agent-save")
	none(t, doc, "agent-create")
	none(t, doc, "admin-error")
	if got := attr(t, one(t, doc, "nav-agents"), "aria-current"); got != "page" {
		t.Errorf("agents nav aria-current = %q", got)
	}
	none(t, doc, "agent-sign-out-everywhere")

	doc, _ = render(t, AdminAgentEditView(AdminAgentEditPage{
		AgentPage: AgentPage{Title: "Edit Linus", AgentName: "Ada", IsAdmin: true, Nav: "agents"},
		Form:      AgentForm{Action: "/admin/agents/a2", Editing: true, Name: "Linus"}, SignOutURL: "/admin/agents/a2/sign-out",
	}))
	signOut := one(t, doc, "agent-sign-out-everywhere").Closest("form")
	if signOut.AttrOr("method", "") != "post" || signOut.AttrOr("action", "") != "/admin/agents/a2/sign-out" {
		t.Errorf("sign-out-everywhere form = %v", signOut.Nodes[0].Attr)
	}
}

func TestAgentProfileView(t *testing.T) {
	page := ProfilePage{
		AgentPage: AgentPage{Title: "Your profile", AgentName: "Dana", Nav: "profile"},
		Email:     "dana@example.com", Name: "   ", NameMaxLen: 80, PasswordMinLen: 12,
		Errors: map[string]string{"name": "Must be 1 to 80 characters.", "current": "Does not match your current password."},
	}
	doc, _ := render(t, AgentProfileView(page))
	assertNoInlineCode(t, doc)
	if got := attr(t, one(t, doc, "signed-in-agent"), "aria-current"); got != "page" {
		t.Errorf("the header's name link is not marked current: %q", got)
	}
	if got := attr(t, one(t, doc, "signed-in-agent"), "href"); got != "/agent/profile" {
		t.Errorf("the header's name links to %q, want /agent/profile", got)
	}
	name := one(t, doc, "profile-name")
	if attr(t, name, "value") != "   " || attr(t, name, "maxlength") != "80" || attr(t, name, "aria-invalid") != "true" ||
		attr(t, name, "aria-describedby") != "profile-help-name profile-error-name" {
		t.Errorf("name input = %v, want the typed value kept, 80 at most, invalid, described by its help and error", name.Nodes[0].Attr)
	}
	if got := text(one(t, doc, "profile-error-name")); got != "Must be 1 to 80 characters." {
		t.Errorf("name error = %q", got)
	}
	if got := text(doc.Find("#profile-help-name")); !strings.Contains(got, "Dana is answering") {
		t.Errorf("name help = %q, want the customer's words", got)
	}
	for _, f := range []string{"profile-current", "profile-password"} {
		if in := one(t, doc, f); attr(t, in, "type") != "password" || hasAttr(in, "value") {
			t.Errorf("%s = %v, want an empty password input", f, in.Nodes[0].Attr)
		}
	}
	if got := text(one(t, doc, "profile-error-current")); got != "Does not match your current password." {
		t.Errorf("current password error = %q", got)
	}
	none(t, doc, "profile-error-password")
	for id, action := range map[string]string{
		"profile-save-name": "/agent/profile", "profile-save-password": "/agent/profile/password", "sign-out-everywhere": "/agent/profile/sign-out-everywhere",
	} {
		form := one(t, doc, id).Closest("form")
		if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != action {
			t.Errorf("%s form = %v, want POST %s", id, form.Nodes[0].Attr, action)
		}
	}
}

func TestChatViewRating(t *testing.T) {
	tests := []struct {
		name        string
		ended       bool
		ratingURL   string
		rated       bool
		wantForm    bool // rendered at all
		wantVisible bool // and not hidden
		wantThanks  bool
	}{
		{name: "open: rendered hidden for the live end", ratingURL: "/conversations/conv-1/rating", wantForm: true},
		{name: "ended and unrated", ended: true, ratingURL: "/conversations/conv-1/rating", wantForm: true, wantVisible: true},
		{name: "ended and rated", ended: true, ratingURL: "/conversations/conv-1/rating", rated: true, wantThanks: true},
		{name: "no rating url", ended: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := chatPage()
			p.Ended, p.RatingURL = tt.ended, tt.ratingURL
			if tt.rated {
				p.Satisfaction = &SatisfactionView{Rating: 4, Comment: "Great"}
			}
			doc, _ := render(t, ChatView(p))
			form := byTestID(doc, "rating-form")
			if got := form.Length() == 1; got != tt.wantForm {
				t.Fatalf("rating form rendered = %v, want %v", got, tt.wantForm)
			}
			if tt.wantForm {
				if got := !hasAttr(form, "hidden"); got != tt.wantVisible {
					t.Errorf("rating form visible = %v, want %v", got, tt.wantVisible)
				}
				if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != tt.ratingURL {
					t.Errorf("rating form = %v", form.Nodes[0].Attr)
				}
			}
			thanks := byTestID(doc, "rating-thanks")
			if got := thanks.Length() == 1; got != tt.wantThanks {
				t.Fatalf("thanks shown = %v, want %v", got, tt.wantThanks)
			}
			if tt.wantThanks && text(thanks) != "Thanks for your rating: ★★★★☆" {
				t.Errorf("thanks = %q", text(thanks))
			}
		})
	}
}

func TestChatViewRatingForm(t *testing.T) {
	p := chatPage()
	p.Ended = true
	p.RatingURL = "/conversations/conv-1/rating"
	p.RatingValue = 2
	p.RatingComment = "Slow <reply>"
	p.RatingError = "Choose a rating from 1 to 5."
	doc, _ := render(t, ChatView(p))
	assertNoInlineCode(t, doc)
	for n := 1; n <= 5; n++ {
		radio := one(t, doc, "rating-"+itoa(n))
		if attr(t, radio, "type") != "radio" || attr(t, radio, "name") != "rating" || attr(t, radio, "value") != itoa(n) {
			t.Errorf("radio %d = %v", n, radio.Nodes[0].Attr)
		}
		if got := hasAttr(radio, "checked"); got != (n == 2) {
			t.Errorf("radio %d checked = %v", n, got)
		}
		label := doc.Find(`label[for="` + attr(t, radio, "id") + `"]`)
		if got := text(label); got != stars(n)+" "+ratingText(n) {
			t.Errorf("label %d = %q", n, got)
		}
	}
	comment := one(t, doc, "rating-comment")
	if attr(t, comment, "name") != "comment" || attr(t, comment, "maxlength") != "1000" || comment.Text() != "Slow <reply>" {
		t.Errorf("comment = %q %v", comment.Text(), comment.Nodes[0].Attr)
	}
	errEl := one(t, doc, "rating-error")
	if text(errEl) != p.RatingError || errEl.AttrOr("role", "") != "alert" {
		t.Errorf("rating error = %q", text(errEl))
	}
	if got := text(one(t, doc, "rating-submit")); got != "Send rating" {
		t.Errorf("submit = %q", got)
	}
}

func TestChatViewAssignee(t *testing.T) {
	tests := []struct {
		name     string
		assignee string
		ended    bool
		want     string // empty: not shown
	}{
		{name: "answered", assignee: "Grace", want: "Grace is answering"},
		{name: "ended", assignee: "Grace", ended: true},
		{name: "unassigned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := chatPage()
			p.AssigneeName, p.Ended = tt.assignee, tt.ended
			doc, _ := render(t, ChatView(p))
			el := one(t, doc, "chat-assignee") // always there, for live updates
			if tt.want == "" {
				if !hasAttr(el, "hidden") {
					t.Errorf("assignee line shown: %q", text(el))
				}
				return
			}
			if hasAttr(el, "hidden") {
				t.Errorf("assignee line hidden")
			}
			if got := text(el); got != tt.want {
				t.Errorf("assignee = %q, want %q", got, tt.want)
			}
		})
	}
}

// ratingText is rating n in words as an English page says it.
func ratingText(n int) string { return (*locale.Localizer)(nil).T(ratingWord(n)) }

// TestMatchParts: a search excerpt's marked words become marked runs; an
// unclosed marker marks to the end, and text without markers is one run.
func TestMatchParts(t *testing.T) {
	const s, e = "\uE000", "\uE001"
	for _, c := range []struct {
		text string
		want []MatchPart
	}{
		{"plain", []MatchPart{{Text: "plain"}}},
		{"a " + s + "refund" + e + " now", []MatchPart{{Text: "a "}, {Text: "refund", Marked: true}, {Text: " now"}}},
		{s + "Ada" + e + " " + s + "Love" + e, []MatchPart{{Text: "Ada", Marked: true}, {Text: " "}, {Text: "Love", Marked: true}}},
		{"cut " + s + "short", []MatchPart{{Text: "cut "}, {Text: "short", Marked: true}}},
		{"", nil},
	} {
		if got := MatchParts(c.text, s, e); !slices.Equal(got, c.want) {
			t.Errorf("MatchParts(%q) = %+v, want %+v", c.text, got, c.want)
		}
	}
}

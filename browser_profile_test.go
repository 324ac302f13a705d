package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserProfile: Dana renames herself on her profile and the customer
// reads the new name; then she signs out everywhere, and the conversation
// she has open on another computer goes to the sign-in page at once, saying
// why.
func TestBrowserProfile(t *testing.T) {
	srv := startServer(t)
	browser := newBrowser(t)
	browser.signIn(srv, testAdminEmail, testAdminPassword)
	if got := browser.text(tid("signed-in-agent")); got != testAdminName {
		browser.fatalf("the first admin is signed in as %q, want %q (HANDOFF_ADMIN_NAME)", got, testAdminName)
	}
	account := browser.createAgent(srv, "Dana", "dana@support.example.com", "dana password 123", "agent", "billing")

	customer := browser.isolatedTab()
	id := customer.startConversation(srv, contactForm{Name: "Priya Patel", Email: "priya@example.com", Topic: "order", OrderNumber: "A-10042", Message: "Where is my parcel?"})
	customer.waitLive()

	// Dana's office computer, and her laptop with the conversation open.
	dana := browser.isolatedTab()
	dana.do("set the viewport", chromedp.EmulateViewport(1100, 800))
	dana.signIn(srv, account.Email, account.Password)
	laptop := browser.isolatedTab()
	laptop.signIn(srv, account.Email, account.Password)
	laptop.open(srv, "/agent/conversations/"+id, http.StatusOK)
	laptop.clickTo("join", tid("action-join"), "/agent/conversations/"+id)
	laptop.waitLive()
	customer.waitWithin(liveWithin, "the chat names Dana", `document.querySelector('[data-testid="chat-assignee"]').textContent.replace(/\s+/g, " ").trim() === "Dana is answering"`)

	// Her name in the header leads to her profile; a blank name is refused
	// beside the field, then her full name is saved.
	dana.clickTo("open the profile", tid("signed-in-agent"), "/agent/profile")
	dana.screenshot("console-profile.png")
	dana.do("clear the name", chromedp.SetValue(tid("profile-name"), "   "))
	if res := dana.navigate("save a blank name", chromedp.Click(tid("profile-save-name"))); res.Status != http.StatusUnprocessableEntity {
		dana.fatalf("saving a blank name: status %d, want 422", res.Status)
	}
	dana.do("show the error", chromedp.WaitVisible(tid("profile-error-name")))
	dana.do("type the name", chromedp.WaitVisible(tid("profile-name")), chromedp.Clear(tid("profile-name")), chromedp.SendKeys(tid("profile-name"), "Dana Lee"))
	dana.clickTo("save the name", tid("profile-save-name"), "/agent/profile")
	if got := dana.text(tid("signed-in-agent")); got != "Dana Lee" {
		dana.fatalf("the header says %q after the rename, want Dana Lee", got)
	}
	customer.open(srv, "/conversations/"+id, http.StatusOK)
	if got := customer.text(tid("chat-assignee")); got != "Dana Lee is answering" {
		customer.fatalf("the customer reads %q, want Dana Lee is answering", got)
	}

	// Signing out everywhere sends the laptop's open page to sign-in at
	// once (the ping would take 30 s), saying why.
	dana.clickTo("sign out everywhere", tid("sign-out-everywhere"), "/agent/sign-in")
	if got := dana.text(tid("notice")); !strings.Contains(got, "signed out everywhere") {
		dana.fatalf("notice after signing out everywhere = %q", got)
	}
	laptop.waitWithin(liveWithin, "the laptop's open conversation goes to sign-in", `location.pathname === "/agent/sign-in"`)
	if got := laptop.text(tid("notice")); !strings.Contains(got, "signed out") {
		laptop.fatalf("notice on the laptop = %q, want it to say Dana was signed out", got)
	}
}

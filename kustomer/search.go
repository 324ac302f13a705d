package kustomer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Full-text search over conversations, for agents and the organization.
//
// A query is split into terms at anything but letters and digits, as the
// stores split the text they index; a conversation matches when every term
// begins a word of one of its messages (notes included), of its customer's
// name or email addresses, or of one of its custom attributes' values. The
// terms need not all be in the same one: "ada refund" finds Ada's
// conversation about a refund.

// Search limits.
const (
	MaxSearchTerms   = 8
	maxSearchTermLen = 64 // runes; longer terms are cut
	maxSearchQuery   = 512
)

// MatchStart and MatchEnd surround the matching words in a SearchMatch's
// Text: characters of Unicode's private use area, which no text a person
// types carries, so the page can escape the text and mark them safely.
const (
	MatchStart = "\uE000"
	MatchEnd   = "\uE001"
)

// SearchMatch is where a search matched a conversation.
type SearchMatch struct {
	// Field is "message" (the newest matching message), "customer" (the
	// customer's name and email addresses) or "attributes" (the values of
	// the conversation's custom attributes).
	Field string
	// Text is an excerpt with each matching word between MatchStart and
	// MatchEnd.
	Text string
}

// Search match fields.
const (
	MatchMessage    = "message"
	MatchCustomer   = "customer"
	MatchAttributes = "attributes"
)

// SearchTerms splits a query into lowercase search terms, in order and
// without repeats. A query with nothing to search for (no letter or digit)
// gives none; one that is too long, or has more than MaxSearchTerms terms,
// is a validation error on field.
func SearchTerms(query, field string) ([]string, error) {
	if len(query) > maxSearchQuery {
		return nil, validation(field, fmt.Sprintf("must be at most %d bytes", maxSearchQuery))
	}
	var terms []string
	for _, w := range strings.FieldsFunc(query, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		w = strings.ToLower(w)
		if utf8.RuneCountInString(w) > maxSearchTermLen {
			w = string([]rune(w)[:maxSearchTermLen])
		}
		if !slices.Contains(terms, w) {
			terms = append(terms, w)
		}
	}
	if len(terms) > MaxSearchTerms {
		return nil, validation(field, fmt.Sprintf("must have at most %d words", MaxSearchTerms))
	}
	return terms, nil
}

func validation(field, msg string) error {
	v := &ValidationError{}
	v.Add(field, msg)
	return v
}

// SearchConversations lists the conversations query matches (see
// SearchTerms), newest activity first, narrowed by f as Inbox narrows its
// queues, each with where it matched in the page's Matches; for agents and
// the organization. A query without terms is a validation error. Unlike
// Inbox, it reads every field unless f says Lean.
func (e *Engine) SearchConversations(ctx context.Context, actor Actor, f ConversationFilter, query string, page, pageSize int) (ConversationPage, error) {
	if err := requireOrg(actor); err != nil {
		return ConversationPage{}, err
	}
	terms, err := SearchTerms(query, "q")
	if err != nil {
		return ConversationPage{}, err
	}
	if len(terms) == 0 {
		return ConversationPage{}, validation("q", "must contain a word to search for")
	}
	f.Terms = terms
	return e.conversations(ctx, actor, f, page, pageSize)
}

// withMatches adds to p where f's search terms matched each conversation.
func (e *Engine) withMatches(ctx context.Context, f ConversationFilter, p ConversationPage) (ConversationPage, error) {
	if len(f.Terms) == 0 || len(p.Conversations) == 0 {
		return p, nil
	}
	ids := make([]string, len(p.Conversations))
	for i, c := range p.Conversations {
		ids[i] = c.ID
	}
	m, err := e.store.SearchMatches(ctx, f.Terms, ids)
	if err != nil {
		return ConversationPage{}, err
	}
	p.Matches = m
	return p, nil
}

package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
	"github.com/handoff/handoff/views"
)

// conversationList lists the visitor's conversations, newest activity first,
// paged like getConversations.
func (s *Server) conversationList(c echo.Context) error {
	page, pageSize, err := pageParams(c)
	if err != nil {
		return err
	}
	p := views.ConversationListPage{
		Page:   views.Page{ShowConversationsLink: true, L: pageLocale(c, c.QueryParam("lang"), "")},
		NewURL: "/",
		Pager:  views.Pager{Current: page},
	}
	p.Title = p.L.T("layout.your_conversations")
	noStore(c)
	actor, ok := s.customer(c)
	if !ok {
		return render(c, http.StatusOK, views.ConversationListView(p))
	}
	res, err := s.engine.GetConversations(c.Request().Context(), actor, actor.ID, page, pageSize)
	if err != nil {
		return err
	}
	p.Total = res.Total
	for _, conv := range res.Conversations {
		p.Rows = append(p.Rows, views.ConversationRow{
			ID:            conv.ID,
			URL:           "/conversations/" + conv.ID,
			FormTitle:     s.formTitle(conv.FormID, p.L.Lang()),
			Preview:       conv.Preview,
			CreatedAt:     conv.CreatedAt,
			LastMessageAt: conv.LastMessageAt,
			Ended:         conv.Ended,
			AssistantMode: conv.IsInAssistantMode,
			Unread:        conv.CustomerUnread,
		})
	}
	link := func(n *int) string {
		if n == nil {
			return ""
		}
		q := url.Values{"page": {strconv.Itoa(*n)}}
		if pageSize != 0 && pageSize != kustomer.DefaultPageSize {
			q.Set("pageSize", strconv.Itoa(pageSize))
		}
		return "/conversations?" + q.Encode()
	}
	if page > 1 {
		first := 1
		p.Pager.FirstURL = link(&first)
	}
	p.Pager.PreviousURL = link(res.Pages.Previous)
	p.Pager.NextURL = link(res.Pages.Next)
	return render(c, http.StatusOK, views.ConversationListView(p))
}

// pageParams reads page and pageSize; 0 means the default.
func pageParams(c echo.Context) (page, pageSize int, err error) {
	num := func(name string) (int, error) {
		v := c.QueryParam(name)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, &kustomer.ValidationError{Fields: map[string]string{name: "must be a whole number"}}
		}
		return n, nil
	}
	if page, err = num("page"); err != nil {
		return 0, 0, err
	}
	if pageSize, err = num("pageSize"); err != nil {
		return 0, 0, err
	}
	verr := &kustomer.ValidationError{}
	if page < 0 {
		verr.Add("page", "must be 1 or more")
	}
	if pageSize < 0 {
		verr.Add("pageSize", fmt.Sprintf("must be between 1 and %d", kustomer.MaxPageSize))
	}
	if err := verr.OrNil(); err != nil {
		return 0, 0, err
	}
	// A larger page is what a client passing the SDK's options gets: the
	// largest there is, as Kustomer clamps it.
	return page, min(pageSize, kustomer.MaxPageSize), nil
}

package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoff/handoff/kustomer"
)

// describeCustomerRequest is the SDK's describeCustomer: contact details
// under attributes, and custom attributes beside them.
type describeCustomerRequest struct {
	Name       *string `json:"name"`
	Attributes struct {
		Emails  []string          `json:"emails"`
		Phones  []string          `json:"phones"`
		Socials []kustomer.Social `json:"socials"`
	} `json:"attributes"`
	CustomAttributes kustomer.Attributes `json:"customAttributes"`
}

// apiCustomerDescribe is PATCH /api/v1/customer, the SDK's describeCustomer:
// it adds emails, phones and social accounts to the session's customer and
// sets custom attributes (validated against attributes.customer; null
// clears one). It answers the customer as stored.
func (s *Server) apiCustomerDescribe(c echo.Context) error {
	actor, err := s.requireCustomer(c)
	if err != nil {
		return err
	}
	var req describeCustomerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	cu, err := s.engine.DescribeCustomer(c.Request().Context(), actor, actor.ID, kustomer.DescribeCustomerInput{
		Name: req.Name, Emails: req.Attributes.Emails, Phones: req.Attributes.Phones, Socials: req.Attributes.Socials,
		CustomAttributes: req.CustomAttributes,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cu)
}

package cloudtest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The records of the fake's state. attrs hold a resource's attributes as
// GET answers them, JSON values (map[string]any, []any, string, float64,
// bool, nil); relationships are rendered from the ids.
type customer struct {
	id        string
	body      []byte // the POST body as received
	attrs     map[string]any
	createdBy string
	company   any // the company relationship's id, if one was given
}

type conversation struct {
	id         string
	customerID string
	body       []byte   // the POST body as received
	updates    [][]byte // the PUT bodies as received
	attrs      map[string]any
	createdBy  string
	modifiedBy string
}

type message struct {
	id             string
	conversationID string
	customerID     string
	body           []byte // the POST body as received; nil for MessageCreated
	attrs          map[string]any
	createdBy      string // a user; "" when the customer wrote it
}

// Customer is a customer of the fake, as a test sees it.
type Customer struct {
	ID string
	// Body is the POST /v1/customers body as received.
	Body json.RawMessage
	// Attributes are the attributes GET /v1/customers/{id} answers.
	Attributes map[string]any
	// Taken from Attributes.
	Name       string
	ExternalID string
	Emails     []string
	Custom     map[string]any
}

// Conversation is a conversation of the fake, as a test sees it.
type Conversation struct {
	ID         string
	CustomerID string
	// Body is the POST /v1/customers/{id}/conversations body as received.
	Body json.RawMessage
	// Updates are the PUT /v1/conversations/{id} bodies as received, in
	// order.
	Updates []json.RawMessage
	// Attributes are the attributes GET /v1/conversations/{id} answers.
	Attributes map[string]any
	// Taken from Attributes.
	Name       string
	ExternalID string
	Status     string
	Ended      bool
	Tags       []string
	Custom     map[string]any
}

// Message is a message of the fake, as a test sees it.
type Message struct {
	ID             string
	ConversationID string
	CustomerID     string
	// Body is the POST /v1/conversations/{id}/messages body as received;
	// nil for a message MessageCreated made.
	Body json.RawMessage
	// Attributes are the attributes the message resource carries.
	Attributes map[string]any
	// CreatedBy is the user who wrote it (AgentID for MessageCreated's
	// "out" messages, UserID for the API's), "" for the customer.
	CreatedBy string
	// Taken from Attributes.
	Channel    string
	App        string
	Direction  string
	Preview    string
	ExternalID string
	Meta       map[string]any
}

// Customers returns the customers, in creation order.
func (f *Fake) Customers() []Customer {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Customer, 0, len(f.customers))
	for _, c := range f.customers {
		a := clone(c.attrs).(map[string]any)
		cu := Customer{ID: c.id, Body: raw(c.body), Attributes: a,
			Name: str(a["name"]), ExternalID: str(a["externalId"]), Custom: obj(a["custom"])}
		for _, e := range list(a["emails"]) {
			cu.Emails = append(cu.Emails, str(obj(e)["email"]))
		}
		out = append(out, cu)
	}
	return out
}

// Conversations returns the conversations, in creation order.
func (f *Fake) Conversations() []Conversation {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Conversation, 0, len(f.conversations))
	for _, c := range f.conversations {
		out = append(out, c.snapshot())
	}
	return out
}

// Conversation returns the conversation id, and whether there is one.
func (f *Fake) Conversation(id string) (Conversation, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.conversation(id); c != nil {
		return c.snapshot(), true
	}
	return Conversation{}, false
}

func (c *conversation) snapshot() Conversation {
	a := clone(c.attrs).(map[string]any)
	cv := Conversation{ID: c.id, CustomerID: c.customerID, Body: raw(c.body), Attributes: a,
		Name: str(a["name"]), ExternalID: str(a["externalId"]), Status: str(a["status"]),
		Custom: obj(a["custom"])}
	cv.Ended, _ = a["ended"].(bool)
	for _, u := range c.updates {
		cv.Updates = append(cv.Updates, raw(u))
	}
	for _, t := range list(a["tags"]) {
		cv.Tags = append(cv.Tags, str(t))
	}
	return cv
}

// Messages returns the messages of a conversation, in creation order.
func (f *Fake) Messages(conversationID string) []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Message
	for _, m := range f.messages[conversationID] {
		a := clone(m.attrs).(map[string]any)
		out = append(out, Message{ID: m.id, ConversationID: m.conversationID, CustomerID: m.customerID,
			Body: raw(m.body), Attributes: a, CreatedBy: m.createdBy,
			Channel: str(a["channel"]), App: str(a["app"]), Direction: str(a["direction"]),
			Preview: str(a["preview"]), ExternalID: str(a["externalId"]), Meta: obj(a["meta"])})
	}
	return out
}

// handlers are the operations the fake implements, by the export's
// operationId. The request has passed validation: its body is a JSON
// object of the documented shape (creates and updates require one).
var handlers = map[string]func(f *Fake, p map[string]string, r *http.Request, body []byte) (int, any){
	"CreateCustomer":                (*Fake).createCustomer,
	"GetCustomerById":               (*Fake).getCustomer,
	"GetCustomerByEmail":            (*Fake).getCustomerByEmail,
	"GetCustomerByExternalId":       (*Fake).getCustomerByExternalID,
	"CreateConversationForCustomer": (*Fake).createConversation,
	"GetConversationsByCustomer":    (*Fake).listConversations,
	"GetConversation":               (*Fake).getConversation,
	"GetConversationByExternalId":   (*Fake).getConversationByExternalID,
	"UpdateConversation":            (*Fake).updateConversation,
	"CreateMessageFromConversation": (*Fake).createMessage,
	"GetMessagesByConversation":     (*Fake).listMessages,
}

func (f *Fake) do(op string, p map[string]string, r *http.Request, body []byte) (int, any) {
	if op == "" { // the outbound-webhooks paths
		return f.outboundWebhooks(r, body)
	}
	return handlers[op](f, p, r, body)
}

func notFound(what, id string) (int, any) {
	return http.StatusNotFound, errorBody(http.StatusNotFound, "not_found", "Not Found", "no "+what+" "+id)
}

func decode(body []byte) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(body, &m) // validated: an object
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// --- customers ---

// customerLists are the list attributes the export's customer answers
// always carry, and the defaults their items get.
var customerLists = map[string]map[string]any{
	"emails":            {"type": "other", "verified": false},
	"sharedEmails":      {"type": "other", "verified": false},
	"phones":            {"type": "other", "verified": false},
	"sharedPhones":      {"type": "other", "verified": false},
	"whatsapps":         {"type": "mobile", "verified": false},
	"socials":           {"verified": false},
	"sharedSocials":     {"verified": false},
	"externalIds":       {"verified": false},
	"sharedExternalIds": {"verified": false},
	"urls":              {"type": "other"},
	"locations":         {},
	"facebookIds":       nil,
	"instagramIds":      nil,
	"activeUsers":       nil,
	"watchers":          nil,
	"tags":              nil,
}

func (f *Fake) createCustomer(_ map[string]string, _ *http.Request, body []byte) (int, any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := decode(body)
	now := f.now()
	c := &customer{id: newID(), body: body, createdBy: f.UserID}
	if v, ok := a["company"]; ok { // a relationship, not an attribute
		c.company = v
		delete(a, "company")
	}
	for name, defaults := range customerLists {
		items := list(a[name])
		for i, it := range items {
			if m, ok := it.(map[string]any); ok && defaults != nil {
				for k, v := range defaults {
					if _, ok := m[k]; !ok {
						m[k] = v
					}
				}
				if _, ok := m["id"]; !ok {
					m["id"] = nil
				}
				items[i] = m
			}
		}
		if items == nil {
			items = []any{}
		}
		a[name] = items
	}
	if _, ok := a["custom"]; !ok {
		a["custom"] = map[string]any{}
	}
	a["displayName"] = displayName(a)
	setDefault(a, "createdAt", now)
	a["updatedAt"], a["modifiedAt"] = now, now
	setDefault(a, "lastActivityAt", now)
	a["verified"] = false
	a["rev"] = 1.0
	f.customers = append(f.customers, c)
	c.attrs = a
	return http.StatusCreated, map[string]any{"data": f.customerResource(c)}
}

// displayName is what Kustomer shows for a customer: the name, else the
// first email or phone.
func displayName(a map[string]any) string {
	if s := str(a["name"]); s != "" {
		return s
	}
	for _, k := range []string{"emails", "phones"} {
		for _, it := range list(a[k]) {
			m := obj(it)
			if s := str(m["email"]) + str(m["phone"]); s != "" {
				return s
			}
		}
	}
	return ""
}

func (f *Fake) customer(id string) *customer {
	for _, c := range f.customers {
		if c.id == id {
			return c
		}
	}
	return nil
}

func (f *Fake) getCustomer(p map[string]string, _ *http.Request, _ []byte) (int, any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.customer(p["id"])
	if c == nil {
		return notFound("customer", p["id"])
	}
	return http.StatusOK, map[string]any{"data": f.customerResource(c)}
}

// getCustomerByEmail matches emails (and sharedEmails) without regard to
// case; the first customer created wins. No match is 404 (CONTRACT.md §3:
// the status is unconfirmed, 404 is what the relay must treat as none).
func (f *Fake) getCustomerByEmail(p map[string]string, _ *http.Request, _ []byte) (int, any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.customers {
		for _, k := range []string{"emails", "sharedEmails"} {
			for _, it := range list(c.attrs[k]) {
				if strings.EqualFold(str(obj(it)["email"]), p["email"]) {
					return http.StatusOK, map[string]any{"data": f.customerResource(c)}
				}
			}
		}
	}
	return notFound("customer with email", p["email"])
}

// getCustomerByExternalID matches externalId exactly, then externalIds;
// the first customer created wins. No match is 404.
func (f *Fake) getCustomerByExternalID(p map[string]string, _ *http.Request, _ []byte) (int, any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := p["externalId"]
	for _, c := range f.customers {
		match := str(c.attrs["externalId"]) == id
		for _, it := range list(c.attrs["externalIds"]) {
			match = match || str(obj(it)["externalId"]) == id
		}
		if match {
			return http.StatusOK, map[string]any{"data": f.customerResource(c)}
		}
	}
	return notFound("customer with externalId", id)
}

func (f *Fake) customerResource(c *customer) map[string]any {
	a := clone(c.attrs).(map[string]any)
	counts := map[string]any{"all": 0, "open": 0, "snoozed": 0, "done": 0}
	for _, cv := range f.conversations {
		if cv.customerID == c.id {
			counts["all"] = counts["all"].(int) + 1
			if s := str(cv.attrs["status"]); s == "open" || s == "snoozed" || s == "done" {
				counts[s] = counts[s].(int) + 1
			}
		}
	}
	a["conversationCounts"] = counts
	rel := map[string]any{
		"org":        f.rel("org", f.OrgID, "/v1/orgs/"),
		"messages":   map[string]any{"links": map[string]any{"self": "/v1/customers/" + c.id + "/messages"}},
		"createdBy":  f.rel("user", c.createdBy, "/v1/users/"),
		"modifiedBy": f.rel("user", c.createdBy, "/v1/users/"),
	}
	if id, ok := c.company.(string); ok {
		rel["company"] = f.rel("company", id, "/v1/companies/")
	}
	return map[string]any{
		"type":          "customer",
		"id":            c.id,
		"attributes":    a,
		"relationships": rel,
		"links":         map[string]any{"self": "/v1/customers/" + c.id},
	}
}

func (f *Fake) rel(typ, id, prefix string) map[string]any {
	return map[string]any{
		"links": map[string]any{"self": prefix + id},
		"data":  map[string]any{"type": typ, "id": id},
	}
}

// --- conversations ---

func (f *Fake) createConversation(p map[string]string, _ *http.Request, body []byte) (int, any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cu := f.customer(p["id"])
	if cu == nil {
		return notFound("customer", p["id"])
	}
	a := decode(body)
	id := newID()
	if s, ok := a["id"].(string); ok { // an admin may choose the id
		if f.conversation(s) != nil {
			return http.StatusConflict, errorBody(http.StatusConflict, "conflict", "Conflict", "a conversation "+s+" exists")
		}
		id = s
	}
	delete(a, "id")
	delete(a, "queue") // a relationship
	c := f.conversationRecord(id, cu.id, a)
	c.body = body
	f.conversations = append(f.conversations, c)
	return http.StatusCreated, map[string]any{"data": f.conversationResource(c)}
}

// conversationRecord makes a conversation with attributes a, completed
// with what Kustomer fills. f.mu is held.
func (f *Fake) conversationRecord(id, customerID string, a map[string]any) *conversation {
	now := f.now()
	setDefault(a, "name", "")
	setDefault(a, "status", "open")
	setDefault(a, "direction", "in")
	setDefault(a, "priority", 3.0)
	for _, k := range []string{"tags", "suggestedTags", "assignedUsers", "assignedTeams", "channels"} {
		setDefault(a, k, []any{})
	}
	for _, k := range []string{"custom", "sentiment", "lastMessageIn", "firstResponse"} {
		setDefault(a, k, map[string]any{})
	}
	for _, k := range []string{"messageCount", "noteCount", "outboundMessageCount", "satisfaction"} {
		setDefault(a, k, 0.0)
	}
	setDefault(a, "ended", false)
	setDefault(a, "createdAt", now)
	a["updatedAt"], a["modifiedAt"] = now, now
	a["rev"] = 1.0
	return &conversation{id: id, customerID: customerID, attrs: a, createdBy: f.UserID, modifiedBy: f.UserID}
}

func (f *Fake) conversation(id string) *conversation {
	for _, c := range f.conversations {
		if c.id == id {
			return c
		}
	}
	return nil
}

func (f *Fake) getConversation(p map[string]string, _ *http.Request, _ []byte) (int, any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.conversation(p["id"])
	if c == nil {
		return notFound("conversation", p["id"])
	}
	return http.StatusOK, map[string]any{"data": f.conversationResource(c)}
}

// getConversationByExternalID matches externalId exactly; the first
// conversation created wins. No match is 404.
func (f *Fake) getConversationByExternalID(p map[string]string, _ *http.Request, _ []byte) (int, any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conversations {
		if str(c.attrs["externalId"]) == p["externalId"] {
			return http.StatusOK, map[string]any{"data": f.conversationResource(c)}
		}
	}
	return notFound("conversation with externalId", p["externalId"])
}

// updateConversation sets the attributes the body names. custom is merged
// attribute by attribute (null clears one) unless ?replace=true, which
// replaces it whole. ended: true without endedAt ends it now. The other
// branch of the export's oneOf, {"customer": id}, moves it to that
// customer.
func (f *Fake) updateConversation(p map[string]string, r *http.Request, body []byte) (int, any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.conversation(p["id"])
	if c == nil {
		return notFound("conversation", p["id"])
	}
	a := decode(body)
	if id, ok := a["customer"].(string); ok {
		if f.customer(id) == nil {
			return notFound("customer", id)
		}
		c.customerID = id
		delete(a, "customer")
	}
	replace, _ := strconv.ParseBool(r.URL.Query().Get("replace"))
	delete(a, "queue")
	f.apply(c, a, replace)
	c.modifiedBy = f.UserID
	c.updates = append(c.updates, body)
	return http.StatusOK, map[string]any{"data": f.conversationResource(c)}
}

// apply sets a conversation's attributes and reports what changed, in the
// shape of Kustomer's event changes: {attributes: {name: {op, before,
// after}}}. f.mu is held.
func (f *Fake) apply(c *conversation, a map[string]any, replace bool) map[string]any {
	now := f.now()
	changes := map[string]any{}
	set := func(k string, v any) {
		before, had := c.attrs[k]
		if had && jsonEqual(before, v) {
			return
		}
		op := "replace"
		if !had {
			op = "add"
		}
		changes[k] = map[string]any{"op": op, "before": clone(before), "after": clone(v)}
		c.attrs[k] = v
	}
	for k, v := range a {
		if k == "custom" && !replace {
			merged := clone(obj(c.attrs["custom"])).(map[string]any)
			if merged == nil {
				merged = map[string]any{}
			}
			for ck, cv := range obj(v) {
				merged[ck] = cv
			}
			v = merged
		}
		set(k, v)
	}
	if ended, _ := a["ended"].(bool); ended {
		if _, given := a["endedAt"]; !given && str(c.attrs["endedAt"]) == "" {
			set("endedAt", now)
		}
	}
	c.attrs["updatedAt"], c.attrs["modifiedAt"] = now, now
	c.attrs["rev"] = num(c.attrs["rev"]) + 1
	return map[string]any{"attributes": changes}
}

func (f *Fake) conversationResource(c *conversation) map[string]any {
	return map[string]any{
		"type":       "conversation",
		"id":         c.id,
		"attributes": clone(c.attrs),
		"relationships": map[string]any{
			"org":        f.rel("org", f.OrgID, "/v1/orgs/"),
			"customer":   f.rel("customer", c.customerID, "/v1/customers/"),
			"messages":   map[string]any{"links": map[string]any{"self": "/v1/conversations/" + c.id + "/messages"}},
			"createdBy":  f.rel("user", c.createdBy, "/v1/users/"),
			"modifiedBy": f.rel("user", c.modifiedBy, "/v1/users/"),
		},
		"links": map[string]any{"self": "/v1/conversations/" + c.id},
	}
}

// listConversations lists a customer's conversations in creation order,
// from fromDate (createdAt) on if given.
func (f *Fake) listConversations(p map[string]string, r *http.Request, _ []byte) (int, any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.customer(p["id"]) == nil {
		return notFound("customer", p["id"])
	}
	from := r.URL.Query().Get("fromDate")
	var all []any
	for _, c := range f.conversations {
		if c.customerID == p["id"] && (from == "" || !before(str(c.attrs["createdAt"]), from)) {
			all = append(all, f.conversationResource(c))
		}
	}
	return http.StatusOK, page(r, "/v1/customers/"+p["id"]+"/conversations", all)
}

// --- messages ---

// messageRelations are request properties that become relationships.
var messageRelations = []string{"id", "customer", "conversation", "createdBy", "modifiedBy", "reference", "shortcuts", "kbArticles", "attachments", "queue"}

func (f *Fake) createMessage(p map[string]string, _ *http.Request, body []byte) (int, any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.conversation(p["id"])
	if c == nil {
		return notFound("conversation", p["id"])
	}
	a := decode(body)
	for _, k := range messageRelations {
		delete(a, k)
	}
	m := f.newMessage(c.id, c.customerID, f.UserID, a)
	m.body = body
	return http.StatusCreated, map[string]any{"data": f.messageResource(m)}
}

// newMessage stores a message with attributes a, completed with what
// Kustomer fills, and counts it on its conversation if the fake has it.
// f.mu is held.
func (f *Fake) newMessage(conversationID, customerID, createdBy string, a map[string]any) *message {
	now := f.now()
	setDefault(a, "direction", "in")
	setDefault(a, "meta", map[string]any{})
	setDefault(a, "size", float64(len(str(a["preview"]))))
	if a["direction"] == "out" {
		setDefault(a, "status", "sent")
	} else {
		setDefault(a, "status", "received")
	}
	setDefault(a, "createdAt", now)
	setDefault(a, "sentAt", a["createdAt"])
	a["updatedAt"], a["modifiedAt"] = now, now
	m := &message{id: newID(), conversationID: conversationID, customerID: customerID, attrs: a, createdBy: createdBy}
	f.messages[conversationID] = append(f.messages[conversationID], m)
	if c := f.conversation(conversationID); c != nil {
		ca := c.attrs
		ca["messageCount"] = num(ca["messageCount"]) + 1
		if a["direction"] == "out" {
			ca["outboundMessageCount"] = num(ca["outboundMessageCount"]) + 1
			ca["lastMessageOut"] = map[string]any{"sentAt": a["sentAt"]}
		} else {
			ca["lastMessageIn"] = map[string]any{"sentAt": a["sentAt"]}
		}
		if ch := str(a["channel"]); ch != "" && !slices.Contains(list(ca["channels"]), any(ch)) {
			ca["channels"] = append(list(ca["channels"]), ch)
		}
		ca["lastMessageAt"] = a["sentAt"]
		if p := str(a["preview"]); p != "" {
			ca["preview"] = p
		}
		ca["updatedAt"] = now
		ca["rev"] = num(ca["rev"]) + 1
	}
	return m
}

func (f *Fake) messageResource(m *message) map[string]any {
	rel := map[string]any{
		"org":          f.rel("org", f.OrgID, "/v1/orgs/"),
		"customer":     f.rel("customer", m.customerID, "/v1/customers/"),
		"conversation": f.rel("conversation", m.conversationID, "/v1/conversations/"),
	}
	if m.createdBy != "" {
		rel["createdBy"] = f.rel("user", m.createdBy, "/v1/users/")
		rel["modifiedBy"] = f.rel("user", m.createdBy, "/v1/users/")
	}
	return map[string]any{
		"type":          "message",
		"id":            m.id,
		"attributes":    clone(m.attrs),
		"relationships": rel,
		"links":         map[string]any{"self": "/v1/messages/" + m.id},
	}
}

// listMessages lists a conversation's messages in creation order (which
// order Kustomer uses is not documented).
func (f *Fake) listMessages(p map[string]string, r *http.Request, _ []byte) (int, any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conversation(p["id"]) == nil {
		return notFound("conversation", p["id"])
	}
	var all []any
	for _, m := range f.messages[p["id"]] {
		all = append(all, f.messageResource(m))
	}
	return http.StatusOK, page(r, "/v1/conversations/"+p["id"]+"/messages", all)
}

// page answers one page of a list: data, meta {page, pageSize} and links
// {self, first, prev, next}, prev null on the first page and next null on
// the last. page defaults to 1, pageSize to 100 (the export's defaults).
func page(r *http.Request, path string, all []any) map[string]any {
	q := r.URL.Query()
	pg, size := intParam(q.Get("page"), 1), intParam(q.Get("pageSize"), 100)
	link := func(n int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(n))
		v.Set("pageSize", strconv.Itoa(size))
		return path + "?" + v.Encode()
	}
	lo := min((pg-1)*size, len(all))
	hi := min(lo+size, len(all))
	data := all[lo:hi]
	if data == nil {
		data = []any{}
	}
	links := map[string]any{"self": link(pg), "first": link(1), "prev": nil, "next": nil}
	if pg > 1 {
		links["prev"] = link(pg - 1)
	}
	if hi < len(all) {
		links["next"] = link(pg + 1)
	}
	return map[string]any{"data": data, "meta": map[string]any{"page": pg, "pageSize": size}, "links": links}
}

// intParam reads a positive whole number (the export types page and
// pageSize as number), else def.
func intParam(s string, def int) int {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 1 || v > math.MaxInt32 {
		return def
	}
	return int(v)
}

// before compares two timestamps; false if either does not parse.
func before(a, b string) bool {
	ta, err1 := time.Parse(time.RFC3339, a)
	tb, err2 := time.Parse(time.RFC3339, b)
	return err1 == nil && err2 == nil && ta.Before(tb)
}

// --- JSON values ---

func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) float64 {
	n, _ := v.(float64)
	return n
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func raw(b []byte) json.RawMessage {
	if b == nil {
		return nil
	}
	return append(json.RawMessage(nil), b...)
}

// clone deep-copies a JSON value (ints become float64, as decoding would
// make them).
func clone(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			return map[string]any(nil)
		}
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = clone(e)
		}
		return m
	case []any:
		if v == nil {
			return []any(nil)
		}
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = clone(e)
		}
		return l
	case int:
		return float64(v)
	case string, float64, bool, nil:
		return v
	default:
		panic(fmt.Sprintf("cloudtest: clone %T", v))
	}
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

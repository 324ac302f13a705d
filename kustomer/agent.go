package kustomer

import (
	"time"
)

// Role is what an account may do.
type Role string

// The roles.
const (
	// RoleAgent answers conversations in the console.
	RoleAgent Role = "agent"
	// RoleAdmin also manages agents, forms and assistants.
	RoleAdmin Role = "admin"
)

// Agent is an account of the agent console: an agent or an admin.
type Agent struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Skills    []string  `json:"skills"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// PasswordHash is the bcrypt hash of the password; it never leaves the
	// server.
	PasswordHash string `json:"-"`
	// Capacity is how many open conversations auto-assignment gives the
	// agent at most (0: none).
	Capacity int `json:"capacity"`
	// Status is whether the agent takes conversations now, since StatusAt;
	// StatusReason says why handoff set it (StatusIdle, StatusGone), ""
	// when the agent chose it. SeenAt is when a console page of theirs was
	// last connected; LastAssignedAt when they were last given one.
	Status         AgentStatus `json:"status"`
	StatusReason   string      `json:"statusReason,omitempty"`
	StatusAt       *time.Time  `json:"statusAt,omitempty"`
	SeenAt         *time.Time  `json:"-"`
	LastAssignedAt *time.Time  `json:"-"`
}

// AgentSessionLength is how long a sign-in to the console lasts.
const AgentSessionLength = 12 * time.Hour

// AgentSession is one sign-in of an agent. The console's cookie names it;
// ending it deletes it, so the cookie stops working at once, in every
// browser it was copied to.
type AgentSession struct {
	// ID is a random secret of 64 hex digits, kept in the agent's
	// authenticated and encrypted cookie.
	ID        string
	AgentID   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// HasSkill reports whether the agent has skill.
func (a Agent) HasSkill(skill string) bool {
	for _, s := range a.Skills {
		if s == skill {
			return true
		}
	}
	return false
}

// Actor returns the agent acting.
func (a Agent) Actor() Actor { return Actor{Type: AuthorAgent, ID: a.ID, Name: a.Name} }

// Skill is a kind of work conversations can be routed to, defined in
// handoff.yaml.
type Skill struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
	// AutoAssign gives the conversations waiting in the skill's queue to
	// online agents with the skill (see Engine.AutoAssign).
	AutoAssign bool `yaml:"autoAssign" json:"autoAssign"`
}

// Satisfaction is the customer's rating of an ended conversation.
type Satisfaction struct {
	Rating    int       `json:"rating"`
	Comment   string    `json:"comment,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// Queue selects conversations for the agent inbox.
type Queue string

// The inbox queues.
const (
	QueueUnassigned Queue = "unassigned" // open, out of assistant mode, nobody assigned
	QueueMine       Queue = "mine"       // open, assigned to the viewing agent
	QueueOpen       Queue = "open"       // every open conversation
	QueueEnded      Queue = "ended"      // ended conversations
)

// Valid reports whether q is a known queue.
func (q Queue) Valid() bool {
	switch q {
	case QueueUnassigned, QueueMine, QueueOpen, QueueEnded:
		return true
	}
	return false
}

// NewAgentInput creates an account.
type NewAgentInput struct {
	Email    string
	Name     string
	Password string
	Role     Role
	Skills   []string
	// Capacity is DefaultCapacity when nil.
	Capacity *int
}

// UpdateAgentInput changes an account; nil fields stay as they are.
type UpdateAgentInput struct {
	Name     *string
	Role     *Role
	Skills   *[]string
	Capacity *int
	Disabled *bool
	// Password, when non-empty, replaces the password and ends the
	// account's sessions, all but KeepSessionID (the session of an agent
	// changing their own password).
	Password      string
	KeepSessionID string
}

package handlers

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/handoff/handoff/kustomer"
)

// agentSockets tracks the open sockets of signed-in agents, so that when a
// session ends (sign-out, sign out everywhere, a new password, a disabled
// account) every socket of it closes at once, on every page, and a new
// display name reaches the sockets already open.
//
// While any agent socket is open, one watcher follows agent.updated on
// AllConversations and reads the named agent's sessions back from the
// store: the event only says "look again", so it works the same whichever
// broker carries it.
type agentSockets struct {
	srv *Server

	mu      sync.Mutex
	byAgent map[string]map[*agentConn]struct{}
	stop    chan struct{} // stops the running watcher; nil while none runs
}

// agentConn is one socket's hold on its agent session.
type agentConn struct {
	agentID   string
	sessionID string
	// ended is done once the session has ended: a socket closes on it
	// with context.AfterFunc, holding no goroutine to wait.
	ended context.Context
	end   context.CancelFunc     // marks the session ended; the socket closes
	name  atomic.Pointer[string] // the agent's display name, kept current
}

// isEnded reports whether the session has ended.
func (c *agentConn) isEnded() bool { return c.ended.Err() != nil }

// watcherActor subscribes the watcher to every conversation's events.
var watcherActor = kustomer.Actor{Type: kustomer.AuthorSystem, ID: "agent-sessions"}

// add registers a socket of agent a's session sessionID. The session is
// checked once more after the watcher listens, so that an end between the
// request's check and now is not missed.
func (r *agentSockets) add(ctx context.Context, a kustomer.Agent, sessionID string) (*agentConn, error) {
	c := &agentConn{agentID: a.ID, sessionID: sessionID}
	c.ended, c.end = context.WithCancel(context.Background())
	c.name.Store(&a.Name)
	r.mu.Lock()
	if r.stop == nil {
		sub, err := r.srv.engine.SubscribeAll(ctx, watcherActor)
		if err != nil {
			r.mu.Unlock()
			return nil, err
		}
		r.stop = make(chan struct{})
		go r.watch(sub, r.stop)
	}
	if r.byAgent == nil {
		r.byAgent = make(map[string]map[*agentConn]struct{})
	}
	conns := r.byAgent[a.ID]
	if conns == nil {
		conns = make(map[*agentConn]struct{})
		r.byAgent[a.ID] = conns
	}
	conns[c] = struct{}{}
	r.mu.Unlock()
	r.check(ctx, []*agentConn{c})
	r.srv.engine.TouchAgent(ctx, a.ID) // a console is open: the agent is present
	return c, nil
}

// remove forgets a closed socket; the watcher stops with the last one.
func (r *agentSockets) remove(c *agentConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	conns := r.byAgent[c.agentID]
	delete(conns, c)
	if len(conns) == 0 {
		delete(r.byAgent, c.agentID)
	}
	if len(r.byAgent) == 0 && r.stop != nil {
		close(r.stop)
		r.stop = nil
	}
}

// watch follows agent.updated until stopped or the broker closes.
func (r *agentSockets) watch(sub kustomer.Subscription, stop chan struct{}) {
	defer func() { sub.Close() }()
	ctx := context.Background()
	for {
		select {
		case <-stop:
			return
		case ev, ok := <-sub.Events():
			if !ok {
				if !sub.Dropped() {
					r.stopped(stop) // the broker closed: shutting down
					return
				}
				// Fell behind: listen again first, then look at every
				// socket, so that nothing ended in the gap stays open.
				next, err := r.srv.engine.SubscribeAll(ctx, watcherActor)
				if err != nil {
					r.srv.log.ErrorContext(ctx, "agent sessions: subscribe", "err", err)
					r.stopped(stop)
					return
				}
				sub = next
				r.check(ctx, r.conns(""))
				continue
			}
			if ev.Type == kustomer.EventAgentUpdated && ev.Agent != nil {
				r.check(ctx, r.conns(ev.Agent.ID))
			}
		}
	}
}

// stopped forgets a watcher that ended on its own, so that the next socket
// starts another.
func (r *agentSockets) stopped(stop chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stop == stop {
		r.stop = nil
	}
}

// conns returns the open sockets of agentID, or of every agent for "".
func (r *agentSockets) conns(agentID string) []*agentConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*agentConn
	for id, conns := range r.byAgent {
		if agentID != "" && id != agentID {
			continue
		}
		for c := range conns {
			out = append(out, c)
		}
	}
	return out
}

// check reads each socket's session back from the store: it ends the
// sockets of sessions that ended and gives the others the agent's current
// name. A store failure leaves sockets open; their next ping checks again.
func (r *agentSockets) check(ctx context.Context, conns []*agentConn) {
	type result struct {
		a   kustomer.Agent
		err error
	}
	seen := map[string]result{} // by session: a browser's tabs share one
	for _, c := range conns {
		res, ok := seen[c.sessionID]
		if !ok {
			res.a, res.err = r.srv.engine.AgentBySession(ctx, c.agentID, c.sessionID)
			seen[c.sessionID] = res
		}
		if res.err == nil {
			c.name.Store(&res.a.Name)
			continue
		}
		if _, ended := sessionEndedNotice(res.err); ended {
			c.end()
			continue
		}
		r.srv.log.WarnContext(ctx, "agent sessions: check", "agent_id", c.agentID, "err", res.err)
	}
}

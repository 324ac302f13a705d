-- Agents' sign-ins. The console's cookie names a row; signing out, a
-- password change, disabling the account and "sign out everywhere" delete
-- rows, so a copied cookie stops working at once.
CREATE TABLE agent_sessions (
    id         TEXT PRIMARY KEY,
    agent_id   TEXT NOT NULL REFERENCES agents (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX agent_sessions_agent_id ON agent_sessions (agent_id);
CREATE INDEX agent_sessions_expires_at ON agent_sessions (expires_at);

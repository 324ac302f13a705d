-- Agents and operators, and the agent-side state of conversations:
-- assignment, the skill queue, time to respond, satisfaction, private notes.
CREATE TABLE agents (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    skills        TEXT NOT NULL DEFAULT '[]',
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX agents_email ON agents (email);

ALTER TABLE conversations ADD COLUMN assignee_id TEXT;
ALTER TABLE conversations ADD COLUMN skill TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN awaiting_since BIGINT;
ALTER TABLE conversations ADD COLUMN first_response_at BIGINT;
ALTER TABLE conversations ADD COLUMN csat_rating INTEGER;
ALTER TABLE conversations ADD COLUMN csat_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN csat_at BIGINT;
CREATE INDEX conversations_assignee ON conversations (assignee_id, last_message_at DESC);

ALTER TABLE messages ADD COLUMN private BOOLEAN NOT NULL DEFAULT FALSE;
-- Open conversations no agent has answered yet are waiting since they began.
UPDATE conversations SET awaiting_since = created_at
WHERE ended_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id AND m.author_type = 'agent');

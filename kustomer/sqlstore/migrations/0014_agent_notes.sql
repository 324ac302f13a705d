-- Agents' notes on a conversation as a whole (setAgentNote), numbered in
-- the order they were written: the latest is the conversation's note, the
-- earlier ones its history. Customers never see them.
CREATE TABLE agent_notes (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    position        BIGINT NOT NULL,
    author_id       TEXT NOT NULL DEFAULT '',
    author_name     TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (conversation_id, position)
);

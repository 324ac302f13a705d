-- Portable DDL: the same file runs on SQLite and PostgreSQL. Times are Unix
-- milliseconds; JSON documents are TEXT.
CREATE TABLE customers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    emails      TEXT NOT NULL DEFAULT '[]',
    phones      TEXT NOT NULL DEFAULT '[]',
    custom      TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE conversations (
    id              TEXT PRIMARY KEY,
    customer_id     TEXT NOT NULL REFERENCES customers (id),
    form_id         TEXT NOT NULL DEFAULT '',
    assistant_id    TEXT NOT NULL DEFAULT '',
    client_ref      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    last_message_at BIGINT NOT NULL,
    preview         TEXT NOT NULL DEFAULT '',
    ended_at        BIGINT,
    ended_by        TEXT,
    assistant_mode  BOOLEAN NOT NULL DEFAULT FALSE,
    custom          TEXT NOT NULL DEFAULT '{}',
    context         TEXT NOT NULL DEFAULT '{}',
    last_seq        BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX conversations_client_ref ON conversations (client_ref) WHERE client_ref IS NOT NULL;
CREATE INDEX conversations_customer_activity ON conversations (customer_id, last_message_at DESC, id DESC);
CREATE INDEX conversations_activity ON conversations (last_message_at DESC, id DESC);

CREATE TABLE messages (
    id                TEXT PRIMARY KEY,
    conversation_id   TEXT NOT NULL REFERENCES conversations (id),
    seq               BIGINT NOT NULL,
    body              TEXT NOT NULL,
    payload           TEXT,
    direction         TEXT NOT NULL,
    author_type       TEXT NOT NULL,
    author_id         TEXT NOT NULL DEFAULT '',
    author_name       TEXT NOT NULL DEFAULT '',
    author_avatar     TEXT NOT NULL DEFAULT '',
    attachments       TEXT NOT NULL DEFAULT '[]',
    client_message_id TEXT,
    created_at        BIGINT NOT NULL,
    UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client_message_id ON messages (conversation_id, client_message_id) WHERE client_message_id IS NOT NULL;

CREATE TABLE reads (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    reader          TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, reader)
);

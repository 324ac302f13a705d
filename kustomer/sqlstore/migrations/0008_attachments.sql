-- Uploaded files. A row is written on upload, before any message carries
-- it (message_id NULL: unsent); sending claims it for one message. Files
-- live in the store so every instance serves every file; each is split
-- into chunks so neither writing nor serving holds more than a chunk of it
-- in the database driver at a time. BLOB is written BYTEA on PostgreSQL
-- (see dialect.blobType).
CREATE TABLE attachments (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    uploader_type   TEXT NOT NULL,
    uploader_id     TEXT NOT NULL,
    name            TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    message_id      TEXT REFERENCES messages (id)
);
CREATE INDEX attachments_unsent ON attachments (conversation_id) WHERE message_id IS NULL;
CREATE INDEX attachments_unsent_created ON attachments (created_at) WHERE message_id IS NULL;

CREATE TABLE attachment_chunks (
    attachment_id TEXT NOT NULL REFERENCES attachments (id),
    n             INTEGER NOT NULL,
    data          BLOB NOT NULL,
    PRIMARY KEY (attachment_id, n)
);

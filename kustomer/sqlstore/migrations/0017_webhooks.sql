-- Outbound webhooks: the endpoints admins register, and the log of every
-- attempt to deliver an event to one.
CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    events          TEXT NOT NULL,
    private         BOOLEAN NOT NULL DEFAULT FALSE,
    secret          TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason TEXT NOT NULL DEFAULT '',
    disabled_at     BIGINT,
    failures        INTEGER NOT NULL DEFAULT 0,
    failing_since   BIGINT,
    last_success_at BIGINT,
    created_by      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE TABLE webhook_attempts (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    delivery_id     TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    conversation_id TEXT NOT NULL DEFAULT '',
    attempt         INTEGER NOT NULL,
    status          INTEGER NOT NULL,
    error           TEXT NOT NULL DEFAULT '',
    duration_ms     BIGINT NOT NULL,
    at              BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_log ON webhook_attempts (webhook_id, at);
CREATE INDEX webhook_attempts_at ON webhook_attempts (at);
-- Rows that share an ordering are delivered one at a time in ord order (a
-- conversation's events; an endpoint's deliveries about one conversation).
ALTER TABLE outbox ADD COLUMN ordering TEXT;
ALTER TABLE outbox ADD COLUMN ord BIGINT;
CREATE INDEX outbox_ordering ON outbox (ordering, state, ord);
CREATE INDEX outbox_ord ON outbox (ord);

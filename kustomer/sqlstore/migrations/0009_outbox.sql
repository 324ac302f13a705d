-- The one outbox: everything sent to the outside world (emails first) is a
-- row written in the transaction of the change that causes it, then claimed,
-- delivered, retried or parked by the dispatcher of its kind. A claimed row
-- stays pending, leased, with due_at pushed to the end of its lease, so a
-- crashed dispatcher's rows are claimed again. claimed: the row has been
-- claimed once and no longer collects its batch; leased: a claim is current
-- (attempts names it) and may settle the row.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    key             TEXT NOT NULL UNIQUE,
    batch           TEXT,
    claimed         BOOLEAN NOT NULL DEFAULT FALSE,
    leased          BOOLEAN NOT NULL DEFAULT FALSE,
    conversation_id TEXT REFERENCES conversations (id),
    payload         TEXT,
    state           TEXT NOT NULL,
    due_at          BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (kind, state, due_at);
CREATE INDEX outbox_state_updated ON outbox (state, updated_at);
-- One waiting (unclaimed, pending) row per batch: causes in a burst share it.
CREATE UNIQUE INDEX outbox_waiting_batch ON outbox (batch) WHERE state = 'pending' AND claimed = FALSE AND batch IS NOT NULL;

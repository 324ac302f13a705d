-- Operators' lists of the origins allowed to frame each form (a JSON array
-- of origins; a row overrides handoff.yaml's allowedOrigins, even when the
-- array is empty), and which setting each audit entry changed.
CREATE TABLE form_origins (
    form_id    TEXT PRIMARY KEY,
    origins    TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

ALTER TABLE form_audit ADD COLUMN setting TEXT NOT NULL DEFAULT 'assistant';

-- Single-use keys, each refused again until it expires.
CREATE TABLE used_once (
    key        TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX used_once_expires_at ON used_once (expires_at);

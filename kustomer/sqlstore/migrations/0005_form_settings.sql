-- Operators' runtime choices for forms (the assistant greeting each form),
-- overriding handoff.yaml, and the audit log of those changes.
CREATE TABLE form_settings (
    form_id      TEXT PRIMARY KEY,
    assistant_id TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE form_audit (
    id             TEXT PRIMARY KEY,
    form_id        TEXT NOT NULL,
    agent_id       TEXT NOT NULL,
    agent_name     TEXT NOT NULL,
    from_assistant TEXT NOT NULL,
    to_assistant   TEXT NOT NULL,
    at             BIGINT NOT NULL
);
CREATE INDEX form_audit_at ON form_audit (at DESC, id DESC);

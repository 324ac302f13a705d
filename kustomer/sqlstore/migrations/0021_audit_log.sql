-- The audit log: every change an admin (or an API token) makes to how the
-- organization works (accounts, forms, webhooks, saved replies, labels),
-- recorded in the transaction of the change. changes is a JSON array of
-- {field, from, to}; secrets and passwords are recorded without values.
-- seq orders the entries of one millisecond as they were recorded.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    area        TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    target_name TEXT NOT NULL,
    action      TEXT NOT NULL,
    changes     TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at, seq, id);
CREATE INDEX audit_log_area ON audit_log (area, at, seq, id);
CREATE INDEX audit_log_seq ON audit_log (seq);
-- Forms' changes made before the log existed.
-- only: sqlite
INSERT INTO audit_log (id, at, seq, actor_id, actor_name, area, target_id, target_name, action, changes)
    SELECT id, at, 0, agent_id, agent_name, 'forms', form_id, form_id, setting,
        json_array(json_object('field', setting, 'from', from_assistant, 'to', to_assistant)) FROM form_audit;
-- only: postgres
INSERT INTO audit_log (id, at, seq, actor_id, actor_name, area, target_id, target_name, action, changes)
    SELECT id, at, 0, agent_id, agent_name, 'forms', form_id, form_id, setting,
        json_build_array(json_build_object('field', setting, 'from', from_assistant, 'to', to_assistant))::text FROM form_audit;

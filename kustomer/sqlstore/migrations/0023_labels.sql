-- Labels admins define and agents put on conversations. Names are unique
-- whatever their case. A conversation's labels are read with it (a
-- subquery on conversation_labels' key) and filtered by label through
-- conversation_labels_label.
CREATE TABLE labels (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    color       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX labels_name ON labels (lower(name));
CREATE TABLE conversation_labels (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    label_id        TEXT NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    added_at        BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, label_id)
);
CREATE INDEX conversation_labels_label ON conversation_labels (label_id, conversation_id);

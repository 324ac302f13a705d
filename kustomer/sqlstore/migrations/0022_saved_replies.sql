-- Saved replies: canned answers agents insert into the composer. owner_id
-- is the agent whose personal reply it is, '' for the team's. Titles are
-- unique, whatever their case, within the team's and within each agent's.
CREATE TABLE saved_replies (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX saved_replies_title ON saved_replies (owner_id, lower(title));

-- What handoff's records are called in another system (a Kustomer
-- organization it relays to): one remote id per local record and kind, one
-- local record per remote id. version is the remote's time (ms) of the last
-- update applied to the record, so that updates arriving out of order are
-- applied by their own times.
CREATE TABLE external_refs (
    system     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    local_id   TEXT NOT NULL,
    remote_id  TEXT NOT NULL,
    version    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (system, kind, local_id)
);
CREATE UNIQUE INDEX external_refs_remote ON external_refs (system, kind, remote_id);

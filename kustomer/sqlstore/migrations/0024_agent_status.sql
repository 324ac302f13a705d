-- Load-sharing assignment: an agent's status (online, away, offline) and
-- why handoff set it ('idle': away after inactivity; 'gone': offline after
-- no console was open for a while; '' when the agent chose it), when a
-- console of theirs was last seen, how many open conversations they take
-- at most, and when they were last given one (round robin).
ALTER TABLE agents ADD COLUMN status TEXT NOT NULL DEFAULT 'offline';
ALTER TABLE agents ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN status_at BIGINT;
ALTER TABLE agents ADD COLUMN seen_at BIGINT;
ALTER TABLE agents ADD COLUMN capacity INTEGER NOT NULL DEFAULT 5;
ALTER TABLE agents ADD COLUMN last_assigned_at BIGINT;

-- An agent a transfer suggested the conversation to: it waits in its queue
-- until that agent accepts it; '' when none is suggested.
ALTER TABLE conversations ADD COLUMN suggested_agent_id TEXT NOT NULL DEFAULT '';

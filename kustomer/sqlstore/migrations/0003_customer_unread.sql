-- The customer's unread count is kept on the conversation instead of being
-- counted from the thread on every read.
ALTER TABLE conversations ADD COLUMN customer_unread INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET customer_unread = (
    SELECT COUNT(*) FROM messages m
    WHERE m.conversation_id = conversations.id AND m.direction = 'out' AND m.private = FALSE AND m.author_type <> 'system'
      AND m.seq > COALESCE((SELECT r.seq FROM reads r WHERE r.conversation_id = conversations.id AND r.reader = 'customer'), 0)
);

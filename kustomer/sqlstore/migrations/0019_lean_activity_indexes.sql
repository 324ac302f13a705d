-- Every message moves its conversation's last_message_at, and each index
-- holding it is written twice per message (the old entry out, the new one
-- in): two WAL pages per index on SQLite. Only the inbox's list of every
-- conversation needs it in order; a customer's conversations and an
-- agent's are few enough to sort when read, so their indexes keep only
-- whose they are, which a message never changes.
DROP INDEX conversations_customer_activity;
CREATE INDEX conversations_customer ON conversations (customer_id);
DROP INDEX conversations_assignee;
CREATE INDEX conversations_assignee ON conversations (assignee_id);

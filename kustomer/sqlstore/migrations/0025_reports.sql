-- Reports read the conversations created in a range of days.
CREATE INDEX conversations_created ON conversations (created_at);

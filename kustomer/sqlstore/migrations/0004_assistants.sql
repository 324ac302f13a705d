-- Where each conversation stands in its assistant, and message metadata
-- (an assistant's question, a reply's lastDeflection).
ALTER TABLE conversations ADD COLUMN assistant_state TEXT;
ALTER TABLE messages ADD COLUMN meta TEXT;

-- Full-text search over conversations for agents and the organization:
-- every message's text (notes included), the customer's name and email
-- addresses, and the values of the conversation's custom attributes. Each
-- database uses its own index; the queries that read them are in
-- search.go. Words are split at anything but letters and digits and
-- lowercased, with no stemming: the text is in any language.
--
-- SQLite: FTS5 tables. Their rowids name the rows they index, so that a
-- search reads only the index: a customer's row has the customer's rowid,
-- a conversation's attributes the conversation's, and a message's row is
-- its conversation's rowid times 2^24 plus its seq (modulo 2^24). Nothing
-- deletes customers, conversations or messages, and VACUUM INTO (the
-- backup) keeps rowids. The message index keeps no copy of the text
-- (content = ''), which would double what a message writes, nor word
-- positions or sizes (detail = column, columnsize = 0), which no search
-- uses: its excerpts are read from messages and marked in Go. The two small ones keep theirs, for their
-- highlights and so that a changed row can be taken out. An FTS5 insert
-- writes a segment of its own, which would double the pages a message's
-- (or a hand-off's) transaction writes: new rows are indexed in batches
-- after they commit, each table up to the rowid in search_progress (see
-- indexPending), and a search first indexes whatever is left. Rows change
-- in place only for a customer's name and addresses and a conversation's
-- attributes, rarely: triggers replace the indexed text in the transaction
-- of the change.
-- only: sqlite
CREATE VIRTUAL TABLE message_search USING fts5(conversation_id, body, content = '', detail = column, columnsize = 0, tokenize = 'unicode61 remove_diacritics 2');
-- only: sqlite
CREATE VIRTUAL TABLE customer_search USING fts5(customer_id, body, tokenize = 'unicode61 remove_diacritics 2');
-- only: sqlite
CREATE VIRTUAL TABLE conversation_search USING fts5(conversation_id, body, tokenize = 'unicode61 remove_diacritics 2');
-- only: sqlite
CREATE TABLE search_progress (name TEXT PRIMARY KEY, last_rowid BIGINT NOT NULL);
-- only: sqlite
INSERT INTO search_progress (name, last_rowid) VALUES ('messages', 0), ('customers', 0), ('conversations', 0);
-- A change to a customer or to attributes that are indexed already
-- replaces their row; one not indexed yet is indexed as it is then.
-- only: sqlite
CREATE TRIGGER customer_search_update AFTER UPDATE OF name, emails ON customers
    WHEN (old.name IS NOT new.name OR old.emails IS NOT new.emails)
    AND new.rowid <= (SELECT last_rowid FROM search_progress WHERE name = 'customers') BEGIN
    DELETE FROM customer_search WHERE rowid = old.rowid;
    INSERT INTO customer_search (rowid, customer_id, body) VALUES (new.rowid, new.id, new.name || ' ' || replace(replace(replace(new.emails, '[', ''), ']', ''), '"', '')); END;
-- only: sqlite
CREATE TRIGGER conversation_search_update AFTER UPDATE OF custom ON conversations
    WHEN old.custom IS NOT new.custom
    AND new.rowid <= (SELECT last_rowid FROM search_progress WHERE name = 'conversations') BEGIN
    DELETE FROM conversation_search WHERE rowid = old.rowid;
    INSERT INTO conversation_search (rowid, conversation_id, body)
    SELECT new.rowid, new.id, (SELECT group_concat(j.value, ' · ') FROM json_each(new.custom) j WHERE j.type IN ('text', 'integer', 'real')); END;
--
-- PostgreSQL: a tsvector column the database computes from the row, with a
-- GIN index. The text is split as SQLite's tokenizer splits it (the
-- default parser would keep an email address or a URL whole).
-- only: postgres
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace(body, '[^[:alnum:]]+', ' ', 'g'))) STORED;
-- only: postgres
CREATE INDEX messages_search ON messages USING GIN (search);
-- only: postgres
ALTER TABLE customers ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace(name || ' ' || emails, '[^[:alnum:]]+', ' ', 'g'))) STORED;
-- only: postgres
CREATE INDEX customers_search ON customers USING GIN (search);
-- only: postgres
ALTER TABLE conversations ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace(jsonb_path_query_array(custom::jsonb, '$.* ? (@.type() == "string" || @.type() == "number")')::text, '[^[:alnum:]]+', ' ', 'g'))) STORED;
-- only: postgres
CREATE INDEX conversations_search ON conversations USING GIN (search);

-- PostgreSQL: search matches a word of a conversation's messages through
-- one row per conversation, not one per message. A common word is in most
-- messages; finding the conversations of each matching message read every
-- one of them from the heap (170 ms for 100,000 messages, BENCHMARKS.md,
-- "Search"). conversation_words holds each conversation's words, without
-- positions, up to the seq it has indexed; each message adds a row naming
-- its conversation to search_log as it is written (an insert: no row is
-- shared, so nothing waits), and the indexer (indexPending) takes the rows
-- it sees and adds the words of their conversations' new messages, in
-- batches, as on SQLite. The messages'
-- own GIN index goes: the excerpt of a page's conversation is its newest
-- matching message, found by reading its messages from the newest (a
-- common word is in most of them), and the GIN index made the planner read
-- every matching message of the table instead (300 ms for a common word).
-- conversation_words holds a conversation's words in a few rows: each
-- indexing pass adds a row with the words of the conversation's new
-- messages (last_seq: the newest it covers), so that no row grows with
-- every message (a GIN index takes every word of a row again each time the
-- row is written), and the indexer merges a conversation's rows into one
-- once it has more than a few (tsvector_agg).
-- only: postgres
CREATE TABLE conversation_words (
    id              BIGSERIAL PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    last_seq        BIGINT NOT NULL,
    words           tsvector NOT NULL
);
-- only: postgres
CREATE INDEX conversation_words_conversation ON conversation_words (conversation_id, last_seq);
-- only: postgres
CREATE INDEX conversation_words_search ON conversation_words USING GIN (words);
-- only: postgres
CREATE AGGREGATE tsvector_agg (tsvector) (SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = '');
-- only: postgres
CREATE TABLE search_log (id BIGSERIAL PRIMARY KEY, conversation_id TEXT NOT NULL);
-- Everything stored so far is indexed in the background.
-- only: postgres
INSERT INTO search_log (conversation_id) SELECT id FROM conversations ORDER BY created_at;
-- only: postgres
DROP INDEX messages_search;

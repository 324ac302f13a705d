-- PostgreSQL: search matches a word of a conversation's messages through
-- one row per conversation, not one per message. A common word is in most
-- messages; finding the conversations of each matching message read every
-- one of them from the heap (170 ms for 100,000 messages, BENCHMARKS.md,
-- "Search"). conversation_words holds each conversation's words, without
-- positions, up to the seq it has indexed; messages mark their
-- conversation in search_dirty as they are written, and the indexer
-- (indexPending) adds their words in batches, as on SQLite. The messages'
-- own GIN index is no longer read by searches and goes; their tsvector
-- stays, for the excerpts of a page's conversations.
-- only: postgres
CREATE TABLE conversation_words (
    conversation_id TEXT PRIMARY KEY,
    last_seq        BIGINT NOT NULL,
    words           tsvector NOT NULL
);
-- only: postgres
CREATE INDEX conversation_words_search ON conversation_words USING GIN (words);
-- only: postgres
CREATE TABLE search_dirty (conversation_id TEXT PRIMARY KEY);
-- Everything stored so far is indexed in the background.
-- only: postgres
INSERT INTO search_dirty (conversation_id) SELECT id FROM conversations;
-- only: postgres
DROP INDEX messages_search;

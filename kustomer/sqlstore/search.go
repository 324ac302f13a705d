package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/handoff/handoff/kustomer"
)

// Full-text search (see kustomer.SearchTerms and migration 0020). Each
// database reads its own index, so the conditions below are the one place
// where the two dialects' queries differ. Terms hold only letters and
// digits, which neither FTS5's query syntax nor tsquery's gives a meaning
// to, so quoting them is enough.

// searchConds are the conditions that keep, for each term, the
// conversations it matches: in a message, the customer, or an attribute.
func (s *Store) searchConds(terms []string) ([]string, []any) {
	conds := make([]string, 0, len(terms))
	args := make([]any, 0, 3*len(terms))
	for _, t := range terms {
		if s.d.name == "postgres" {
			conds = append(conds, `(c.id IN (SELECT w.conversation_id FROM conversation_words w WHERE w.words @@ to_tsquery('simple', ?))
				OR c.customer_id IN (SELECT u.id FROM customers u WHERE u.search @@ to_tsquery('simple', ?))
				OR c.search @@ to_tsquery('simple', ?))`)
			q := t + ":*"
			args = append(args, q, q, q)
			continue
		}
		// Rowids only (see migration 0020): the index, not its copies.
		conds = append(conds, `(c.rowid IN (SELECT rowid >> 24 FROM message_search WHERE message_search MATCH ?)
			OR c.customer_id IN (SELECT u.id FROM customers u WHERE u.rowid IN (SELECT rowid FROM customer_search WHERE customer_search MATCH ?))
			OR c.rowid IN (SELECT rowid FROM conversation_search WHERE conversation_search MATCH ?))`)
		q := `body : "` + t + `"*`
		args = append(args, q, q, q)
	}
	return conds, args
}

// ftsAny is an FTS5 query for rows whose body has a word beginning with one
// of terms and whose key column (col) is one of keys.
func ftsAny(terms []string, col string, keys []string) string {
	var b strings.Builder
	b.WriteString(`body : (`)
	for i, t := range terms {
		if i > 0 {
			b.WriteString(` OR `)
		}
		b.WriteString(`"` + t + `"*`)
	}
	b.WriteString(`) AND ` + col + ` : (`)
	for i, k := range keys {
		if i > 0 {
			b.WriteString(` OR `)
		}
		b.WriteString(`"` + k + `"`)
	}
	b.WriteString(`)`)
	return b.String()
}

// tsAny is a tsquery for a word beginning with one of terms.
func tsAny(terms []string) string {
	q := make([]string, len(terms))
	for i, t := range terms {
		q[i] = t + ":*"
	}
	return strings.Join(q, " | ")
}

// headlineOptions make ts_headline mark words as FTS5's snippet does.
const headlineOptions = `StartSel=` + kustomer.MatchStart + `, StopSel=` + kustomer.MatchEnd + `, MaxWords=20, MinWords=8, MaxFragments=1, FragmentDelimiter=" … "`

// customerText is the customer's name and email addresses as the search
// shows them (the addresses are stored as a JSON array).
const customerText = `u.name || ' ' || replace(replace(replace(u.emails, '[', ''), ']', ''), '"', '')`

// SearchMatches implements kustomer.Store.
func (s *Store) SearchMatches(ctx context.Context, terms []string, conversationIDs []string) (map[string]kustomer.SearchMatch, error) {
	out := make(map[string]kustomer.SearchMatch, len(conversationIDs))
	// IDs go into FTS5 queries as words: only well-formed ones.
	ids := make([]string, 0, len(conversationIDs))
	for _, id := range conversationIDs {
		if kustomer.ValidID(id) {
			ids = append(ids, id)
		}
	}
	if len(terms) == 0 || len(ids) == 0 {
		return out, nil
	}
	if err := s.indexPending(ctx); err != nil {
		return nil, err
	}
	in := `(?` + strings.Repeat(`, ?`, len(ids)-1) + `)`
	idArgs := make([]any, len(ids))
	for i, id := range ids {
		idArgs[i] = id
	}
	// customerOf maps each conversation to its customer.
	customerOf := make(map[string]string, len(ids))
	if err := s.collect(ctx, `SELECT id, customer_id FROM conversations WHERE id IN `+in, idArgs, customerOf); err != nil {
		return nil, err
	}
	var msgs, custs, attrs = map[string]string{}, map[string]string{}, map[string]string{}
	var err error
	if s.d.name == "postgres" {
		q := tsAny(terms)
		// The newest matching message of each conversation, read from its
		// newest message on, and only it cut into a headline.
		err = s.collect(ctx, `SELECT c.id, ts_headline('simple', n.body, to_tsquery('simple', ?), ?)
			FROM conversations c CROSS JOIN LATERAL (
				SELECT m.body FROM messages m WHERE m.conversation_id = c.id AND m.search @@ to_tsquery('simple', ?)
				ORDER BY m.seq DESC LIMIT 1) n
			WHERE c.id IN `+in,
			append([]any{q, headlineOptions, q}, idArgs...), msgs)
		// The customers and attributes only of the conversations no
		// message matched: a message's match is the one shown.
		var unmatched []any
		for _, id := range ids {
			if _, ok := msgs[id]; !ok {
				unmatched = append(unmatched, id)
			}
		}
		if err == nil && len(unmatched) > 0 {
			un := `(?` + strings.Repeat(`, ?`, len(unmatched)-1) + `)`
			with := append(append([]any{q, headlineOptions}, unmatched...), q)
			err = errors.Join(
				s.collect(ctx, `SELECT u.id, ts_headline('simple', `+customerText+`, to_tsquery('simple', ?), ?)
					FROM customers u WHERE u.id IN (SELECT c.customer_id FROM conversations c WHERE c.id IN `+un+`) AND u.search @@ to_tsquery('simple', ?)`,
					with, custs),
				s.collect(ctx, `SELECT c.id, ts_headline('simple', array_to_string(ARRAY(SELECT jsonb_array_elements_text(
						jsonb_path_query_array(c.custom::jsonb, '$.* ? (@.type() == "string" || @.type() == "number")'))), ' · '), to_tsquery('simple', ?), ?)
					FROM conversations c WHERE c.id IN `+un+` AND c.search @@ to_tsquery('simple', ?)`,
					with, attrs))
		}
	} else {
		// The newest matching message of each conversation: among its
		// recent messages, read from the newest (a common word is in most
		// of them); else, from the index, the one with the greatest rowid
		// (see migration 0020), read and marked here: FTS5's snippet()
		// would cut every matching message of the page's conversations.
		var rest []string
		if rest, err = s.recentMatches(ctx, terms, ids, msgs); err != nil {
			return nil, err
		}
		var newest []int64
		if len(rest) > 0 {
			if newest, err = s.newestMatches(ctx, ftsAny(terms, "conversation_id", rest)); err != nil {
				return nil, err
			}
		}
		for _, rowid := range newest {
			// The index keeps no text: the message is read by its place.
			var conv, body string
			if err := s.read().QueryRowContext(ctx, `SELECT m.conversation_id, m.body FROM messages m
				WHERE m.conversation_id = (SELECT c.id FROM conversations c WHERE c.rowid = ?) AND m.seq = ?`,
				rowid>>24, rowid&(1<<24-1)).Scan(&conv, &body); err != nil {
				return nil, fmt.Errorf("sqlstore: search matches: %w", err)
			}
			msgs[conv] = excerpt(body, terms)
		}
		// A message's match is the one shown: the customers and attributes
		// are read only for the conversations no message matched.
		var unmatched, custIDs []string
		for _, id := range ids {
			if _, ok := msgs[id]; ok {
				continue
			}
			unmatched = append(unmatched, id)
			if cust := customerOf[id]; kustomer.ValidID(cust) && !slices.Contains(custIDs, cust) {
				custIDs = append(custIDs, cust)
			}
		}
		if len(unmatched) > 0 {
			err = s.collect(ctx, `SELECT conversation_id, highlight(conversation_search, 1, ?, ?) FROM conversation_search WHERE conversation_search MATCH ?`,
				[]any{kustomer.MatchStart, kustomer.MatchEnd, ftsAny(terms, "conversation_id", unmatched)}, attrs)
		}
		if err == nil && len(custIDs) > 0 {
			err = s.collect(ctx, `SELECT customer_id, highlight(customer_search, 1, ?, ?) FROM customer_search WHERE customer_search MATCH ?`,
				[]any{kustomer.MatchStart, kustomer.MatchEnd, ftsAny(terms, "customer_id", custIDs)}, custs)
		}
	}
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if t, ok := msgs[id]; ok {
			out[id] = kustomer.SearchMatch{Field: kustomer.MatchMessage, Text: t}
		} else if t, ok := custs[customerOf[id]]; ok {
			out[id] = kustomer.SearchMatch{Field: kustomer.MatchCustomer, Text: t}
		} else if t, ok := attrs[id]; ok {
			out[id] = kustomer.SearchMatch{Field: kustomer.MatchAttributes, Text: t}
		}
	}
	return out, nil
}

// recentScan is how many of a conversation's newest messages recentMatches
// reads for one that matches.
const recentScan = 32

// recentMatches finds, for each conversation of ids, the newest of its
// recentScan newest messages in which a word begins with one of terms, and
// puts its excerpt in msgs; it returns the conversations with none.
func (s *Store) recentMatches(ctx context.Context, terms, ids []string, msgs map[string]string) ([]string, error) {
	var rest []string
	for _, id := range ids {
		rows, err := s.read().QueryContext(ctx, `SELECT body FROM messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?`, id, recentScan)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: search matches: %w", err)
		}
		found := false
		for !found && rows.Next() {
			var body string
			if err := rows.Scan(&body); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlstore: search matches: %w", err)
			}
			if hasTerm(body, terms) {
				msgs[id], found = excerpt(body, terms), true
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("sqlstore: search matches: %w", err)
		}
		if !found {
			rest = append(rest, id)
		}
	}
	return rest, nil
}

// newestMatches returns, for the FTS5 query match on message_search, the
// greatest rowid of each conversation's matching messages.
func (s *Store) newestMatches(ctx context.Context, match string) ([]int64, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT rowid FROM message_search WHERE message_search MATCH ? ORDER BY rowid DESC`, match)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: search matches: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlstore: search matches: %w", err)
		}
		if len(out) == 0 || out[len(out)-1]>>24 != id>>24 {
			out = append(out, id) // the first, so the greatest, of its conversation
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: search matches: %w", err)
	}
	return out, nil
}

// collect runs a query of two text columns into into, the first row of
// each key kept.
func (s *Store) collect(ctx context.Context, query string, args []any, into map[string]string) error {
	rows, err := s.read().QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlstore: search matches: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var text sql.NullString
		if err := rows.Scan(&key, &text); err != nil {
			return fmt.Errorf("sqlstore: search matches: %w", err)
		}
		if _, taken := into[key]; !taken {
			into[key] = text.String
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: search matches: %w", err)
	}
	return nil
}

// The SQLite indexes (see migration 0020) take new rows in batches after
// they commit: searchIndexer in the background, and a search before it
// reads, so a search always finds every row committed before it began.

// indexBatch bounds the rows one indexing transaction takes. The writer is
// held while it runs and writes queued meanwhile wait for it; between two
// such transactions they go first. At 2,000 a batch (a second of messages
// at 1,000 rooms) held them for tens of milliseconds: the delivery p99
// went from 7–12 to 50 ms (BENCHMARKS.md, "Search").
const indexBatch = 128

// indexInterval is how often searchIndexer indexes new rows.
const indexInterval = 250 * time.Millisecond

// searchSources are the tables indexed in batches: each with the insert
// that indexes its rows with rowids in (?, ?].
var searchSources = []struct{ name, insert string }{
	// A conversation of more than 2^24 messages would reuse rowids:
	// the later message replaces the earlier in the index.
	{"messages", `INSERT OR REPLACE INTO message_search (rowid, conversation_id, body)
		SELECT (c.rowid << 24) | (m.seq & 16777215), m.conversation_id, m.body
		FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.rowid > ? AND m.rowid <= ? ORDER BY m.rowid`},
	{"customers", `INSERT INTO customer_search (rowid, customer_id, body)
		SELECT u.rowid, u.id, ` + customerText + ` FROM customers u WHERE u.rowid > ? AND u.rowid <= ? ORDER BY u.rowid`},
	{"conversations", `INSERT INTO conversation_search (rowid, conversation_id, body)
		SELECT c.rowid, c.id, (SELECT group_concat(j.value, ' · ') FROM json_each(c.custom) j WHERE j.type IN ('text', 'integer', 'real'))
		FROM conversations c WHERE c.rowid > ? AND c.rowid <= ? ORDER BY c.rowid`},
}

// searchIndexer indexes the rows committed since its last pass, every
// indexInterval while anything is written.
func (s *Store) searchIndexer() {
	defer close(s.indexerDone)
	t := time.NewTicker(indexInterval)
	defer t.Stop()
	commits := int64(-1)
	for {
		select {
		case <-t.C:
			n := s.commits.Load()
			if n == commits {
				continue
			}
			commits = n
			if err := s.indexPending(context.Background()); err != nil && !errors.Is(err, errClosed) && s.log != nil {
				s.log.Error("sqlstore: index for search", "err", err)
			}
		case <-s.closed:
			return
		}
	}
}

// indexPending adds to the search indexes every row not in them yet (on
// PostgreSQL, see indexPendingPG; there customers and attributes are
// indexed as they are written), in transactions of at most indexBatch rows, each of which also
// moves search_progress: a crash loses nothing and indexes nothing twice.
// It writes nothing when the indexes are up to date, which one read tells.
func (s *Store) indexPending(ctx context.Context) error {
	if s.d.name == "postgres" {
		return s.indexPendingPG(ctx)
	}
	var behind bool
	err := s.read().QueryRowContext(ctx, `SELECT
		COALESCE((SELECT MAX(rowid) FROM messages), 0) > (SELECT last_rowid FROM search_progress WHERE name = 'messages')
		OR COALESCE((SELECT MAX(rowid) FROM customers), 0) > (SELECT last_rowid FROM search_progress WHERE name = 'customers')
		OR COALESCE((SELECT MAX(rowid) FROM conversations), 0) > (SELECT last_rowid FROM search_progress WHERE name = 'conversations')`).Scan(&behind)
	if err != nil || !behind {
		return err
	}
	for {
		var n int64
		err := s.tx(ctx, "index_for_search", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
			n = 0
			for _, src := range searchSources {
				var last int64
				if err := s.on(tx).QueryRowContext(ctx, `SELECT last_rowid FROM search_progress WHERE name = ?`, src.name).Scan(&last); err != nil {
					return err
				}
				var upTo sql.NullInt64
				if err := s.on(tx).QueryRowContext(ctx, `SELECT MAX(rowid) FROM (SELECT rowid FROM `+src.name+` WHERE rowid > ? ORDER BY rowid LIMIT ?)`,
					last, indexBatch).Scan(&upTo); err != nil {
					return err
				}
				if !upTo.Valid {
					continue
				}
				res, err := s.on(tx).ExecContext(ctx, src.insert, last, upTo.Int64)
				if err != nil {
					return err
				}
				added, err := res.RowsAffected()
				if err != nil {
					return err
				}
				n = max(n, added)
				if _, err := s.on(tx).ExecContext(ctx, `UPDATE search_progress SET last_rowid = ? WHERE name = ?`, upTo.Int64, src.name); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("sqlstore: index for search: %w", err)
		}
		if n < indexBatch {
			return nil
		}
	}
}

// indexPendingPG adds to conversation_words a row with the words of the
// messages written since the conversation's last indexed seq, for the
// conversations named in the search_log rows it sees, searchLogBatch rows
// per transaction, and deletes those rows. A message's row and the message
// commit together: a row the indexer sees, it sees the message of, and a
// row it does not see it leaves for next time. Several instances may run
// it at once: each takes rows the others have not locked.
func (s *Store) indexPendingPG(ctx context.Context) error {
	var behind bool
	if err := s.read().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM search_log)`).Scan(&behind); err != nil || !behind {
		return err
	}
	for {
		// Its own transaction on the read pool, not the committer's: it
		// shares no row with messages' writes, which must not queue
		// behind its tsvectors.
		var taken int
		err := func() error {
			tx, err := s.r.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if err := tx.QueryRowContext(ctx, s.d.bind(`WITH taken AS (
					DELETE FROM search_log WHERE id IN (
						SELECT id FROM search_log ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)
					RETURNING conversation_id),
				convs AS (SELECT DISTINCT conversation_id FROM taken),
				fresh AS (
					SELECT m.conversation_id, MAX(m.seq) AS last_seq,
						strip(to_tsvector('simple', regexp_replace(string_agg(m.body, ' '), '[^[:alnum:]]+', ' ', 'g'))) AS words
					FROM convs t JOIN messages m ON m.conversation_id = t.conversation_id
					WHERE m.seq > COALESCE((SELECT MAX(w.last_seq) FROM conversation_words w WHERE w.conversation_id = t.conversation_id), 0)
					GROUP BY m.conversation_id),
				-- A conversation with wordsRows rows already has them merged
				-- with its new words into one.
				crowded AS (
					SELECT w.conversation_id FROM conversation_words w JOIN fresh f ON f.conversation_id = w.conversation_id
					GROUP BY w.conversation_id HAVING COUNT(*) >= ?),
				gone AS (
					DELETE FROM conversation_words w USING crowded c WHERE w.conversation_id = c.conversation_id
					RETURNING w.conversation_id, w.words),
				merged AS (
					SELECT f.conversation_id, f.last_seq,
						strip(f.words || COALESCE((SELECT tsvector_agg(g.words) FROM gone g WHERE g.conversation_id = f.conversation_id), ''::tsvector)) AS words
					FROM fresh f),
				saved AS (
					INSERT INTO conversation_words (conversation_id, last_seq, words) SELECT conversation_id, last_seq, words FROM merged)
				-- gone and saved run to completion whether or not they are read.
				SELECT COUNT(*) FROM taken`), searchLogBatch, wordsRows).Scan(&taken); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err != nil {
			return fmt.Errorf("sqlstore: index for search: %w", err)
		}
		if taken < searchLogBatch {
			// Done, or the rest is being indexed by another instance.
			return nil
		}
	}
}

// searchLogBatch bounds the search_log rows one indexing transaction takes
// on PostgreSQL.
const searchLogBatch = 512

// wordsRows is how many rows of conversation_words a conversation may have
// before the indexer merges them (see migration 0026).
const wordsRows = 8

// excerptWords is about how many words an excerpt of a message keeps.
const excerptWords = 20

// excerpt marks in text the words that begin with one of terms, compared
// as SQLite's tokenizer compares them (letters and digits, lowercase,
// accents removed), and keeps about excerptWords words from a little before
// the first, with " … " where it cuts.
func excerpt(text string, terms []string) string {
	words, first := scanWords(text, terms)
	if first < 0 {
		first = 0
	}
	from := max(0, first-excerptWords/4)
	to := min(len(words), from+excerptWords)
	var b strings.Builder
	if from > 0 {
		b.WriteString("… ")
	}
	at := 0
	if from > 0 {
		at = words[from].start
	}
	for _, w := range words[from:to] {
		b.WriteString(text[at:w.start])
		if w.hit {
			b.WriteString(kustomer.MatchStart + text[w.start:w.end] + kustomer.MatchEnd)
		} else {
			b.WriteString(text[w.start:w.end])
		}
		at = w.end
	}
	if to < len(words) {
		b.WriteString(" …")
	} else {
		b.WriteString(text[at:])
	}
	return b.String()
}

// wordSpan is one word of a text, at [start, end), and whether it begins
// with a term.
type wordSpan struct {
	start, end int
	hit        bool
}

// scanWords splits text into words as SQLite's tokenizer does (letters and
// digits) and marks those that begin with one of terms, compared as it
// compares them (lowercase, accents removed); first is the first marked
// (-1 for none).
func scanWords(text string, terms []string) (words []wordSpan, first int) {
	first = -1
	folded := make([]string, len(terms))
	for i, t := range terms {
		folded[i] = fold(t)
	}
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			i += n
			continue
		}
		j := i + n
		for j < len(text) {
			r, n := utf8.DecodeRuneInString(text[j:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
				break
			}
			j += n
		}
		w := fold(text[i:j])
		hit := slices.ContainsFunc(folded, func(t string) bool { return strings.HasPrefix(w, t) })
		if hit && first < 0 {
			first = len(words)
		}
		words = append(words, wordSpan{i, j, hit})
		i = j
	}
	return words, first
}

// hasTerm reports whether a word of text begins with one of terms.
func hasTerm(text string, terms []string) bool {
	_, first := scanWords(text, terms)
	return first >= 0
}

// fold is s lowercase without its accents, as SQLite's unicode61 tokenizer
// with remove_diacritics 2 compares words.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

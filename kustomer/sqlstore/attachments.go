package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/handoff/handoff/kustomer"
)

const attachmentCols = `a.id, a.conversation_id, a.uploader_type, a.uploader_id, a.name, a.content_type, a.size,
	a.created_at, a.message_id, m.private`

func scanAttachment(row scanner) (kustomer.StoredAttachment, error) {
	var (
		a       kustomer.StoredAttachment
		created int64
		msgID   sql.NullString
		private sql.NullBool
	)
	err := row.Scan(&a.ID, &a.ConversationID, &a.Uploader.Type, &a.Uploader.ID, &a.Name, &a.ContentType, &a.Size,
		&created, &msgID, &private)
	a.CreatedAt = fromMS(created)
	a.MessageID = msgID.String
	a.Private = private.Bool
	return a, err
}

// CreateAttachment implements kustomer.Store.
func (s *Store) CreateAttachment(ctx context.Context, a kustomer.StoredAttachment, content [][]byte, maxUnsent int64) error {
	var size int64
	for _, c := range content {
		size += int64(len(c))
	}
	err := s.tx(ctx, "create_attachment", lockKey{'c', a.ConversationID}, func(ctx context.Context, tx *sql.Tx) error {
		// The conversation's lock orders uploads to it, so that two cannot
		// both fit under the cap that only one fits under.
		if err := s.lockConversation(ctx, tx, a.ConversationID); err != nil {
			return err
		}
		var unsent int64
		if err := s.on(tx).QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM attachments
			WHERE conversation_id = ? AND message_id IS NULL`, a.ConversationID).Scan(&unsent); err != nil {
			return err
		}
		if unsent+size > maxUnsent {
			return &kustomer.ConflictError{Code: "attachment_quota", Reason: "too many files are waiting to be sent in this conversation; send or wait for them to expire"}
		}
		if _, err := s.on(tx).ExecContext(ctx, `INSERT INTO attachments (id, conversation_id, uploader_type, uploader_id,
			name, content_type, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.ConversationID, string(a.Uploader.Type), a.Uploader.ID, a.Name, a.ContentType, size, ms(a.CreatedAt)); err != nil {
			return err
		}
		if len(content) == 0 {
			content = [][]byte{{}} // an empty file is one empty chunk
		}
		for n, chunk := range content {
			if len(chunk) > kustomer.AttachmentChunkSize {
				return fmt.Errorf("piece %d of %d bytes is larger than a chunk", n, len(chunk))
			}
			if _, err := s.on(tx).ExecContext(ctx, `INSERT INTO attachment_chunks (attachment_id, n, data) VALUES (?, ?, ?)`,
				a.ID, n, chunk); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: create attachment in %s: %w", a.ConversationID, err)
	}
	return nil
}

// Attachment implements kustomer.Store.
func (s *Store) Attachment(ctx context.Context, id string) (kustomer.StoredAttachment, error) {
	a, err := scanAttachment(s.read().QueryRowContext(ctx, `SELECT `+attachmentCols+` FROM attachments a
		LEFT JOIN messages m ON m.id = a.message_id WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = kustomer.ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("sqlstore: attachment %s: %w", id, err)
	}
	return a, nil
}

// CopyAttachment implements kustomer.Store. Each chunk is read with its own
// query, so a slow reader of w never holds a connection.
func (s *Store) CopyAttachment(ctx context.Context, id string, w io.Writer) (int64, error) {
	var total int64
	for n := 0; ; n++ {
		var data []byte
		err := s.read().QueryRowContext(ctx, `SELECT data FROM attachment_chunks WHERE attachment_id = ? AND n = ?`, id, n).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			if n == 0 {
				return 0, fmt.Errorf("sqlstore: copy attachment %s: %w", id, kustomer.ErrNotFound)
			}
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("sqlstore: copy attachment %s: %w", id, err)
		}
		k, err := w.Write(data)
		total += int64(k)
		if err != nil {
			return total, fmt.Errorf("sqlstore: copy attachment %s: %w", id, err)
		}
	}
}

// DeleteUnsentAttachments implements kustomer.Store.
func (s *Store) DeleteUnsentAttachments(ctx context.Context, before time.Time, limit int) (int, error) {
	var deleted int
	err := s.tx(ctx, "delete_unsent_attachments", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
		deleted = 0
		rows, err := s.on(tx).QueryContext(ctx, `SELECT id FROM attachments WHERE message_id IS NULL AND created_at < ?
			ORDER BY created_at LIMIT ?`+s.d.forUpdate, ms(before), limit)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := s.on(tx).ExecContext(ctx, `DELETE FROM attachment_chunks WHERE attachment_id = ?`, id); err != nil {
				return err
			}
			res, err := s.on(tx).ExecContext(ctx, `DELETE FROM attachments WHERE id = ? AND message_id IS NULL`, id)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 1 {
				deleted++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete unsent attachments: %w", err)
	}
	return deleted, nil
}

// claimSteps plan marking the message's files as sent with it; each
// fails the write when its file was sent already or has expired.
func (s *Store) claimSteps(m kustomer.Message) []step {
	steps := make([]step, 0, len(m.Attachments))
	for _, a := range m.Attachments {
		steps = append(steps, step{
			query: `UPDATE attachments SET message_id = ? WHERE id = ? AND conversation_id = ? AND message_id IS NULL`,
			args:  []any{m.ID, a.ID, m.ConversationID},
			veto:  true,
			affected: func(n int64) error {
				if n != 1 {
					return &kustomer.ConflictError{Code: "attachment_unavailable", Reason: fmt.Sprintf("the file %s was already sent or has expired", a.Name)}
				}
				return nil
			},
		})
	}
	return steps
}

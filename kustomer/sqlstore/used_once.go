package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/handoff/handoff/kustomer"
)

// expiredPerUse bounds how many expired keys one UseOnce deletes, so that
// no call pays for a backlog.
const expiredPerUse = 100

// UseOnce implements kustomer.Store.
func (s *Store) UseOnce(ctx context.Context, key string, expires, now time.Time) error {
	used := false
	err := s.tx(ctx, "use_once", lockKey{}, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.on(tx).ExecContext(ctx, `DELETE FROM used_once WHERE key IN
			(SELECT key FROM used_once WHERE expires_at <= ? LIMIT ?)`, ms(now), expiredPerUse); err != nil {
			return err
		}
		// An expired key (not yet deleted) is taken over; a live one is
		// left alone, which changes no row.
		res, err := s.on(tx).ExecContext(ctx, `INSERT INTO used_once (key, expires_at) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE used_once.expires_at <= ?`,
			key, ms(expires), ms(now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		used = n == 0
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: use once: %w", err)
	}
	if used {
		return fmt.Errorf("sqlstore: use once: %w", kustomer.ErrAlreadyUsed)
	}
	return nil
}

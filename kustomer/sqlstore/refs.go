package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/handoff/handoff/kustomer"
)

const refCols = `system, kind, local_id, remote_id, version, created_at`

func scanRef(row scanner) (kustomer.ExternalRef, error) {
	var (
		r       kustomer.ExternalRef
		created int64
	)
	err := row.Scan(&r.System, &r.Kind, &r.LocalID, &r.RemoteID, &r.Version, &created)
	r.CreatedAt = fromMS(created)
	return r, err
}

// SetExternalRef implements kustomer.ExternalRefs.
func (s *Store) SetExternalRef(ctx context.Context, r kustomer.ExternalRef) (kustomer.ExternalRef, error) {
	var out kustomer.ExternalRef
	err := s.tx(ctx, "set_external_ref", lockKey{'x', r.System + ":" + r.Kind + ":" + r.LocalID}, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.on(tx).ExecContext(ctx, `INSERT INTO external_refs (`+refCols+`) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (system, kind, local_id) DO NOTHING`, r.System, r.Kind, r.LocalID, r.RemoteID, r.Version, ms(r.CreatedAt)); err != nil {
			if s.d.uniqueViolation(err) {
				return &kustomer.ConflictError{Code: "remote_id_mapped", Reason: fmt.Sprintf("%s %s %s is mapped to another record", r.System, r.Kind, r.RemoteID)}
			}
			return err
		}
		var err error
		out, err = scanRef(s.on(tx).QueryRowContext(ctx, `SELECT `+refCols+` FROM external_refs WHERE system = ? AND kind = ? AND local_id = ?`,
			r.System, r.Kind, r.LocalID))
		return err
	})
	if err != nil {
		return out, fmt.Errorf("sqlstore: set external ref: %w", err)
	}
	return out, nil
}

// ExternalRef implements kustomer.ExternalRefs.
func (s *Store) ExternalRef(ctx context.Context, system, kind, localID string) (kustomer.ExternalRef, error) {
	return s.ref(ctx, `local_id`, system, kind, localID)
}

// RemoteRef implements kustomer.ExternalRefs.
func (s *Store) RemoteRef(ctx context.Context, system, kind, remoteID string) (kustomer.ExternalRef, error) {
	return s.ref(ctx, `remote_id`, system, kind, remoteID)
}

func (s *Store) ref(ctx context.Context, col, system, kind, id string) (kustomer.ExternalRef, error) {
	r, err := scanRef(s.read().QueryRowContext(ctx, `SELECT `+refCols+` FROM external_refs WHERE system = ? AND kind = ? AND `+col+` = ?`, system, kind, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("%s %s %s: %w", system, kind, id, kustomer.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("sqlstore: %w", err)
	}
	return r, nil
}

// AdvanceExternalRef implements kustomer.ExternalRefs.
func (s *Store) AdvanceExternalRef(ctx context.Context, system, kind, localID string, version int64) (bool, error) {
	var n int64
	err := s.tx(ctx, "advance_external_ref", lockKey{'x', system + ":" + kind + ":" + localID}, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.on(tx).ExecContext(ctx, `UPDATE external_refs SET version = ? WHERE system = ? AND kind = ? AND local_id = ? AND version < ?`,
			version, system, kind, localID, version)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		// Not advanced: stale, or no such mapping.
		var one int
		err = s.on(tx).QueryRowContext(ctx, `SELECT 1 FROM external_refs WHERE system = ? AND kind = ? AND local_id = ?`, system, kind, localID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s %s %s: %w", system, kind, localID, kustomer.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlstore: advance external ref: %w", err)
	}
	return n > 0, nil
}

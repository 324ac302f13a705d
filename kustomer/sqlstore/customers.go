package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/handoff/handoff/kustomer"
)

func (s *Store) customer(ctx context.Context, q runner, id string, lock bool) (kustomer.Customer, error) {
	var (
		c                               kustomer.Customer
		emails, phones, socials, custom string
		created, updated                int64
	)
	query := `SELECT id, name, emails, phones, socials, custom, created_at, updated_at FROM customers WHERE id = ?`
	if lock {
		query += s.d.forUpdate
	}
	err := q.QueryRowContext(ctx, (query), id).Scan(&c.ID, &c.Name, &emails, &phones, &socials, &custom, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("customer %s: %w", id, kustomer.ErrNotFound)
	}
	if err != nil {
		return c, err
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	for _, d := range []struct {
		raw string
		dst any
	}{{emails, &c.Emails}, {phones, &c.Phones}, {socials, &c.Socials}, {custom, &c.CustomAttributes}} {
		if err := json.Unmarshal([]byte(d.raw), d.dst); err != nil {
			return c, fmt.Errorf("decode customer %s: %w", id, err)
		}
	}
	if c.Emails == nil {
		c.Emails = []string{}
	}
	if c.Phones == nil {
		c.Phones = []string{}
	}
	if c.Socials == nil {
		c.Socials = []kustomer.Social{}
	}
	if c.CustomAttributes == nil {
		c.CustomAttributes = kustomer.Attributes{}
	}
	return c, nil
}

// Customer implements kustomer.Store.
func (s *Store) Customer(ctx context.Context, id string) (kustomer.Customer, error) {
	c, err := s.customer(ctx, s.read(), id, false)
	if err != nil {
		return c, fmt.Errorf("sqlstore: %w", err)
	}
	return c, nil
}

// upsertCustomer creates the customer, or adds the given name and emails to
// an existing one.
func (s *Store) upsertCustomer(ctx context.Context, tx *sql.Tx, in kustomer.Customer) error {
	cur, err := s.customer(ctx, s.on(tx), in.ID, true)
	switch {
	case errors.Is(err, kustomer.ErrNotFound):
		cur = kustomer.Customer{ID: in.ID, CreatedAt: in.CreatedAt, Emails: []string{}, Phones: []string{}, Socials: []kustomer.Social{}, CustomAttributes: kustomer.Attributes{}}
	case err != nil:
		return err
	}
	if in.Name != "" {
		cur.Name = in.Name
	}
	for _, e := range in.Emails {
		if !slices.Contains(cur.Emails, e) {
			cur.Emails = append(cur.Emails, e)
		}
	}
	cur.UpdatedAt = in.UpdatedAt
	return s.saveCustomer(ctx, tx, cur)
}

func (s *Store) saveCustomer(ctx context.Context, tx *sql.Tx, c kustomer.Customer) error {
	emails, _ := json.Marshal(c.Emails)
	phones, _ := json.Marshal(c.Phones)
	if c.Socials == nil {
		c.Socials = []kustomer.Social{}
	}
	socials, _ := json.Marshal(c.Socials)
	custom, err := json.Marshal(nonNil(c.CustomAttributes))
	if err != nil {
		return err
	}
	_, err = s.on(tx).ExecContext(ctx, (`INSERT INTO customers (id, name, emails, phones, socials, custom, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, emails = excluded.emails, phones = excluded.phones,
			socials = excluded.socials, custom = excluded.custom, updated_at = excluded.updated_at`),
		c.ID, c.Name, string(emails), string(phones), string(socials), string(custom), ms(c.CreatedAt), ms(c.UpdatedAt))
	return err
}

// UpdateCustomer implements kustomer.Store.
func (s *Store) UpdateCustomer(ctx context.Context, id string, in kustomer.DescribeCustomerInput, at time.Time) (kustomer.Customer, error) {
	var out kustomer.Customer
	err := s.tx(ctx, "update_customer", lockKey{'u', id}, func(ctx context.Context, tx *sql.Tx) error {
		c, err := s.customer(ctx, s.on(tx), id, true)
		if err != nil {
			return err
		}
		if in.Name != nil {
			c.Name = *in.Name
		}
		for _, e := range in.Emails {
			if !slices.Contains(c.Emails, e) {
				c.Emails = append(c.Emails, e)
			}
		}
		for _, p := range in.Phones {
			if !slices.Contains(c.Phones, p) {
				c.Phones = append(c.Phones, p)
			}
		}
		for _, so := range in.Socials {
			if !slices.Contains(c.Socials, so) {
				c.Socials = append(c.Socials, so)
			}
		}
		for k, v := range in.CustomAttributes {
			if v == nil {
				delete(c.CustomAttributes, k)
			} else {
				c.CustomAttributes[k] = v
			}
		}
		c.UpdatedAt = at
		if err := s.saveCustomer(ctx, tx, c); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("sqlstore: update customer %s: %w", id, err)
	}
	return out, nil
}

// StopFollowUps implements kustomer.Store.
func (s *Store) StopFollowUps(ctx context.Context, customerID string, at time.Time) error {
	err := s.tx(ctx, "stop_followups", lockKey{'u', customerID}, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.on(tx).ExecContext(ctx, `UPDATE customers SET followups_stopped_at = COALESCE(followups_stopped_at, ?) WHERE id = ?`, ms(at), customerID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("customer %s: %w", customerID, kustomer.ErrNotFound))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: stop follow-ups: %w", err)
	}
	return nil
}

// FollowUpsStopped implements kustomer.Store.
func (s *Store) FollowUpsStopped(ctx context.Context, customerID string) (bool, error) {
	var at sql.NullInt64
	err := s.read().QueryRowContext(ctx, `SELECT followups_stopped_at FROM customers WHERE id = ?`, customerID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("customer %s: %w", customerID, kustomer.ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("sqlstore: follow-ups stopped: %w", err)
	}
	return at.Valid, nil
}

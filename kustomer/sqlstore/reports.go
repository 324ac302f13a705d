package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/handoff/handoff/kustomer"
)

// ReportFacts implements kustomer.Store.
func (s *Store) ReportFacts(ctx context.Context, q kustomer.ReportQuery, limit int) ([]kustomer.ReportFact, error) {
	query := `SELECT id, created_at, form_id, skill, assignee_id, first_response_at, ended_at, csat_rating
		FROM conversations WHERE created_at >= ? AND created_at < ?`
	args := []any{ms(q.From), ms(q.To)}
	if q.FormID != "" {
		query, args = query+` AND form_id = ?`, append(args, q.FormID)
	}
	if q.Skill != "" {
		query, args = query+` AND skill = ?`, append(args, q.Skill)
	}
	if q.AgentID != "" {
		query, args = query+` AND assignee_id = ?`, append(args, q.AgentID)
	}
	rows, err := s.read().QueryContext(ctx, query+` ORDER BY created_at, id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: report: %w", err)
	}
	defer rows.Close()
	out := []kustomer.ReportFact{}
	var (
		created                int64
		assignee               sql.NullString
		firstAt, endedAt, csat sql.NullInt64
	)
	for rows.Next() {
		var f kustomer.ReportFact
		if err := rows.Scan(&f.ConversationID, &created, &f.FormID, &f.Skill, &assignee, &firstAt, &endedAt, &csat); err != nil {
			return nil, fmt.Errorf("sqlstore: report: %w", err)
		}
		f.CreatedAt, f.AssigneeID = fromMS(created), assignee.String
		f.FirstResponseAt, f.EndedAt, f.Rating = optTime(firstAt), optTime(endedAt), int(csat.Int64)
		out = append(out, f)
	}
	return out, rows.Err()
}

package rules

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dxtracker/dxtracker/tracker"
)

// Errors of the store; the API answers them as 404 and 409.
var (
	ErrNotFound      = errors.New("no such rule")
	ErrDuplicateName = errors.New("a rule with this name exists")
)

// mysqlDuplicateKey is ER_DUP_ENTRY.
const mysqlDuplicateKey = 1062

// Store reads and writes dxt_rule. It does no I/O until called.
type Store struct {
	db  *sql.DB
	now func() time.Time
}

// NewStore returns a store over db; now is the clock for created_at and
// updated_at (nil: time.Now).
func NewStore(db *sql.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now}
}

const ruleColumns = `id, name, kind, enabled, severity, notify, params, created_at, updated_at, updated_by`

// List returns every stored rule, by id. A rule whose stored params no
// longer validate (edited by hand) is returned with an error for it in
// broken, so one bad row never hides the others.
func (s *Store) List(ctx context.Context) (rules []Rule, broken map[uint64]error, err error) {
	return listRules(ctx, s.db)
}

func listRules(ctx context.Context, q tracker.Querier) ([]Rule, map[uint64]error, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+ruleColumns+` FROM dxt_rule ORDER BY id`)
	if err != nil {
		return nil, nil, fmt.Errorf("list rules: %w", err)
	}
	defer rows.Close()
	var out []Rule
	var broken map[uint64]error
	for rows.Next() {
		r, perr, err := scanRule(rows)
		if err != nil {
			return nil, nil, fmt.Errorf("list rules: %w", err)
		}
		if perr != nil {
			if broken == nil {
				broken = map[uint64]error{}
			}
			broken[r.ID] = perr
			continue
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("list rules: %w", err)
	}
	return out, broken, nil
}

type scanner interface{ Scan(dest ...any) error }

// scanRule reads one row; perr is set when its params do not validate.
func scanRule(sc scanner) (r Rule, perr error, err error) {
	var params string
	var by sql.NullString
	if err := sc.Scan(&r.ID, &r.Name, &r.Kind, &r.Enabled, &r.Severity, &r.Notify, &params, &r.CreatedAt, &r.UpdatedAt, &by); err != nil {
		return Rule{}, nil, err
	}
	r.UpdatedBy = by.String
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	p, perr := decodeParams(r.Kind, json.RawMessage(params))
	if perr != nil {
		return r, fmt.Errorf("rule %d (%s): %w", r.ID, r.Name, perr), nil
	}
	r.Params = p
	return r, nil, nil
}

// Get returns rule id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id uint64) (Rule, error) {
	r, perr, err := scanRule(s.db.QueryRowContext(ctx, `SELECT `+ruleColumns+` FROM dxt_rule WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Rule{}, fmt.Errorf("rule %d: %w", id, ErrNotFound)
	case err != nil:
		return Rule{}, fmt.Errorf("get rule %d: %w", id, err)
	case perr != nil:
		return Rule{}, perr
	}
	return r, nil
}

// Create validates spec and stores it as a new rule; by is who asked.
func (s *Store) Create(ctx context.Context, spec Spec, by string) (Rule, error) {
	r, err := spec.Validate()
	if err != nil {
		return Rule{}, err
	}
	params, err := json.Marshal(r.Params)
	if err != nil {
		return Rule{}, fmt.Errorf("encode params of rule %q: %w", r.Name, err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	res, err := s.db.ExecContext(ctx, `INSERT INTO dxt_rule (name, kind, enabled, severity, notify, params, created_at, updated_at, updated_by)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.Name, r.Kind, r.Enabled, r.Severity, r.Notify, string(params), now, now, nullable(by))
	if err != nil {
		return Rule{}, nameError(r.Name, fmt.Errorf("create rule %q: %w", r.Name, err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Rule{}, fmt.Errorf("create rule %q: read id: %w", r.Name, err)
	}
	r.ID, r.CreatedAt, r.UpdatedAt, r.UpdatedBy = uint64(id), now, now, by
	return r, nil
}

// Update replaces rule id with spec (fields left out of spec take their
// defaults, as on create); by is who asked.
func (s *Store) Update(ctx context.Context, id uint64, spec Spec, by string) (Rule, error) {
	r, err := spec.Validate()
	if err != nil {
		return Rule{}, err
	}
	params, err := json.Marshal(r.Params)
	if err != nil {
		return Rule{}, fmt.Errorf("encode params of rule %q: %w", r.Name, err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	_, err = s.db.ExecContext(ctx, `UPDATE dxt_rule SET name = ?, kind = ?, enabled = ?, severity = ?, notify = ?, params = ?, updated_at = ?, updated_by = ?
WHERE id = ?`, r.Name, r.Kind, r.Enabled, r.Severity, r.Notify, string(params), now, nullable(by), id)
	if err != nil {
		return Rule{}, nameError(r.Name, fmt.Errorf("update rule %d: %w", id, err))
	}
	// Not RowsAffected: it counts changed rows, 0 for a missing rule but
	// also for a rewrite identical to the row, so Get decides.
	return s.Get(ctx, id)
}

// Delete removes rule id, or returns ErrNotFound.
func (s *Store) Delete(ctx context.Context, id uint64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM dxt_rule WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete rule %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete rule %d: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("rule %d: %w", id, ErrNotFound)
	}
	return nil
}

// nameError turns a unique-key violation (the only unique key besides the
// id is the name) into ErrDuplicateName.
func nameError(name string, err error) error {
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == mysqlDuplicateKey {
		return fmt.Errorf("rule name %q: %w", name, ErrDuplicateName)
	}
	return err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

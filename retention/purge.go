package retention

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dxtracker/dxtracker/chain"
	"github.com/dxtracker/dxtracker/tracker"
)

// Batch sizes outside the dxt_config range are accepted from callers (tests,
// the CLI) down to one row; 0 means the default.
const (
	defaultBatch = 1000
	maxBatch     = 10000
)

// retries is how often a batch rolled back by a deadlock or a lock wait
// timeout is tried again before the purge fails.
const retries = 3

// PurgeNow runs one purge with the given settings: events older than
// retention_days (with their content, outbox rows and processed intake
// rows), then, if content_max_mb is set, the oldest content beyond the cap.
// Each writes its dxt_purge row. It returns ErrBusy if a purge of the same
// database is already running, here or in another daemon.
func (p *Purger) PurgeNow(ctx context.Context, s tracker.Settings) (Report, error) {
	var rep Report
	if s.RetentionDays < 1 {
		return rep, fmt.Errorf("retention: retention_days is %d; want at least 1", s.RetentionDays)
	}
	if !p.running.TryLock() {
		return rep, ErrBusy
	}
	defer p.running.Unlock()
	p.setRunning(true)
	defer p.setRunning(false)

	// One connection for the whole purge: it holds the named lock and the
	// session's lock wait timeout.
	conn, err := p.db.Conn(ctx)
	if err != nil {
		return rep, fmt.Errorf("retention: open connection: %w", err)
	}
	defer conn.Close()
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(`+lockName+`, 0)`).Scan(&got); err != nil {
		return rep, fmt.Errorf("retention: take lock: %w", err)
	}
	if !got.Valid || got.Int64 != 1 {
		return rep, ErrBusy
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DO RELEASE_LOCK(`+lockName+`)`) //nolint:errcheck // the lock dies with the connection anyway
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`SET SESSION innodb_lock_wait_timeout = %d`, max(1, int(p.opts.LockWaitTimeout/time.Second)))); err != nil {
		return rep, fmt.Errorf("retention: set lock wait timeout: %w", err)
	}
	// Holding the lock, no other purge runs: a row still 'running' is one
	// whose daemon died or lost its connection mid-purge.
	if _, err := conn.ExecContext(ctx, `UPDATE dxt_purge SET status = ?, finished_at = UTC_TIMESTAMP(6),
  error = COALESCE(error, 'interrupted: the daemon stopped or lost its database connection during this purge; the counts are what was deleted')
WHERE status = ?`, StatusFailed, StatusRunning); err != nil {
		return rep, fmt.Errorf("retention: close interrupted purges: %w", err)
	}

	batch := batchSize(s.RetentionBatch)
	rep.Age, err = p.purgeAge(ctx, conn, s.RetentionDays, batch)
	if err != nil {
		return rep, err
	}
	if s.ContentMaxMB > 0 {
		cc, err := p.capContent(ctx, conn, s.ContentMaxMB<<20, batch)
		rep.ContentCap = &cc
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// lockName is per database: two trackers on one server do not block each
// other. GET_LOCK names are at most 64 characters.
const lockName = `LEFT(CONCAT('dxtracker.retention.', DATABASE()), 64)`

func batchSize(n int64) int {
	switch {
	case n <= 0:
		return defaultBatch
	case n > maxBatch:
		return maxBatch
	}
	return int(n)
}

// purgeAge deletes the events that occurred before now - days, in
// (occurred_at, id) order, then the processed intake rows of that age.
//
// Only events with an id below the first id of a kept event are deleted,
// so the surviving events are always a suffix of the id sequence: after
// the purge, every event with id <= max_event_id is gone and every event
// above it is there (what a hash chain over dxt_event needs to stay
// verifiable). An old event inserted after newer ones (a reconstructed
// delivery) waits for the next purge after those newer ones have aged out.
func (p *Purger) purgeAge(ctx context.Context, conn *sql.Conn, days int64, batch int) (Purge, error) {
	began := time.Now()
	pg := Purge{Kind: KindAge, RetentionDays: days,
		Cutoff: p.opts.Now().UTC().Add(-time.Duration(days) * 24 * time.Hour).Truncate(time.Microsecond)}
	var err error
	if pg.ConfiguredBy, pg.ConfiguredAt, err = configuredBy(ctx, conn, tracker.KeyRetentionDays); err != nil {
		return pg, err
	}
	if err := p.begin(ctx, conn, &pg); err != nil {
		return pg, err
	}
	err = p.ageEvents(ctx, conn, &pg, batch)
	if err == nil {
		err = p.ageIntake(ctx, conn, &pg, batch)
	}
	return pg, p.finish(ctx, &pg, began, err)
}

type eventRow struct {
	id        uint64
	at        time.Time
	contentID sql.NullInt64
	stored    int64
}

func (p *Purger) ageEvents(ctx context.Context, conn *sql.Conn, pg *Purge, batch int) error {
	var boundary uint64
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(
  (SELECT MIN(id) FROM dxt_event WHERE occurred_at >= ?),
  (SELECT COALESCE(MAX(id), 0) + 1 FROM dxt_event))`, pg.Cutoff).Scan(&boundary); err != nil {
		return fmt.Errorf("find the first kept event: %w", err)
	}
	var last *eventRow // keyset: (occurred_at, id) of the last row handled
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		q := `SELECT e.id, e.occurred_at, e.content_id, COALESCE(c.stored_size, 0)
FROM dxt_event e FORCE INDEX (dxt_event_time) LEFT JOIN dxt_content c ON c.id = e.content_id
WHERE e.occurred_at < ? AND e.id < ?`
		args := []any{pg.Cutoff, boundary}
		if last != nil {
			q += ` AND (e.occurred_at > ? OR (e.occurred_at = ? AND e.id > ?))`
			args = append(args, last.at, last.at, last.id)
		}
		q += ` ORDER BY e.occurred_at, e.id LIMIT ?`
		args = append(args, batch)
		rows, err := conn.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("select events to purge: %w", err)
		}
		var sel []eventRow
		for rows.Next() {
			var r eventRow
			if err := rows.Scan(&r.id, &r.at, &r.contentID, &r.stored); err != nil {
				rows.Close()
				return fmt.Errorf("select events to purge: %w", err)
			}
			sel = append(sel, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("select events to purge: %w", err)
		}
		full := len(sel) == batch
		// Bound the content bytes of one transaction.
		var bytes int64
		for i, r := range sel {
			if bytes += r.stored; i > 0 && bytes > p.opts.MaxBatchBytes {
				sel, full = sel[:i], true
				break
			}
		}
		if len(sel) == 0 {
			return nil
		}
		ids := make([]any, len(sel))
		for i, r := range sel {
			ids[i] = r.id
		}
		if err := p.batch(ctx, conn, pg, "events", func(tx *sql.Tx) (delta, error) { return deleteEvents(ctx, tx, pg.ID, ids, batch) }); err != nil {
			return err
		}
		last = &sel[len(sel)-1]
		if !full {
			return nil
		}
		if err := p.pause(ctx); err != nil {
			return err
		}
	}
}

// deleteEvents deletes the events ids (those still there), their outbox
// rows, and their content unless another event still points to it. The
// tamper-evidence chain records each deletion (a purge link naming the
// dxt_purge row) and drops the links no remaining event needs, at most
// 2*batch of them, recording the last one dropped in the dxt_purge row
// (chain.Prune).
func deleteEvents(ctx context.Context, tx *sql.Tx, purgeID uint64, ids []any, batch int) (delta, error) {
	var d delta
	in := placeholders(len(ids))
	rows, err := tx.QueryContext(ctx, `SELECT id, occurred_at, content_id FROM dxt_event WHERE id IN (`+in+`) FOR UPDATE`, ids...)
	if err != nil {
		return d, fmt.Errorf("lock events: %w", err)
	}
	var contents []any
	var deleted []uint64
	seen := map[int64]bool{}
	for rows.Next() {
		var id uint64
		var at time.Time
		var cid sql.NullInt64
		if err := rows.Scan(&id, &at, &cid); err != nil {
			rows.Close()
			return d, fmt.Errorf("lock events: %w", err)
		}
		d.event(id, at)
		deleted = append(deleted, id)
		if cid.Valid && !seen[cid.Int64] {
			seen[cid.Int64] = true
			contents = append(contents, cid.Int64)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, fmt.Errorf("lock events: %w", err)
	}
	if d.minID == 0 {
		return d, nil // gone meanwhile
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM dxt_outbox WHERE event_id IN (`+in+`)`, ids...)
	if err != nil {
		return d, fmt.Errorf("delete outbox rows: %w", err)
	}
	d.outbox, _ = res.RowsAffected()
	if res, err = tx.ExecContext(ctx, `DELETE FROM dxt_event WHERE id IN (`+in+`)`, ids...); err != nil {
		return d, fmt.Errorf("delete events: %w", err)
	}
	d.events, _ = res.RowsAffected()
	if err := deleteOrphans(ctx, tx, contents, seen, &d); err != nil {
		return d, err
	}
	// Last, so the chain's head is locked only until the commit.
	if err := chain.RecordPurge(ctx, tx, purgeID, deleted); err != nil {
		return d, err
	}
	_, err = chain.Prune(ctx, tx, purgeID, 2*batch)
	return d, err
}

// deleteOrphans deletes the contents of deleted events (seen) that no
// remaining event points to.
func deleteOrphans(ctx context.Context, tx *sql.Tx, contents []any, seen map[int64]bool, d *delta) error {
	if len(contents) == 0 {
		return nil
	}
	// A content another (kept) event still points to stays.
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT content_id FROM dxt_event WHERE content_id IN (`+placeholders(len(contents))+`)`, contents...)
	if err != nil {
		return fmt.Errorf("find shared contents: %w", err)
	}
	for rows.Next() {
		var cid int64
		if err := rows.Scan(&cid); err != nil {
			rows.Close()
			return fmt.Errorf("find shared contents: %w", err)
		}
		delete(seen, cid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find shared contents: %w", err)
	}
	orphans := make([]any, 0, len(seen))
	for _, c := range contents {
		if seen[c.(int64)] {
			orphans = append(orphans, c)
		}
	}
	return deleteContents(ctx, tx, orphans, d)
}

// deleteContents deletes the contents ids and their chunks, counting them
// and their stored bytes into d.
func deleteContents(ctx context.Context, tx *sql.Tx, ids []any, d *delta) error {
	if len(ids) == 0 {
		return nil
	}
	in := placeholders(len(ids))
	var n, bytes int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(stored_size), 0) FROM dxt_content WHERE id IN (`+in+`) FOR UPDATE`, ids...).Scan(&n, &bytes); err != nil {
		return fmt.Errorf("lock contents: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM dxt_content_chunk WHERE content_id IN (`+in+`)`, ids...); err != nil {
		return fmt.Errorf("delete content chunks: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM dxt_content WHERE id IN (`+in+`)`, ids...); err != nil {
		return fmt.Errorf("delete contents: %w", err)
	}
	d.contents += n
	d.bytes += bytes
	return nil
}

// ageIntake deletes processed intake rows (and any chunks left) that both
// occurred and were processed before the cutoff, walking the
// (processed_at, id) index. Unprocessed rows are never touched.
func (p *Purger) ageIntake(ctx context.Context, conn *sql.Conn, pg *Purge, batch int) error {
	var lastAt time.Time
	var lastID uint64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		q := `SELECT id, processed_at FROM dxt_intake FORCE INDEX (dxt_intake_pending)
WHERE processed_at < ? AND occurred_at < ?`
		args := []any{pg.Cutoff, pg.Cutoff}
		if lastID != 0 {
			q += ` AND (processed_at > ? OR (processed_at = ? AND id > ?))`
			args = append(args, lastAt, lastAt, lastID)
		}
		q += ` ORDER BY processed_at, id LIMIT ?`
		args = append(args, batch)
		rows, err := conn.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("select intake rows to purge: %w", err)
		}
		var ids []any
		for rows.Next() {
			if err := rows.Scan(&lastID, &lastAt); err != nil {
				rows.Close()
				return fmt.Errorf("select intake rows to purge: %w", err)
			}
			ids = append(ids, lastID)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("select intake rows to purge: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		err = p.batch(ctx, conn, pg, "intake", func(tx *sql.Tx) (delta, error) {
			var d delta
			in := placeholders(len(ids))
			if _, err := tx.ExecContext(ctx, `DELETE FROM dxt_intake_chunk WHERE intake_id IN (`+in+`)`, ids...); err != nil {
				return d, fmt.Errorf("delete intake chunks: %w", err)
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM dxt_intake WHERE id IN (`+in+`) AND processed_at IS NOT NULL`, ids...)
			if err != nil {
				return d, fmt.Errorf("delete intake rows: %w", err)
			}
			d.intake, _ = res.RowsAffected()
			return d, nil
		})
		if err != nil {
			return err
		}
		if len(ids) < batch {
			return nil
		}
		if err := p.pause(ctx); err != nil {
			return err
		}
	}
}

// delta is what one batch did; it is added to the dxt_purge row in the
// batch's own transaction.
type delta struct {
	events, updated, contents, bytes, intake, outbox int64
	minID, maxID                                     uint64
	minAt, maxAt                                     time.Time
}

func (d *delta) event(id uint64, at time.Time) {
	if d.minID == 0 || id < d.minID {
		d.minID = id
	}
	d.maxID = max(d.maxID, id)
	if d.minAt.IsZero() || at.Before(d.minAt) {
		d.minAt = at
	}
	if at.After(d.maxAt) {
		d.maxAt = at
	}
}

func (pg *Purge) add(d delta) {
	pg.Batches++
	pg.EventsDeleted += d.events
	pg.EventsUpdated += d.updated
	pg.ContentsDeleted += d.contents
	pg.ContentBytesDeleted += d.bytes
	pg.IntakeRowsDeleted += d.intake
	pg.OutboxRowsDeleted += d.outbox
	if d.minID != 0 {
		if pg.MinEventID == 0 || d.minID < pg.MinEventID {
			pg.MinEventID = d.minID
		}
		pg.MaxEventID = max(pg.MaxEventID, d.maxID)
		if pg.MinOccurredAt.IsZero() || d.minAt.Before(pg.MinOccurredAt) {
			pg.MinOccurredAt = d.minAt
		}
		if d.maxAt.After(pg.MaxOccurredAt) {
			pg.MaxOccurredAt = d.maxAt
		}
	}
}

// batch runs fn and the audit update in one short READ COMMITTED
// transaction (row locks only, no gap locks), retrying it after a deadlock
// or lock wait timeout, and records how long it held its locks.
func (p *Purger) batch(ctx context.Context, conn *sql.Conn, pg *Purge, phase string, fn func(*sql.Tx) (delta, error)) error {
	for attempt := 1; ; attempt++ {
		start := time.Now()
		d, err := p.tryBatch(ctx, conn, pg.ID, fn)
		took := time.Since(start)
		pg.MaxBatch = max(pg.MaxBatch, took)
		if err == nil {
			pg.add(d)
			if p.opts.afterBatch != nil {
				p.opts.afterBatch(phase, pg.Batches, took)
			}
			return nil
		}
		if attempt >= retries || !retryable(err) || ctx.Err() != nil {
			return err
		}
		p.log.Warn().Err(err).Int("attempt", attempt).Str("kind", pg.Kind).Str("phase", phase).Msg("purge batch rolled back; retrying")
		if err := p.sleep(ctx, time.Duration(attempt)*100*time.Millisecond); err != nil {
			return err
		}
	}
}

func (p *Purger) tryBatch(ctx context.Context, conn *sql.Conn, purgeID uint64, fn func(*sql.Tx) (delta, error)) (delta, error) {
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return delta{}, fmt.Errorf("begin purge batch: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	d, err := fn(tx)
	if err != nil {
		return delta{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE dxt_purge SET batches = batches + 1,
  events_deleted = events_deleted + ?, events_updated = events_updated + ?,
  contents_deleted = contents_deleted + ?, content_bytes_deleted = content_bytes_deleted + ?,
  intake_rows_deleted = intake_rows_deleted + ?, outbox_rows_deleted = outbox_rows_deleted + ?,
  min_event_id = COALESCE(LEAST(min_event_id, ?), ?, min_event_id),
  max_event_id = COALESCE(GREATEST(max_event_id, ?), ?, max_event_id),
  min_occurred_at = COALESCE(LEAST(min_occurred_at, CAST(? AS DATETIME(6))), CAST(? AS DATETIME(6)), min_occurred_at),
  max_occurred_at = COALESCE(GREATEST(max_occurred_at, CAST(? AS DATETIME(6))), CAST(? AS DATETIME(6)), max_occurred_at)
WHERE id = ?`, d.events, d.updated, d.contents, d.bytes, d.intake, d.outbox,
		nullID(d.minID), nullID(d.minID), nullID(d.maxID), nullID(d.maxID),
		nullTime(d.minAt), nullTime(d.minAt), nullTime(d.maxAt), nullTime(d.maxAt), purgeID); err != nil {
		return delta{}, fmt.Errorf("update purge %d: %w", purgeID, err)
	}
	if err := tx.Commit(); err != nil {
		return delta{}, fmt.Errorf("commit purge batch: %w", err)
	}
	return d, nil
}

// retryable: the server rolled the transaction back because of a lock
// conflict (ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT).
func retryable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}

// pause yields to the live ingest between two batches.
func (p *Purger) pause(ctx context.Context) error { return p.sleep(ctx, p.opts.BatchPause) }

func (p *Purger) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// configuredBy says who last set the dxt_config key name and when.
func configuredBy(ctx context.Context, q tracker.Querier, name string) (string, time.Time, error) {
	var by sql.NullString
	var at sql.NullTime
	err := q.QueryRowContext(ctx, `SELECT updated_by, updated_at FROM dxt_config WHERE name = ?`, name).Scan(&by, &at)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, fmt.Errorf("read who configured %s: %w", name, err)
	}
	return by.String, at.Time, nil
}

// begin writes the purge's dxt_purge row, status running.
func (p *Purger) begin(ctx context.Context, conn *sql.Conn, pg *Purge) error {
	pg.Status = StatusRunning
	res, err := conn.ExecContext(ctx, `INSERT INTO dxt_purge (started_at, kind, cutoff, retention_days, content_cap_bytes, configured_by, configured_at, status)
VALUES (UTC_TIMESTAMP(6), ?, ?, ?, ?, ?, ?, ?)`, pg.Kind, nullTime(pg.Cutoff), nullInt(pg.RetentionDays), nullInt(pg.ContentCapBytes),
		sql.NullString{String: pg.ConfiguredBy, Valid: pg.ConfiguredBy != ""}, nullTime(pg.ConfiguredAt), pg.Status)
	if err != nil {
		return fmt.Errorf("retention: record %s purge: %w", pg.Kind, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("retention: record %s purge: %w", pg.Kind, err)
	}
	pg.ID = uint64(id)
	return nil
}

// finish records the end of the purge (done, or failed with the error,
// also when ctx was cancelled), counts it, logs it, and returns err wrapped.
func (p *Purger) finish(ctx context.Context, pg *Purge, began time.Time, err error) error {
	pg.Took = time.Since(began)
	pg.Status = StatusDone
	if err != nil {
		pg.Status = StatusFailed
		pg.Error = err.Error()
		if ctx.Err() != nil {
			pg.Error = fmt.Sprintf("stopped after %d batches: %v", pg.Batches, context.Cause(ctx))
		}
	}
	// The purge's connection may be gone with ctx: the pool writes the end.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, uerr := p.db.ExecContext(wctx, `UPDATE dxt_purge SET finished_at = UTC_TIMESTAMP(6), status = ?, error = ? WHERE id = ?`,
		pg.Status, sql.NullString{String: pg.Error, Valid: pg.Error != ""}, pg.ID); uerr != nil && err == nil {
		err = fmt.Errorf("record end of purge %d: %w", pg.ID, uerr)
		pg.Status, pg.Error = StatusFailed, err.Error()
	}
	p.count(pg)
	ev := p.log.Info()
	if err != nil {
		ev = p.log.Error().Err(err)
	}
	ev.Uint64("purge_id", pg.ID).Str("kind", pg.Kind).Str("status", pg.Status).Int("batches", pg.Batches).
		Int64("events_deleted", pg.EventsDeleted).Int64("events_updated", pg.EventsUpdated).
		Int64("contents_deleted", pg.ContentsDeleted).Int64("content_bytes_deleted", pg.ContentBytesDeleted).
		Int64("intake_rows_deleted", pg.IntakeRowsDeleted).Int64("outbox_rows_deleted", pg.OutboxRowsDeleted).
		Uint64("max_event_id", pg.MaxEventID).Dur("took", pg.Took).Dur("max_batch", pg.MaxBatch).Msg("purge finished")
	if err != nil {
		return &recordedError{fmt.Errorf("retention: %s purge %d: %w", pg.Kind, pg.ID, err)}
	}
	return nil
}

// recordedError is a purge failure already logged and written to its
// dxt_purge row.
type recordedError struct{ err error }

func (e *recordedError) Error() string { return e.err.Error() }
func (e *recordedError) Unwrap() error { return e.err }

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func nullID(id uint64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullTime(t time.Time) sql.NullTime { return sql.NullTime{Time: t.UTC(), Valid: !t.IsZero()} }

func nullInt(n int64) sql.NullInt64 { return sql.NullInt64{Int64: n, Valid: n != 0} }

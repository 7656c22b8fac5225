package retention

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dxtracker/dxtracker/chain"
	"github.com/dxtracker/dxtracker/tracker"
)

// capContent deletes the oldest captured contents (lowest id first) until
// the stored size of all contents is at most capBytes. The cap is on
// dxt_content.stored_size, the compressed bytes in dxt_content_chunk: what
// the content actually occupies in the database, which is what an
// administrator caps (the original size would overstate it by the
// compression ratio). The events keep their row; their content_id is
// cleared and details.content_purged says when, why, and what the content
// was (name, original size, SHA-256), so the API can tell why the file is
// gone.
func (p *Purger) capContent(ctx context.Context, conn *sql.Conn, capBytes int64, batch int) (Purge, error) {
	began := time.Now()
	pg := Purge{Kind: KindContentCap, ContentCapBytes: capBytes}
	var err error
	if pg.ConfiguredBy, pg.ConfiguredAt, err = configuredBy(ctx, conn, tracker.KeyContentMaxMB); err != nil {
		return pg, err
	}
	if err := p.begin(ctx, conn, &pg); err != nil {
		return pg, err
	}
	return pg, p.finish(ctx, &pg, began, p.capBatches(ctx, conn, &pg, capBytes, batch))
}

func (p *Purger) capBatches(ctx context.Context, conn *sql.Conn, pg *Purge, capBytes int64, batch int) error {
	var total int64
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(SUM(stored_size), 0) FROM dxt_content`).Scan(&total); err != nil {
		return fmt.Errorf("measure content storage: %w", err)
	}
	excess := total - capBytes
	var lastID uint64
	for excess > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows, err := conn.QueryContext(ctx, `SELECT id, stored_size FROM dxt_content WHERE id > ? ORDER BY id LIMIT ?`, lastID, batch)
		if err != nil {
			return fmt.Errorf("select contents to purge: %w", err)
		}
		var ids []any
		var picked int64
		for rows.Next() {
			var id uint64
			var stored int64
			if err := rows.Scan(&id, &stored); err != nil {
				rows.Close()
				return fmt.Errorf("select contents to purge: %w", err)
			}
			if len(ids) > 0 && (picked >= excess || picked+stored > p.opts.MaxBatchBytes) {
				break
			}
			ids = append(ids, id)
			picked += stored
			lastID = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("select contents to purge: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		var d delta
		err = p.batch(ctx, conn, pg, "content", func(tx *sql.Tx) (delta, error) {
			var err error
			d, err = dropContents(ctx, tx, pg.ID, ids, p.opts.Now().UTC())
			return d, err
		})
		if err != nil {
			return err
		}
		excess -= d.bytes
		if excess > 0 {
			if err := p.pause(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// dropContents deletes the contents ids and detaches them from their events
// with a note in details.content_purged.
func dropContents(ctx context.Context, tx *sql.Tx, purgeID uint64, ids []any, now time.Time) (delta, error) {
	var d delta
	var changed []uint64
	in := placeholders(len(ids))
	rows, err := tx.QueryContext(ctx, `SELECT id, occurred_at FROM dxt_event WHERE content_id IN (`+in+`) FOR UPDATE`, ids...)
	if err != nil {
		return d, fmt.Errorf("lock events of contents: %w", err)
	}
	for rows.Next() {
		var id uint64
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return d, fmt.Errorf("lock events of contents: %w", err)
		}
		d.event(id, at)
		d.updated++
		changed = append(changed, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, fmt.Errorf("lock events of contents: %w", err)
	}
	if d.updated > 0 {
		args := append([]any{now.Format("2006-01-02T15:04:05.000000Z07:00"), purgeID}, ids...)
		if _, err := tx.ExecContext(ctx, `UPDATE dxt_event e JOIN dxt_content c ON c.id = e.content_id
SET e.details = IF(JSON_VALID(e.details),
      JSON_SET(e.details, '$.content_purged', JSON_OBJECT('at', ?, 'reason', 'content_cap', 'purge_id', ?,
        'name', c.name, 'size', c.size, 'sha256', c.sha256)),
      e.details),
    e.content_id = NULL
WHERE e.content_id IN (`+in+`)`, args...); err != nil {
			return d, fmt.Errorf("detach purged contents from their events: %w", err)
		}
	}
	if err := deleteContents(ctx, tx, ids, &d); err != nil {
		return d, err
	}
	// The change is legitimate: the chain attests it (a link per event),
	// last, so the chain's head is locked only until the commit.
	return d, chain.RecordChanges(ctx, tx, changed)
}

package main

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dxtracker/dxtracker/alerting"
	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/ingest"
	"github.com/dxtracker/dxtracker/notify"
	"github.com/dxtracker/dxtracker/rules"
)

// daemonMetrics exposes the follower's and the processor's own counters at
// scrape time, so the hot paths keep plain atomics.
type daemonMetrics struct {
	f      *binlog.Follower
	p      *ingest.Processor
	db     *sql.DB
	alerts *alerting.Hook
	engine *rules.Engine

	lagBytes, backlog, outboxRows, outboxDepth, matched, enqueued, userStates *prometheus.Desc

	lag, connected, reconnects, eventsRead, bytesRead, rowsDecoded *prometheus.Desc
	events, skipped, merged, contentBytes, hashMismatch, batches   *prometheus.Desc
}

var _ prometheus.Collector = (*daemonMetrics)(nil)

func newMetrics(f *binlog.Follower, p *ingest.Processor, db *sql.DB, alerts *alerting.Hook, engine *rules.Engine) *daemonMetrics {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("dxtracker_"+name, help, labels, nil)
	}
	return &daemonMetrics{
		f: f, p: p, db: db, alerts: alerts, engine: engine,
		lagBytes:     d("binlog_lag_bytes", "Binlog bytes the server wrote that this daemon has not applied (leader only)."),
		backlog:      d("intake_backlog", "Intake rows not yet processed."),
		outboxRows:   d("outbox_rows", "Notification outbox rows by state (failed and uncertain need attention).", "state"),
		outboxDepth:  d("outbox_depth", "Notifications waiting to be delivered (pending, sending, delivering, held)."),
		matched:      d("rules_matched_events_total", "Events on which at least one rule matched."),
		enqueued:     d("notifications_enqueued_total", "Notifications written to the outbox (event x recipient)."),
		userStates:   d("rules_user_states", "Users whose rule state is cached in memory."),
		lag:          d("binlog_lag_seconds", "Seconds between now and the last binlog event read."),
		connected:    d("binlog_connected", "1 while the replication stream is connected."),
		reconnects:   d("binlog_reconnects_total", "Reconnects of the replication stream."),
		eventsRead:   d("binlog_events_read_total", "Binlog events read."),
		bytesRead:    d("binlog_bytes_read_total", "Binlog bytes read."),
		rowsDecoded:  d("binlog_rows_decoded_total", "Rows decoded (watched tables only)."),
		events:       d("events_total", "Tracking-log events created, by type.", "type"),
		skipped:      d("intake_skipped_total", "Intake rows not logged because their type is switched off."),
		merged:       d("events_merged_total", "Binlog and probe observations merged into one event."),
		contentBytes: d("content_bytes_total", "Captured content bytes stored."),
		hashMismatch: d("content_hash_mismatch_total", "Captured content whose SHA-256 differed from the producer's."),
		batches:      d("ingest_batches_total", "Transactions committed by the ingest processor."),
	}
}

func (m *daemonMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.lagBytes, m.backlog, m.outboxRows, m.outboxDepth, m.matched, m.enqueued, m.userStates, m.lag, m.connected, m.reconnects, m.eventsRead, m.bytesRead, m.rowsDecoded,
		m.events, m.skipped, m.merged, m.contentBytes, m.hashMismatch, m.batches} {
		ch <- d
	}
}

func (m *daemonMetrics) Collect(ch chan<- prometheus.Metric) {
	st := m.f.Status()
	connected := 0.0
	if st.Connected {
		connected = 1
	}
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(m.lag, st.LagSeconds)
	gauge(m.connected, connected)
	counter(m.reconnects, uint64(st.Reconnects))
	counter(m.eventsRead, st.EventsRead)
	counter(m.bytesRead, st.BytesRead)
	counter(m.rowsDecoded, st.RowsDecoded)
	c := &m.p.Counters
	c.EventsByType.Range(func(k, v any) bool {
		counter(m.events, v.(*atomic.Uint64).Load(), k.(string))
		return true
	})
	counter(m.skipped, c.IntakeSkipped.Load())
	counter(m.merged, c.IntakeMerged.Load())
	counter(m.contentBytes, c.ContentBytes.Load())
	counter(m.hashMismatch, c.HashMismatches.Load())
	counter(m.batches, c.Batches.Load())
	as := m.alerts.Stats()
	counter(m.matched, as.EventsMatched)
	counter(m.enqueued, as.NotificationsEnqueued)
	gauge(m.userStates, float64(m.engine.Stats().Users))
	m.collectDB(ch, st)
}

// collectDB adds what only the database knows; a slow or failing query
// leaves those series out of this scrape rather than failing it.
func (m *daemonMetrics) collectDB(ch chan<- prometheus.Metric, st binlog.Status) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var n int64
	if m.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM dxt_intake WHERE processed_at IS NULL`).Scan(&n) == nil {
		gauge(m.backlog, float64(n))
	}
	if ob, err := notify.ReadStats(ctx, m.db, time.Now()); err == nil {
		depth := 0.0
		for state, c := range ob.ByState {
			v := float64(c)
			gauge(m.outboxRows, v, state)
			switch state {
			case "pending", "sending", "delivering", "held":
				depth += v
			}
		}
		gauge(m.outboxDepth, depth)
	}
	pos := st.ReadPosition
	if pos.File == "" {
		pos = st.Position
	}
	if st.Connected && pos.File != "" {
		if b, err := binlogBytesBehind(ctx, m.db, pos); err == nil {
			gauge(m.lagBytes, float64(b))
		}
	}
}

// binlogBytesBehind sums the server's binlog bytes after pos.
func binlogBytesBehind(ctx context.Context, db *sql.DB, pos binlog.Position) (int64, error) {
	rows, err := db.QueryContext(ctx, `SHOW BINARY LOGS`)
	if err != nil {
		return 0, fmt.Errorf("show binary logs: %w", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var behind int64
	after := false
	for rows.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, fmt.Errorf("show binary logs: %w", err)
		}
		name := string(vals[0])
		size, _ := strconv.ParseInt(strings.TrimSpace(string(vals[1])), 10, 64)
		switch {
		case name == pos.File:
			behind += max(size-int64(pos.Pos), 0)
			after = true
		case after:
			behind += size
		}
	}
	return behind, rows.Err()
}

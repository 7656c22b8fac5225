package main

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/ingest"
)

// daemonMetrics exposes the follower's and the processor's own counters at
// scrape time, so the hot paths keep plain atomics.
type daemonMetrics struct {
	f *binlog.Follower
	p *ingest.Processor

	lag, connected, reconnects, eventsRead, bytesRead, rowsDecoded *prometheus.Desc
	events, skipped, merged, contentBytes, hashMismatch, batches   *prometheus.Desc
}

var _ prometheus.Collector = (*daemonMetrics)(nil)

func newMetrics(f *binlog.Follower, p *ingest.Processor) *daemonMetrics {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("dxtracker_"+name, help, labels, nil)
	}
	return &daemonMetrics{
		f: f, p: p,
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
	for _, d := range []*prometheus.Desc{m.lag, m.connected, m.reconnects, m.eventsRead, m.bytesRead, m.rowsDecoded,
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
}

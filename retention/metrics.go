package retention

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector returns the Prometheus collector of the purge counters. It can
// be registered once at start whether or not this daemon is the leader that
// runs the purges (a standby reports zeros).
func (p *Purger) Collector() prometheus.Collector { return (*collector)(p) }

type collector Purger

var (
	descPurges = prometheus.NewDesc("dxtracker_retention_purges_total",
		"Purges finished (an age purge and a content cap purge count one each).", nil, nil)
	descFailures = prometheus.NewDesc("dxtracker_retention_purge_failures_total",
		"Purges that failed or were stopped, and scheduled runs that could not start.", nil, nil)
	descSkipped = prometheus.NewDesc("dxtracker_retention_skipped_total",
		"Scheduled runs skipped because a purge was still running.", nil, nil)
	descBatches = prometheus.NewDesc("dxtracker_retention_batches_total",
		"Purge batch transactions committed.", nil, nil)
	descRows = prometheus.NewDesc("dxtracker_retention_rows_deleted_total",
		"Rows deleted by purges, by table.", []string{"table"}, nil)
	descUpdated = prometheus.NewDesc("dxtracker_retention_events_content_purged_total",
		"Events kept whose captured content the content cap deleted.", nil, nil)
	descBytes = prometheus.NewDesc("dxtracker_retention_content_bytes_deleted_total",
		"Stored (compressed) content bytes deleted by purges.", nil, nil)
	descRunning = prometheus.NewDesc("dxtracker_retention_running",
		"1 while a purge runs.", nil, nil)
	descLastFinished = prometheus.NewDesc("dxtracker_retention_last_finished_timestamp_seconds",
		"When the last purge finished (Unix time; 0 = none yet).", nil, nil)
	descLastMaxBatch = prometheus.NewDesc("dxtracker_retention_last_max_batch_seconds",
		"Longest batch transaction of the last purge: the longest any of its row locks was held.", nil, nil)
	descNextRun = prometheus.NewDesc("dxtracker_retention_next_run_timestamp_seconds",
		"Next scheduled purge (Unix time; 0 = not scheduled here).", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPurges, descFailures, descSkipped, descBatches, descRows, descUpdated,
		descBytes, descRunning, descLastFinished, descLastMaxBatch, descNextRun} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := (*Purger)(c).Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter(descPurges, s.Purges)
	counter(descFailures, s.Failures)
	counter(descSkipped, s.Skipped)
	counter(descBatches, s.Batches)
	counter(descRows, s.EventsDeleted, "dxt_event")
	counter(descRows, s.ContentsDeleted, "dxt_content")
	counter(descRows, s.IntakeRowsDeleted, "dxt_intake")
	counter(descRows, s.OutboxRowsDeleted, "dxt_outbox")
	counter(descUpdated, s.EventsUpdated)
	counter(descBytes, s.ContentBytesDeleted)
	running := 0.0
	if s.Running {
		running = 1
	}
	gauge(descRunning, running)
	gauge(descLastFinished, unix(s.LastFinished))
	gauge(descLastMaxBatch, s.LastMaxBatch.Seconds())
	gauge(descNextRun, unix(s.NextRun))
}

func unix(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMilli()) / 1000
}

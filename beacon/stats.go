package beacon

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// rejectReason labels a refused beacon in metrics and in the periodic log.
type rejectReason int

const (
	reasonMethod rejectReason = iota
	reasonOrigin
	reasonShutdown
	reasonIPRate
	reasonBusy
	reasonTooLarge
	reasonMalformed
	reasonToken
	reasonUser
	reasonUserRate
	reasonQueueFull
	reasonStore
	reasonTimeout
	numReasons
)

var reasonNames = [numReasons]string{
	"method", "origin", "shutting_down", "ip_rate_limit", "memory_budget", "too_large", "malformed",
	"token", "inactive_user", "user_rate_limit", "queue_full", "store_failed", "commit_timeout",
}

// stats are plain atomics on the hot path, read by the Prometheus
// collector at scrape time.
type stats struct {
	accepted    atomic.Uint64 // answered 204 after commit
	discarded   atomic.Uint64 // answered 204, track_copy off
	stored      atomic.Uint64 // rows committed
	storeFailed atomic.Uint64
	batches     atomic.Uint64
	batchErrors atomic.Uint64
	commitNanos atomic.Uint64
	writing     atomic.Int64 // beacons in the transaction under way
	rejected    [numReasons]atomic.Uint64
	logged      [numReasons]uint64 // rejected as of the last log line (writer goroutine only)
}

func (st *stats) reject(r rejectReason) { st.rejected[r].Add(1) }

func (st *stats) observeCommit(n int, d time.Duration, err error) {
	st.batches.Add(1)
	st.commitNanos.Add(uint64(d.Nanoseconds()))
	if err != nil {
		st.batchErrors.Add(1)
	}
}

// logRejections writes one line with the beacons refused since the last
// one, so a flood costs a log line a minute, not one per request.
func (s *Service) logRejections() {
	ev := s.log.Info()
	some := false
	d := zerolog.Dict()
	for r := range numReasons {
		n := s.stats.rejected[r].Load()
		if delta := n - s.stats.logged[r]; delta > 0 {
			d.Uint64(reasonNames[r], delta)
			some = true
			if r == reasonStore || r == reasonTimeout {
				ev = s.log.Warn()
			}
		}
		s.stats.logged[r] = n
	}
	if some {
		ev.Dict("rejected", d).Uint64("accepted_total", s.stats.accepted.Load()).Msg("beacons refused since the last report")
	}
}

// Counts is a snapshot of the service's counters (tests, benchmark).
type Counts struct {
	Accepted, Discarded, Stored, StoreFailed, Batches uint64
	Rejected                                          map[string]uint64
	// Queued beacons wait for the writer; Writing are in its transaction.
	Queued, Writing int
}

// Counts returns the counters now.
func (s *Service) Counts() Counts {
	c := Counts{
		Accepted: s.stats.accepted.Load(), Discarded: s.stats.discarded.Load(),
		Stored: s.stats.stored.Load(), StoreFailed: s.stats.storeFailed.Load(),
		Batches: s.stats.batches.Load(), Rejected: map[string]uint64{},
		Queued: len(s.q.ch), Writing: int(s.stats.writing.Load()),
	}
	for r := range numReasons {
		if n := s.stats.rejected[r].Load(); n > 0 {
			c.Rejected[reasonNames[r]] = n
		}
	}
	return c
}

// Collector returns the Prometheus collector of the beacon metrics.
func (s *Service) Collector() prometheus.Collector { return (*collector)(s) }

type collector Service

var (
	descAccepted = prometheus.NewDesc("dxtracker_beacons_accepted_total",
		"Beacons answered 204 after their intake row committed.", nil, nil)
	descDiscarded = prometheus.NewDesc("dxtracker_beacons_discarded_total",
		"Beacons answered 204 and dropped because track_copy is off.", nil, nil)
	descRejected = prometheus.NewDesc("dxtracker_beacons_rejected_total",
		"Beacons refused, by reason.", []string{"reason"}, nil)
	descQueue = prometheus.NewDesc("dxtracker_beacon_queue_length",
		"Beacons waiting for the writer.", nil, nil)
	descQueueCap = prometheus.NewDesc("dxtracker_beacon_queue_capacity",
		"Most beacons that may wait for the writer.", nil, nil)
	descBatches = prometheus.NewDesc("dxtracker_beacon_write_transactions_total",
		"Transactions the beacon writer ran (group commits).", nil, nil)
	descBatchErrors = prometheus.NewDesc("dxtracker_beacon_write_errors_total",
		"Beacon writer transactions that failed.", nil, nil)
	descRows = prometheus.NewDesc("dxtracker_beacon_rows_written_total",
		"Beacon intake rows committed.", nil, nil)
	descCommitSeconds = prometheus.NewDesc("dxtracker_beacon_write_seconds_total",
		"Time spent in beacon writer transactions.", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAccepted, descDiscarded, descRejected, descQueue, descQueueCap,
		descBatches, descBatchErrors, descRows, descCommitSeconds} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := &c.stats
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	counter(descAccepted, float64(st.accepted.Load()))
	counter(descDiscarded, float64(st.discarded.Load()))
	for r := range numReasons {
		counter(descRejected, float64(st.rejected[r].Load()), reasonNames[r])
	}
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(len(c.q.ch)))
	ch <- prometheus.MustNewConstMetric(descQueueCap, prometheus.GaugeValue, float64(cap(c.q.ch)))
	counter(descBatches, float64(st.batches.Load()))
	counter(descBatchErrors, float64(st.batchErrors.Load()))
	counter(descRows, float64(st.stored.Load()))
	counter(descCommitSeconds, float64(st.commitNanos.Load())/1e9)
}

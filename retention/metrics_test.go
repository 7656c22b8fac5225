package retention

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestCollectorExportsPurgeCounts(t *testing.T) {
	db := migratedDB(t)
	c := insertContent(t, db, "old.csv", 100)
	insertEvent(t, db, testNow.AddDate(0, 0, -40), c)
	insertEvent(t, db, testNow.AddDate(0, 0, -40), 0)
	p := New(db, testLog(t), Options{Now: func() time.Time { return testNow }})
	if _, err := p.PurgeNow(context.Background(), settings(30, 100)); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetValue() + "}"
			}
			if m.Counter != nil {
				got[name] = m.GetCounter().GetValue()
			} else {
				got[name] = m.GetGauge().GetValue()
			}
		}
	}
	for name, want := range map[string]float64{
		"dxtracker_retention_purges_total":                    1,
		"dxtracker_retention_purge_failures_total":            0,
		"dxtracker_retention_rows_deleted_total{dxt_event}":   2,
		"dxtracker_retention_rows_deleted_total{dxt_content}": 1,
		"dxtracker_retention_running":                         0,
		"dxtracker_retention_next_run_timestamp_seconds":      0,
		"dxtracker_retention_last_finished_timestamp_seconds": float64(testNow.Unix()),
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
}

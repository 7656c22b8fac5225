package deploy_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// exportedMetrics are the metric names the daemon exports today, by where
// they are defined. The dashboard may only use these and pendingMetrics;
// TestDashboardMetricsExistInTheCode checks each against the source, so a
// rename fails here instead of leaving an empty panel.
var exportedMetrics = []string{
	// cmd/dxtracker/metrics.go ("dxtracker_" + name)
	"dxtracker_binlog_lag_seconds", "dxtracker_binlog_lag_bytes", "dxtracker_binlog_connected", "dxtracker_binlog_reconnects_total",
	"dxtracker_binlog_events_read_total", "dxtracker_binlog_bytes_read_total", "dxtracker_binlog_rows_decoded_total",
	"dxtracker_events_total", "dxtracker_intake_skipped_total", "dxtracker_events_merged_total",
	"dxtracker_content_bytes_total", "dxtracker_content_hash_mismatch_total", "dxtracker_ingest_batches_total",
	"dxtracker_intake_backlog", "dxtracker_outbox_rows", "dxtracker_outbox_depth",
	"dxtracker_rules_matched_events_total", "dxtracker_notifications_enqueued_total", "dxtracker_rules_user_states",
	// retention/metrics.go
	"dxtracker_retention_purges_total", "dxtracker_retention_purge_failures_total", "dxtracker_retention_skipped_total",
	"dxtracker_retention_batches_total", "dxtracker_retention_rows_deleted_total", "dxtracker_retention_events_content_purged_total",
	"dxtracker_retention_content_bytes_deleted_total", "dxtracker_retention_running",
	"dxtracker_retention_last_finished_timestamp_seconds", "dxtracker_retention_last_max_batch_seconds",
	"dxtracker_retention_next_run_timestamp_seconds",
	// beacon/stats.go
	"dxtracker_beacons_accepted_total", "dxtracker_beacons_discarded_total", "dxtracker_beacons_rejected_total",
	"dxtracker_beacon_queue_length", "dxtracker_beacon_queue_capacity", "dxtracker_beacon_write_transactions_total",
	"dxtracker_beacon_write_errors_total", "dxtracker_beacon_rows_written_total", "dxtracker_beacon_write_seconds_total",
	// api/middleware.go
	"dxtracker_api_requests_total", "dxtracker_api_request_duration_seconds", "dxtracker_api_requests_in_flight",
}

// pendingMetrics are used by the dashboard before the code exports them
// under that name. Every metric the dashboard shows exists today; add one
// here only together with the issue that will export it, and move it to
// exportedMetrics once it does.
var pendingMetrics = []string{}

var metricRe = regexp.MustCompile(`\bdxtracker_[a-z0-9_]+`)

// dashboardMetrics returns every metric name in the dashboard's queries,
// without the _bucket/_sum/_count suffixes of histograms.
func dashboardMetrics(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("grafana/dxtracker.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title      string `json:"title"`
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID         int                      `json:"id"`
			Type       string                   `json:"type"`
			Title      string                   `json:"title"`
			GridPos    struct{ H, W, X, Y int } `json:"gridPos"`
			Datasource *struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana/dxtracker.json: %v", err)
	}
	if dash.Title == "" || dash.UID == "" {
		t.Errorf("title %q, uid %q: both needed for import", dash.Title, dash.UID)
	}
	// Unique panel ids, and no two panels on the same grid cell (Grafana
	// would push one of them somewhere unexpected).
	ids := map[int]string{}
	cells := map[[2]int]string{}
panels:
	for _, p := range dash.Panels {
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X < 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: gridPos %+v does not fit the 24-column grid", p.Title, p.GridPos)
		}
		for x := p.GridPos.X; x < p.GridPos.X+p.GridPos.W; x++ {
			for y := p.GridPos.Y; y < p.GridPos.Y+p.GridPos.H; y++ {
				if prev, taken := cells[[2]int{x, y}]; taken {
					t.Errorf("panels %q and %q overlap at x=%d y=%d", prev, p.Title, x, y)
					continue panels
				}
				cells[[2]int{x, y}] = p.Title
			}
		}
	}
	hasDS := false
	var exprs []string
	for _, v := range dash.Templating.List {
		if v.Type == "datasource" && v.Name == "datasource" && strings.Contains(string(v.Query), "prometheus") {
			hasDS = true
		}
		exprs = append(exprs, string(v.Query))
	}
	if !hasDS {
		t.Error("no $datasource variable of type prometheus")
	}
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not use the ${datasource} variable", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Expr == "" {
				t.Errorf("panel %q has an empty query", p.Title)
			}
			exprs = append(exprs, tg.Expr)
		}
	}
	var names []string
	for _, e := range exprs {
		for _, m := range metricRe.FindAllString(e, -1) {
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if base, ok := strings.CutSuffix(m, suf); ok && slices.Contains(exportedMetrics, base) {
					m = base
				}
			}
			if !slices.Contains(names, m) {
				names = append(names, m)
			}
		}
	}
	return names
}

func TestDashboardUsesOnlyKnownMetrics(t *testing.T) {
	names := dashboardMetrics(t)
	if len(names) < 15 {
		t.Fatalf("only %d metric names found in the dashboard: %v", len(names), names)
	}
	for _, n := range names {
		if !slices.Contains(exportedMetrics, n) && !slices.Contains(pendingMetrics, n) {
			t.Errorf("the dashboard queries %s, which is in neither list", n)
		}
	}
	// What the issue asks the dashboard to show.
	for _, n := range []string{"dxtracker_binlog_lag_seconds", "dxtracker_binlog_lag_bytes", "dxtracker_events_total",
		"dxtracker_intake_backlog", "dxtracker_beacons_accepted_total", "dxtracker_beacons_rejected_total",
		"dxtracker_api_requests_total", "dxtracker_outbox_depth", "dxtracker_outbox_rows",
		"dxtracker_rules_matched_events_total", "dxtracker_notifications_enqueued_total",
		"dxtracker_retention_rows_deleted_total", "dxtracker_retention_purges_total", "dxtracker_retention_purge_failures_total"} {
		if !slices.Contains(names, n) {
			t.Errorf("no panel shows %s", n)
		}
	}
}

// TestDashboardMetricsExistInTheCode looks for every exported name in the
// non-test Go source, whole ("dxtracker_x") or as the suffix given to a
// helper that adds the prefix ("x", as in cmd/dxtracker/metrics.go).
func TestDashboardMetricsExistInTheCode(t *testing.T) {
	var src strings.Builder
	err := filepath.WalkDir(repoRoot(t), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "vendor" || d.Name() == "dist" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		src.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	code := src.String()
	defined := func(name string) bool {
		return strings.Contains(code, `"`+name+`"`) || strings.Contains(code, `"`+strings.TrimPrefix(name, "dxtracker_")+`"`)
	}
	for _, n := range exportedMetrics {
		if !defined(n) {
			t.Errorf("%s is not defined in the code any more (renamed?): fix the dashboard and exportedMetrics", n)
		}
	}
	for _, n := range pendingMetrics {
		if defined(n) {
			t.Errorf("%s is now defined in the code: move it from pendingMetrics to exportedMetrics", n)
		} else {
			t.Logf("%s is not exported yet; its panel stays empty until it is", n)
		}
	}
}

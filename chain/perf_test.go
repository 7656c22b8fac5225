package chain_test

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/chain"
	"github.com/dxtracker/dxtracker/chain/chaintest"
	"github.com/dxtracker/dxtracker/ingest"
	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

// TestChainCostOnTheIngestPath measures events/s of the processor over
// intake rows with and without the chain hook (batches of 1 and of 100).
// On demand: DXT_CHAIN_PERF=N rows per run.
func TestChainCostOnTheIngestPath(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DXT_CHAIN_PERF"))
	if n <= 0 {
		t.Skip("set DXT_CHAIN_PERF=<rows> to measure")
	}
	for _, batch := range []int{1, 100} {
		var rates [2]float64
		for i, withChain := range []bool{false, true} {
			e := chaintest.New(t)
			opts := ingest.Options{Now: func() time.Time { return e.Now }}
			if withChain {
				opts = chain.New(e.DB, zerolog.Nop()).Options(opts)
			} else {
				// Same observer cost (ids resolved), no chain.
				opts.BeforeCommit = func(context.Context, *sql.Tx, []ingest.Created) error { return nil }
			}
			p := ingest.New(e.DB, vtiger.NewDirectory(e.DB, zerolog.Nop()), zerolog.Nop(), opts)
			if _, err := p.Start(e.Ctx); err != nil {
				t.Fatal(err)
			}
			e.Proc = p
			ids := make([]uint64, n)
			for j := range ids {
				ids[j] = e.WriteIntake(chaintest.Intake{Kind: tracker.TypeListviewExport, OccurredAt: e.Now.Add(time.Duration(j) * time.Millisecond),
					UserID: 5, Module: "Contacts", RecordCount: j, ClientIP: "10.0.0.5", Details: `{"mode":"ExportAllData"}`})
			}
			start := time.Now()
			for j := 0; j < n; j += batch {
				var txn = chaintest.Txn(e.Now)
				for k := j; k < min(j+batch, n); k++ {
					txn.Changes = append(txn.Changes, chaintest.InsertChange(ids[k]))
				}
				e.Apply(txn)
			}
			took := time.Since(start)
			rates[i] = float64(n) / took.Seconds()
			if withChain {
				mustOK(t, e.Verify(chain.VerifyOptions{}))
			}
		}
		t.Logf("batch %3d: %d events: without chain %.0f events/s, with chain %.0f events/s, ratio %.2f", batch, n, rates[0], rates[1], rates[1]/rates[0])
	}
}

// TestVerifyOfAMillionEvents times verify over DXT_CHAIN_1M events
// (e.g. 1000000), linked by adoption (the same encoding as the hook's).
func TestVerifyOfAMillionEvents(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DXT_CHAIN_1M"))
	if n <= 0 {
		t.Skip("set DXT_CHAIN_1M=<events> to measure")
	}
	e := chaintest.New(t)
	start := time.Now()
	u, m, ip, ua := "jsmith", "Contacts", "10.0.0.5", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"
	batch := make([]tracker.NewEvent, 0, 10000)
	for i := 0; i < n; i++ {
		rc := int64(i % 5000)
		batch = append(batch, tracker.NewEvent{OccurredAt: e.Now.Add(time.Duration(i) * time.Millisecond), Type: tracker.TypeListviewExport,
			UserName: &u, Module: &m, RecordCount: &rc, IP: &ip, UserAgent: &ua, Source: tracker.SourceProbe,
			Details:   map[string]any{"intake_id": i, "mode": "ExportAllData", "viewname": "All", "rules": []any{map[string]any{"rule": "default", "severity": "medium"}}},
			DedupeKey: "perf:" + strconv.Itoa(i)})
		if len(batch) == cap(batch) || i == n-1 {
			if err := tracker.InsertEvents(e.Ctx, e.DB, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	t.Logf("inserted %d events in %s", n, time.Since(start).Round(time.Second))
	e.Exec(`UPDATE dxt_chain_head SET adopt_upto = (SELECT MAX(id) FROM dxt_event)`)
	start = time.Now()
	if _, err := chain.Adopt(e.Ctx, e.DB, 5000); err != nil {
		t.Fatal(err)
	}
	t.Logf("linked %d events in %s", n, time.Since(start).Round(time.Second))
	rep := e.Verify(chain.VerifyOptions{})
	mustOK(t, rep)
	t.Logf("verify: %d links, %d events in %s (%.0f events/s; links walked in %s)", rep.Links, rep.Events, rep.Took.Round(time.Millisecond),
		float64(rep.Events)/rep.Took.Seconds(), rep.ChainTook.Round(time.Millisecond))
}

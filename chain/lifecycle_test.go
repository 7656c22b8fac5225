package chain_test

import (
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/chain"
	"github.com/dxtracker/dxtracker/chain/chaintest"
	"github.com/dxtracker/dxtracker/notify"
	"github.com/dxtracker/dxtracker/retention"
	"github.com/dxtracker/dxtracker/tracker"
)

func purgeSettings(days, batch, contentMB int64) tracker.Settings {
	s := tracker.ParseSettings(nil)
	s.RetentionDays, s.RetentionBatch, s.ContentMaxMB = days, batch, contentMB
	return s
}

// oldAndNew writes the scenario 400 days ago and again now: 8 events to
// purge, 8 to keep.
func oldAndNew(e *chaintest.Env) {
	now := e.Now
	e.Now = now.AddDate(0, 0, -400)
	e.Scenario()
	e.Now = now
	e.Scenario()
}

func TestRetentionPurgeDeletesLinksUpToAnAnchorAndTheChainStillVerifies(t *testing.T) {
	e := chaintest.New(t)
	oldAndNew(e)
	mustOK(t, e.Verify(chain.VerifyOptions{}))
	p := retention.New(e.DB, zerolog.Nop(), retention.Options{BatchPause: -1})
	rep, err := p.PurgeNow(e.Ctx, purgeSettings(365, 3, 0))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Age.EventsDeleted != 8 {
		t.Fatalf("purged %d events, want 8", rep.Age.EventsDeleted)
	}
	v := e.Verify(chain.VerifyOptions{})
	mustOK(t, v)
	anchorSeq := e.Int(`SELECT COALESCE(MAX(chain_seq), 0) FROM dxt_purge`)
	if anchorSeq == 0 || v.Anchor.Seq != uint64(anchorSeq) {
		t.Fatalf("purge recorded anchor %d, verify started at %d", anchorSeq, v.Anchor.Seq)
	}
	if first := e.Int(`SELECT MIN(seq) FROM dxt_chain`); first != anchorSeq+1 {
		t.Fatalf("chain starts at %d after anchor %d", first, anchorSeq)
	}
	if v.Events != 8 {
		t.Fatalf("verified %d events after the purge, want 8", v.Events)
	}
	// The chain goes on after the purge.
	e.Now = e.Now.Add(time.Hour)
	e.Scenario()
	mustOK(t, e.Verify(chain.VerifyOptions{}))
}

// A purge never prunes the evidence of an event deleted behind the
// daemon's back.
func TestRetentionPurgeKeepsTheEvidenceOfADeletedEvent(t *testing.T) {
	e := chaintest.New(t)
	oldAndNew(e)
	victim := e.Int(`SELECT id FROM dxt_event ORDER BY id LIMIT 1 OFFSET 10`)
	e.Exec(`DELETE FROM dxt_event WHERE id = ?`, victim)
	p := retention.New(e.DB, zerolog.Nop(), retention.Options{BatchPause: -1})
	if _, err := p.PurgeNow(e.Ctx, purgeSettings(365, 3, 0)); err != nil {
		t.Fatal(err)
	}
	rep := e.Verify(chain.VerifyOptions{})
	if rep.OK() || rep.Problems[0].Kind != chain.ProblemDeleted || rep.Problems[0].EventID != uint64(victim) {
		t.Fatalf("after the purge: %v; want event %d reported deleted", rep.Problems, victim)
	}
}

func TestContentCapAppendsLinksAndTheChainStillVerifies(t *testing.T) {
	e := chaintest.New(t)
	e.Scenario()
	big := func() []byte {
		b := make([]byte, 700<<10) // incompressible: stored size ~ original
		rand.Read(b)
		return b
	}
	var ids []uint64
	for i := 0; i < 2; i++ {
		ids = append(ids, e.WriteIntake(chaintest.Intake{Kind: tracker.TypeListviewExport, OccurredAt: e.Now.Add(time.Duration(i) * time.Hour),
			UserID: 5, Module: "Contacts", RecordCount: 1000, ClientIP: "10.0.0.5", ContentName: "big.csv", Content: big()}))
	}
	e.Apply(chaintest.Txn(e.Now, chaintest.InsertChange(ids[0]), chaintest.InsertChange(ids[1])))
	mustOK(t, e.Verify(chain.VerifyOptions{}))

	p := retention.New(e.DB, zerolog.Nop(), retention.Options{BatchPause: -1})
	rep, err := p.PurgeNow(e.Ctx, purgeSettings(365, 1000, 1))
	if err != nil {
		t.Fatal(err)
	}
	if rep.ContentCap == nil || rep.ContentCap.EventsUpdated == 0 {
		t.Fatalf("the content cap changed no event: %+v", rep.ContentCap)
	}
	mustOK(t, e.Verify(chain.VerifyOptions{}))
	if n := e.Int(`SELECT COUNT(*) FROM dxt_chain l JOIN dxt_event e ON e.chain_seq = l.seq
WHERE l.op = 'update' AND e.content_id IS NULL AND e.details LIKE '%content_purged%'`); n != rep.ContentCap.EventsUpdated {
		t.Fatalf("%d update links for the %d events the content cap changed", n, rep.ContentCap.EventsUpdated)
	}
}

func TestRestartedHookContinuesTheChain(t *testing.T) {
	e := chaintest.New(t)
	e.Scenario()
	head := e.Verify(chain.VerifyOptions{}).HeadSeq
	e.Restart()
	e.Now = e.Now.Add(time.Hour)
	e.Scenario()
	rep := e.Verify(chain.VerifyOptions{})
	mustOK(t, rep)
	if rep.HeadSeq <= head || rep.Events != 16 {
		t.Fatalf("after restart: head %d (was %d), %d events", rep.HeadSeq, head, rep.Events)
	}
}

// An upgraded installation: events written before schema version 5 are
// linked once (op adopt) when the daemon starts; an event written later
// outside the daemon is never adopted.
func TestEventsOlderThanTheChainAreAdoptedOnceAndLaterForgeriesAreNot(t *testing.T) {
	e := chaintest.New(t)
	legacy := []tracker.NewEvent{}
	for i := 0; i < 3; i++ {
		u := "jsmith"
		legacy = append(legacy, tracker.NewEvent{OccurredAt: e.Now.Add(-time.Hour), Type: tracker.TypeListviewExport, UserName: &u,
			Source: tracker.SourceProbe, Details: map[string]any{"n": i}, DedupeKey: "legacy:" + string(rune('a'+i))})
	}
	if err := tracker.InsertEvents(e.Ctx, e.DB, legacy); err != nil {
		t.Fatal(err)
	}
	// What an upgrade from version 4 does: version 5 runs with events present.
	e.Exec(`DELETE FROM dxt_chain_head`)
	e.Exec(`DELETE FROM dxt_schema_version WHERE version = 5`)
	if _, err := tracker.Migrate(e.Ctx, e.DB); err != nil {
		t.Fatal(err)
	}
	rep := e.Verify(chain.VerifyOptions{})
	if rep.OK() || rep.Problems[0].Kind != chain.ProblemUnadopted {
		t.Fatalf("before the daemon ran: %v; want unadopted events", rep.Problems)
	}
	e.Restart()
	e.Scenario()
	mustOK(t, e.Verify(chain.VerifyOptions{}))
	if n := e.Int(`SELECT COUNT(*) FROM dxt_chain WHERE op = 'adopt'`); n != 3 {
		t.Fatalf("%d adopt links, want 3", n)
	}
	u := "mallory"
	if err := tracker.InsertEvents(e.Ctx, e.DB, []tracker.NewEvent{{OccurredAt: e.Now, Type: tracker.TypeCopy, UserName: &u,
		Source: tracker.SourceProbe, DedupeKey: "forged"}}); err != nil {
		t.Fatal(err)
	}
	e.Restart()
	rep = e.Verify(chain.VerifyOptions{})
	if rep.OK() || rep.Problems[0].Kind != chain.ProblemInserted {
		t.Fatalf("forged event after the chain: %v; want inserted", rep.Problems)
	}
}

func TestDailyAnchorIsEnqueuedOncePerDayToMailAndWebhook(t *testing.T) {
	e := chaintest.New(t)
	e.Scenario()
	s := tracker.ParseSettings(nil)
	s.NotifyAdminEmail = []string{"sec@example.com", "SEC@example.com"}
	s.NotifyWebhookURL = "https://hooks.example.com/dxt"
	woke := 0
	a := chain.NewAnchorer(e.DB, func() tracker.Settings { return s }, zerolog.Nop(), chain.AnchorOptions{Wake: func() { woke++ }, Database: "vtiger"})
	n, err := a.AnchorNow(e.Ctx, "2026-12-05")
	if err != nil || n != 2 || woke != 1 {
		t.Fatalf("first anchor of the day: %d rows, err %v, woke %d; want 2 rows (one address, one webhook)", n, err, woke)
	}
	if n, err := a.AnchorNow(e.Ctx, "2026-12-05"); err != nil || n != 0 {
		t.Fatalf("second anchor of the day: %d rows, err %v", n, err)
	}
	head := e.Verify(chain.VerifyOptions{})
	var payload string
	if err := e.DB.QueryRowContext(e.Ctx, `SELECT payload FROM dxt_outbox WHERE kind = ? AND channel = 'webhook'`, notify.KindAnchor).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	var p struct {
		Anchor notify.AnchorData `json:"anchor"`
	}
	if err := json.Unmarshal([]byte(payload), &p); err != nil {
		t.Fatal(err)
	}
	if p.Anchor.HeadSeq != head.HeadSeq || p.Anchor.HeadHash != head.HeadHash || !strings.Contains(p.Anchor.Verify, head.HeadHash) {
		t.Fatalf("anchor %+v, head %d %s", p.Anchor, head.HeadSeq, head.HeadHash)
	}
	// The anchor's own command line checks out.
	exp, err := chain.ParseExpected(strings.TrimPrefix(p.Anchor.Verify, "dxtracker verify --anchor "))
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, e.Verify(chain.VerifyOptions{Expect: []chain.ExpectedLink{exp}}))

	e.Exec(`INSERT INTO dxt_config (name, value, updated_at) VALUES ('anchor_enabled', '0', UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE value = '0'`)
	if n, err := a.AnchorNow(e.Ctx, "2026-12-06"); err != nil || n != 0 {
		t.Fatalf("anchor_enabled=0: %d rows, err %v", n, err)
	}
}

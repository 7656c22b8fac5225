package ingest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/tracker"
)

var nonce int

// beaconIntake is a copy row as the daemon's beacon writer stores it.
func beaconIntake(at time.Time, user int, text string) intake {
	nonce++
	sum := sha256.Sum256([]byte(text))
	d, _ := json.Marshal(map[string]any{"beacon_id": fmt.Sprintf("%032x", nonce), "via": "beacon", "action": "copy",
		"url": "https://crm.example.com/index.php?module=Contacts&view=List", "view": "List", "record": nil,
		"chars": len([]rune(text)), "rows": 1, "truncated": false, "client_ts": 1733300000000, "text_sha256": hex.EncodeToString(sum[:])})
	return intake{Kind: tracker.TypeCopy, OccurredAt: at, UserID: user, Module: "Contacts", RecordCount: 1, ClientIP: "10.0.0.5",
		UserAgent: "Mozilla/5.0", Details: string(d), ContentName: "copied-text.txt", ContentType: "text/plain; charset=utf-8", Content: []byte(text)}
}

func contextMenuIntake(at time.Time, user int) intake {
	nonce++
	return intake{Kind: "contextmenu", OccurredAt: at, UserID: user, Module: "Contacts", ClientIP: "10.0.0.5",
		Details: fmt.Sprintf(`{"beacon_id":"%032x","via":"beacon","action":"contextmenu","chars":3,"rows":0,"truncated":false}`, nonce)}
}

// eventOf returns the event an intake row was marked with.
func (e *env) eventOf(intakeID uint64) (uint64, string) {
	e.t.Helper()
	var ev *uint64
	var note *string
	if err := e.db.QueryRowContext(e.ctx, `SELECT event_id, process_note FROM dxt_intake WHERE id = ? AND processed_at IS NOT NULL`, intakeID).Scan(&ev, &note); err != nil {
		e.t.Fatalf("intake %d not processed: %v", intakeID, err)
	}
	var id uint64
	if ev != nil {
		id = *ev
	}
	return id, str(note)
}

func TestIdenticalCopiesWithinTwoSecondsAreOneEventWithARepeatCount(t *testing.T) {
	for _, mode := range []string{"one batch", "one batch each"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			t0 := e.now
			rows := []intake{
				beaconIntake(t0, 5, "Mary Smith"),
				beaconIntake(t0.Add(1500*time.Millisecond), 5, "Mary Smith"), // double Ctrl+C
				beaconIntake(t0.Add(3000*time.Millisecond), 5, "Mary Smith"), // 1.5s after the previous: still the same
				beaconIntake(t0.Add(3100*time.Millisecond), 5, "John Doe"),   // other text
				beaconIntake(t0.Add(3200*time.Millisecond), 6, "Mary Smith"), // other user
				beaconIntake(t0.Add(10*time.Second), 5, "Mary Smith"),        // later: a new copy
			}
			var ids []uint64
			var changes []binlog.RowChange
			for _, r := range rows {
				id := e.writeIntake(r)
				ids = append(ids, id)
				changes = append(changes, insertChange(id))
				if mode == "one batch each" {
					e.apply(txn(e.now, insertChange(id)))
				}
			}
			if mode == "one batch" {
				e.apply(txn(e.now, changes...))
			}
			evs := e.events(tracker.EventFilter{Type: tracker.TypeCopy})
			if len(evs) != 4 {
				t.Fatalf("%d copy events, want 4", len(evs))
			}
			first, _ := e.eventOf(ids[0])
			for _, i := range []int{1, 2} {
				if got, note := e.eventOf(ids[i]); got != first || note == "" {
					t.Errorf("repeat %d: event %d note %q, want event %d", i, got, note, first)
				}
			}
			for _, i := range []int{3, 4, 5} {
				if got, _ := e.eventOf(ids[i]); got == first || got == 0 {
					t.Errorf("row %d went to event %d", i, got)
				}
			}
			for _, ev := range evs {
				d := details(t, ev)
				if ev.ID == first {
					if d["repeat_count"] != float64(3) || d["last_repeat_at"] != t0.Add(3*time.Second).Format(time.RFC3339Nano) {
						t.Errorf("merged event details %s", ev.Details)
					}
				} else if _, ok := d["repeat_count"]; ok {
					t.Errorf("event %d has a repeat count: %s", ev.ID, ev.Details)
				}
			}
			// The merged rows' text was not stored a second time.
			if n := e.count(`SELECT COUNT(*) FROM dxt_content`); n != 4 {
				t.Errorf("%d contents for 4 events", n)
			}
			if n := e.count(`SELECT COUNT(*) FROM dxt_intake_chunk`); n != 0 {
				t.Errorf("%d intake chunks left", n)
			}
		})
	}
}

func TestContextMenuHintMarksTheCopyThatFollowsAndAloneIsNoEvent(t *testing.T) {
	e := newEnv(t)
	t0 := e.now
	hint := e.writeIntake(contextMenuIntake(t0, 5))
	viaMenu := e.writeIntake(beaconIntake(t0.Add(1200*time.Millisecond), 5, "copied with the menu"))
	lonely := e.writeIntake(contextMenuIntake(t0.Add(time.Minute), 5))
	later := e.writeIntake(beaconIntake(t0.Add(time.Minute+20*time.Second), 5, "copied with the keys"))
	otherUser := e.writeIntake(beaconIntake(t0.Add(1500*time.Millisecond), 6, "mjones copies"))
	e.apply(txn(e.now, insertChange(hint), insertChange(viaMenu)))
	e.apply(txn(e.now, insertChange(lonely), insertChange(later), insertChange(otherUser)))

	evs := e.events(tracker.EventFilter{})
	if len(evs) != 3 {
		t.Fatalf("%d events, want the 3 copies only", len(evs))
	}
	for _, id := range []uint64{hint, lonely} {
		if ev, note := e.eventOf(id); ev != 0 || note == "" {
			t.Errorf("contextmenu row %d: event %d note %q", id, ev, note)
		}
	}
	for _, ev := range evs {
		d := details(t, ev)
		want := ""
		if d["intake_id"] == float64(viaMenu) {
			want = "context_menu"
		}
		if got, _ := d["via"].(string); got != want {
			t.Errorf("event of intake %v: via %q, want %q", d["intake_id"], got, want)
		}
	}
}

func TestRelayRowBecomesTheSameEventShapeAsABeacon(t *testing.T) {
	e := newEnv(t)
	text := "Jane\tRoe\n"
	fromBeacon := e.writeIntake(beaconIntake(e.now, 5, text))
	// What the extension's Dxt_RelayWriter writes (CONTRACTS §5).
	relay := e.writeIntake(intake{Kind: tracker.TypeCopy, OccurredAt: e.now.Add(10 * time.Second), UserID: 5, Module: "Contacts", RecordCount: 1,
		ClientIP: "10.0.0.5", UserAgent: "Mozilla/5.0",
		Details:     `{"via":"relay","action":"copy","url":"https://crm.example.com/index.php?module=Contacts&view=List","view":"List","record":null,"chars":9,"rows":1,"truncated":false,"client_ts":1733300000000}`,
		ContentName: "copied-text.txt", ContentType: "text/plain; charset=utf-8", Content: []byte(text)})
	e.apply(txn(e.now, insertChange(fromBeacon), insertChange(relay)))

	byIntake := map[uint64]tracker.Event{}
	for _, ev := range e.events(tracker.EventFilter{}) {
		id, _ := e.eventOf(uint64(details(t, ev)["intake_id"].(float64)))
		if id != ev.ID {
			t.Fatalf("intake/event link broken for event %d", ev.ID)
		}
		byIntake[uint64(details(t, ev)["intake_id"].(float64))] = ev
	}
	b, r := byIntake[fromBeacon], byIntake[relay]
	if b.Source != tracker.SourceBeacon || r.Source != tracker.SourceProbe {
		t.Errorf("sources %q %q", b.Source, r.Source)
	}
	if b.Type != r.Type || str(b.UserName) != str(r.UserName) || str(b.Module) != str(r.Module) || *b.RecordCount != *r.RecordCount ||
		str(b.IP) != str(r.IP) || b.HasContent != r.HasContent || str(b.ContentName) != str(r.ContentName) {
		t.Errorf("columns differ:\nbeacon %+v\nrelay  %+v", b, r)
	}
	db, dr := details(t, b), details(t, r)
	if db["channel"] != "beacon" || dr["channel"] != "relay" {
		t.Errorf("channels %v %v", db["channel"], dr["channel"])
	}
	if keys(db) != keys(dr) {
		t.Errorf("detail keys differ:\nbeacon %s\nrelay  %s", keys(db), keys(dr))
	}
	for _, k := range []string{"action", "url", "view", "chars", "rows", "truncated", "text_sha256", "client_ts"} {
		if fmt.Sprint(db[k]) != fmt.Sprint(dr[k]) {
			t.Errorf("details[%s]: beacon %v relay %v", k, db[k], dr[k])
		}
	}
	gb, _ := e.content(b)
	gr, _ := e.content(r)
	if string(gb) != text || string(gr) != text {
		t.Errorf("contents %q %q", gb, gr)
	}
}

func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		if k != "intake_id" {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return fmt.Sprint(ks)
}

func TestTakeOutFromAnotherAddressThanTheLoginIsFlagged(t *testing.T) {
	e := newEnv(t)
	// jsmith's newest 'Signed in' row of vtiger_loginhistory is 10.0.0.5.
	elsewhere := e.writeIntake(intake{Kind: tracker.TypeListviewExport, UserID: 5, Module: "Contacts", RecordCount: 9, ClientIP: "192.0.2.7"})
	same := e.writeIntake(intake{Kind: tracker.TypeListviewExport, UserID: 5, Module: "Contacts", RecordCount: 9, ClientIP: "::ffff:10.0.0.5"})
	noIP := e.writeIntake(intake{Kind: tracker.TypeReportExport, UserID: 5, Module: "Contacts"})
	copyElsewhere := e.writeIntake(func() intake { in := beaconIntake(e.now, 5, "x"); in.ClientIP = "203.0.113.9"; return in }())
	e.apply(txn(e.now, insertChange(elsewhere), insertChange(same), insertChange(noIP), insertChange(copyElsewhere)))
	for _, c := range []struct {
		intake   uint64
		mismatch bool
	}{{elsewhere, true}, {same, false}, {noIP, false}, {copyElsewhere, true}} {
		id, _ := e.eventOf(c.intake)
		ev, ok, err := tracker.GetEvent(e.ctx, e.db, id)
		if err != nil || !ok {
			t.Fatal(err)
		}
		d := details(t, ev)
		if (d["ip_mismatch"] == true) != c.mismatch || (c.mismatch && d["login_ip"] != "10.0.0.5") {
			t.Errorf("intake %d (ip %s): details %s", c.intake, str(ev.IP), ev.Details)
		}
	}
}

func TestCopyMergedAfterARestartIsStillExactlyOnce(t *testing.T) {
	e := newEnv(t)
	a := e.writeIntake(beaconIntake(e.now, 5, "same"))
	e.apply(txn(e.now, insertChange(a)))
	b := e.writeIntake(beaconIntake(e.now.Add(time.Second), 5, "same"))
	// The binlog of b is gone: reconciliation from the table finds it.
	if _, err := e.p.ReconcileIntake(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.apply(txn(e.now, insertChange(b))) // a replay changes nothing
	if _, err := e.p.ReconcileIntake(e.ctx); err != nil {
		t.Fatal(err)
	}
	evs := e.events(tracker.EventFilter{})
	if len(evs) != 1 || details(t, evs[0])["repeat_count"] != float64(2) {
		t.Fatalf("events %d, details %s", len(evs), evs[0].Details)
	}
}

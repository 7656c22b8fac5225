package ingest_test

import (
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/tracker"
)

// scheduleRow is report 26's row as the binlog shows it.
func scheduleRow(next time.Time, recipients string) binlog.Row {
	return binlog.Row{
		"reportid": int32(26), "scheduleid": int8(1), "recipients": []byte(recipients),
		"schdate": nil, "schtime": "09:00:00", "schdayoftheweek": nil, "schdayofthemonth": nil, "schannualdates": nil,
		"specificemails": `"reports@example.com,boss@partner.example.org"`, "next_trigger_time": next.UTC().Format("2006-01-02 15:04:05"),
		"fileformat": "CSV",
	}
}

func deliveryChange(prev, next time.Time) binlog.RowChange {
	return binlog.RowChange{Table: "vtiger_schedulereports", Action: binlog.Update,
		Before: scheduleRow(prev, `["USER::1","USER::5"]`), After: scheduleRow(next, `["USER::1","USER::5"]`)}
}

func TestScheduledDeliveryBecomesEventWithResolvedRecipients(t *testing.T) {
	e := newEnv(t)
	prev := e.now.Add(-time.Hour)
	e.apply(txn(e.now, deliveryChange(prev, prev.Add(24*time.Hour))))

	evs := e.events(tracker.EventFilter{Type: tracker.TypeScheduledReport})
	if len(evs) != 1 {
		t.Fatalf("%d scheduled_report events, want 1", len(evs))
	}
	ev := evs[0]
	d := details(t, ev)
	if ev.Source != tracker.SourceBinlog || ev.RecordCount != nil || str(ev.Module) != "Contacts" || d["report_name"] != "Lab Contacts Export Report" || d["format"] != "CSV" {
		t.Fatalf("event %+v details %v", ev, d)
	}
	emails := map[string]bool{}
	external := 0
	for _, r := range d["recipients"].([]any) {
		m := r.(map[string]any)
		emails[m["email"].(string)] = true
		if m["external"] == true {
			external++
		}
	}
	for _, want := range []string{"admin@example.com", "jsmith@example.com", "reports@example.com", "boss@partner.example.org"} {
		if !emails[want] {
			t.Errorf("recipient %s missing from %v", want, emails)
		}
	}
	if external != 1 {
		t.Errorf("%d external recipients flagged, want 1 (partner.example.org)", external)
	}

	// The same change again (a replay after a crash) is no second delivery.
	e.apply(txn(e.now, deliveryChange(prev, prev.Add(24*time.Hour))))
	if n := e.count(`SELECT COUNT(*) FROM dxt_event`); n != 1 {
		t.Fatalf("%d events after replay", n)
	}
}

func TestScheduleEditByAdminIsNotADelivery(t *testing.T) {
	e := newEnv(t)
	prev := e.now.Add(-time.Hour)
	edit := binlog.RowChange{Table: "vtiger_schedulereports", Action: binlog.Update,
		Before: scheduleRow(prev, `["USER::1"]`), After: scheduleRow(prev.Add(24*time.Hour), `["USER::1","USER::5"]`)}
	future := binlog.RowChange{Table: "vtiger_schedulereports", Action: binlog.Update,
		Before: scheduleRow(e.now.Add(time.Hour), `["USER::1"]`), After: scheduleRow(e.now.Add(25*time.Hour), `["USER::1"]`)}
	e.apply(txn(e.now, edit), txn(e.now, future))
	if n := e.count(`SELECT COUNT(*) FROM dxt_event`); n != 0 {
		t.Fatalf("%d events for edits, want 0", n)
	}
}

func TestProbeCaptureMergesIntoBinlogDeliveryInEitherOrder(t *testing.T) {
	for _, probeFirst := range []bool{false, true} {
		name := "binlog first"
		if probeFirst {
			name = "probe first"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			prev := e.now.Add(-time.Minute)
			id := e.writeIntake(intake{Kind: tracker.TypeScheduledReport, OccurredAt: e.now.Add(30 * time.Second), UserID: 1, Module: "Contacts",
				RecordCount: 50, Details: `{"report_id":26,"format":"CSV"}`, ContentName: "Lab Contacts Export Report.csv", Content: []byte("a\n1\n")})
			delivery := txn(e.now, deliveryChange(prev, prev.Add(24*time.Hour)))
			probe := txn(e.now.Add(30*time.Second), insertChange(id))
			if probeFirst {
				e.apply(probe)
				e.apply(delivery)
			} else {
				e.apply(delivery)
				e.apply(probe)
			}
			evs := e.events(tracker.EventFilter{})
			if len(evs) != 1 {
				t.Fatalf("%d events, want one merged event", len(evs))
			}
			ev := evs[0]
			d := details(t, ev)
			if !tracker.HasSource(ev.Source, "binlog") || !tracker.HasSource(ev.Source, "probe") || ev.RecordCount == nil || *ev.RecordCount != 50 || !ev.HasContent || d["recipients"] == nil {
				t.Fatalf("merged event %+v details %v", ev, d)
			}
			if ev.IP != nil {
				t.Errorf("a cron delivery got the IP %s from someone's login history", *ev.IP)
			}
			var eventID uint64
			e.db.QueryRowContext(e.ctx, `SELECT event_id FROM dxt_intake WHERE id = ?`, id).Scan(&eventID)
			if eventID != ev.ID {
				t.Fatalf("intake points at event %d, want %d", eventID, ev.ID)
			}
		})
	}
}

func TestProbeCaptureOutsideWindowStandsAlone(t *testing.T) {
	e := newEnv(t)
	prev := e.now.Add(-time.Minute)
	e.apply(txn(e.now, deliveryChange(prev, prev.Add(24*time.Hour))))
	id := e.writeIntake(intake{Kind: tracker.TypeScheduledReport, OccurredAt: e.now.Add(3 * time.Hour), UserID: 1, RecordCount: 50, Details: `{"report_id":26}`})
	e.apply(txn(e.now.Add(3*time.Hour), insertChange(id)))
	if n := e.count(`SELECT COUNT(*) FROM dxt_event`); n != 2 {
		t.Fatalf("%d events, want 2 separate runs", n)
	}
}

func TestReconcileAfterPurgeInfersMissedDelivery(t *testing.T) {
	e := newEnv(t)
	// Start() recorded the baseline; the cron then ran while the binlog was lost.
	var next time.Time
	e.db.QueryRowContext(e.ctx, `SELECT next_trigger_time FROM vtiger_schedulereports WHERE reportid = 26`).Scan(&next)
	if next.After(e.now) {
		t.Skip("seed trigger time is in the future")
	}
	if _, err := e.db.ExecContext(e.ctx, `UPDATE vtiger_schedulereports SET next_trigger_time = ? WHERE reportid = 26`, next.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := e.p.Resync(e.ctx, binlog.Position{File: "binlog.000001", Pos: 4}, binlog.Position{File: "binlog.000009", Pos: 4}); err != nil {
		t.Fatal(err)
	}
	evs := e.events(tracker.EventFilter{Type: tracker.TypeScheduledReport})
	if len(evs) != 1 || details(t, evs[0])["reconstructed"] == nil {
		t.Fatalf("events %+v", evs)
	}
	// Seeing the same change in a binlog later does not count it twice.
	e.apply(txn(e.now, deliveryChange(next, next.Add(24*time.Hour))))
	if n := e.count(`SELECT COUNT(*) FROM dxt_event`); n != 1 {
		t.Fatalf("%d events", n)
	}
}

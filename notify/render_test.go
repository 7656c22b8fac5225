package notify_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/notify"
	"github.com/dxtracker/dxtracker/tracker"
)

func TestSubjectsNameWhoWhatAndHowMuchInBothLanguages(t *testing.T) {
	r := notify.NewRenderer("")
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sched, _ := json.Marshal(map[string]any{"report_name": "X", "external_recipients": 1,
		"recipients": []map[string]any{{"email": "a@c.com"}, {"email": "b@c.com"}, {"email": "x@o.net", "external": true}}})
	cases := []struct {
		ev     tracker.Event
		en, ja string
	}{
		{tracker.Event{ID: 1, OccurredAt: at, Type: tracker.TypeListviewExport, UserName: strp("jsmith"), Module: strp("Contacts"), RecordCount: i64(3120)},
			"jsmith exported 3,120 Contacts", "jsmith が Contacts を 3,120 件エクスポートしました"},
		{tracker.Event{ID: 2, OccurredAt: at, Type: tracker.TypeCopy, UserName: strp("jsmith"), Module: strp("Contacts"), RecordCount: i64(17)},
			"jsmith copied 17 rows from Contacts", "jsmith が Contacts から 17 行をコピーしました"},
		{tracker.Event{ID: 3, OccurredAt: at, Type: tracker.TypeScheduledReport, UserName: strp("admin"), Module: strp("Contacts"), RecordCount: i64(1200), Details: sched},
			`Scheduled report "X" sent 1,200 Contacts to 3 recipients (1 external)`, "スケジュールレポート「X」が Contacts 1,200 件を 3 名に送信しました（社外 1 名）"},
		{tracker.Event{ID: 4, OccurredAt: at, Type: tracker.TypeReportExport, Module: strp("Leads")},
			"unknown exported Leads", "不明 が Leads をエクスポートしました"},
	}
	for _, c := range cases {
		for l, want := range map[string]string{notify.LangEnglish: c.en, notify.LangJapanese: c.ja} {
			got, err := r.Event(l, c.ev, nil, "")
			if err != nil {
				t.Fatal(err)
			}
			if got.Subject != "[Data Export Tracker] "+want {
				t.Errorf("%s subject %q, want %q", l, got.Subject, want)
			}
		}
	}
}

func TestEventLinkOpensTheTrackingLogAtTheEvent(t *testing.T) {
	r := notify.NewRenderer("https://crm.example.com/")
	ev := tracker.Event{ID: 41, OccurredAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), UserName: strp("j smith&x")}
	link := r.EventLink(ev)
	for _, want := range []string{"https://crm.example.com/index.php?", "module=DataExportTracker", "parent=Settings", "view=Index", "tab=logs", "dxt_user=j+smith%26x", "after="} {
		if !strings.Contains(link, want) {
			t.Errorf("link %q lacks %q", link, want)
		}
	}
	if notify.NewRenderer("").EventLink(ev) != "" {
		t.Error("a link without vtiger_url")
	}
}

func TestSubjectOfHostileValuesIsOneLine(t *testing.T) {
	r := notify.NewRenderer("")
	ev := tracker.Event{ID: 1, Type: tracker.TypeListviewExport, UserName: strp("a\r\nSubject: x\u202e"), Module: strp("M\tN"), RecordCount: i64(1)}
	got, err := r.Event(notify.LangEnglish, ev, []notify.Match{{Rule: "<b>r</b>", Reason: "x\ny"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(got.Subject, "\r\n\t\u202e") {
		t.Errorf("subject %q", got.Subject)
	}
	if strings.Contains(got.HTML, "<b>r</b>") {
		t.Error("rule name not escaped in HTML")
	}
}

package vtiger

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
)

// TestCompatibilityWithARealVtiger8Database runs the Directory against the
// dump of a real Vtiger 8.0.0 install (../shared/fixtures), whose report 26
// is scheduled to ["USER::1","USER::5"] and reports@example.com.
func TestCompatibilityWithARealVtiger8Database(t *testing.T) {
	t.Parallel()
	dump := filepath.Join(sandboxtest.FixturesDir(t), "vtiger8-fixture.sql.gz")
	srv := sandboxtest.Server(t)
	dsn := sandboxtest.NewDatabase(t)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := sandbox.LoadSQLGzipFile(ctx, srv, cfg.DBName, dump); err != nil {
		t.Fatal(err)
	}
	d := NewDirectory(openDB(t, dsn), zerolog.Nop())

	t.Run("report 26 is mailed to admin, jsmith and reports@example.com", func(t *testing.T) {
		s, ok, err := d.Schedule(ctx, 26)
		if err != nil || !ok {
			t.Fatalf("Schedule(26) = %v, %v", ok, err)
		}
		domains, err := d.CompanyDomains(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.ResolveRecipients(ctx, s, domains)
		if err != nil {
			t.Fatal(err)
		}
		want := []Recipient{
			{Name: "Administrator", Email: "admin@example.com", Via: []string{"USER::1"}},
			{Name: "John Smith", Email: "jsmith@example.com", Via: []string{"USER::5"}},
			{Email: "reports@example.com", Via: []string{ViaSpecific}},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
		if DescribeSchedule(s) != "Daily at 19:24" || s.FileFormat != "CSV" || s.NextTriggerTime == nil ||
			!s.NextTriggerTime.Equal(time.Date(2026, 12, 4, 19, 24, 0, 0, time.UTC)) {
			t.Errorf("schedule %+v described as %q", s, DescribeSchedule(s))
		}
	})

	t.Run("company domains are the website's and the admins'", func(t *testing.T) {
		got, err := d.CompanyDomains(ctx, nil)
		if want := []string{"vtiger.com", "example.com"}; err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("CompanyDomains = %v, %v; want %v", got, err, want)
		}
	})

	t.Run("groups and roles of a stock install resolve", func(t *testing.T) {
		s := Schedule{ReportID: 26, Recipients: `["GROUP::2","GROUP::3","GROUP::4","ROLE::H2","RS::H1"]`}
		got, err := d.ResolveRecipients(ctx, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"admin@example.com", "mjones@example.com", "jsmith@example.com"}; !reflect.DeepEqual(emailsOf(got), want) {
			t.Errorf("got %v, want %v", emailsOf(got), want)
		}
	})

	t.Run("users, admins and access keys", func(t *testing.T) {
		u, err := d.AuthenticateAdmin(ctx, "admin", "g9drHD5dUitbk8Iz")
		if err != nil || u.ID != 1 || u.FullName() != "Administrator" || u.TimeZone != "UTC" {
			t.Errorf("admin: %+v, %v", u, err)
		}
		if _, err := d.AuthenticateAdmin(ctx, "mjones", "VsArECZSwU7vHHh"); err != nil {
			t.Errorf("mjones: %v", err)
		}
		if _, err := d.AuthenticateAdmin(ctx, "jsmith", "FD8KFVdaxDnZZwQs"); err != ErrNotAdmin {
			t.Errorf("jsmith: %v, want ErrNotAdmin", err)
		}
		if u, ok, err := d.UserByName(ctx, "jsmith"); !ok || err != nil || u.ID != 5 || u.FullName() != "John Smith" {
			t.Errorf("UserByName(jsmith) = %+v, %v, %v", u, ok, err)
		}
	})

	t.Run("modules, reports and logins", func(t *testing.T) {
		for name, want := range map[string]bool{"Contacts": true, "Reports": true, "NoSuchModule": false} {
			if got, err := d.ModuleExists(ctx, name); got != want || err != nil {
				t.Errorf("ModuleExists(%q) = %v, %v", name, got, err)
			}
		}
		r, ok, err := d.Report(ctx, 26)
		if want := (Report{ID: 26, Name: "Lab Contacts Export Report", PrimaryModule: "Contacts", FolderID: 1, Owner: 1}); !ok || err != nil || r != want {
			t.Errorf("Report(26) = %+v, %v, %v", r, ok, err)
		}
		if ip, ok, err := d.LastLoginIP(ctx, "admin"); ip != "127.0.0.1" || !ok || err != nil {
			t.Errorf("LastLoginIP(admin) = %q, %v, %v", ip, ok, err)
		}
		all, err := d.Schedules(ctx)
		if err != nil || len(all) != 1 || all[0].ReportID != 26 {
			t.Errorf("Schedules = %+v, %v", all, err)
		}
	})
}

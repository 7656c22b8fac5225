package vtiger

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestUserReturnsInactiveAndDeletedUsersWithTheirFlags(t *testing.T) {
	t.Parallel()
	d, _ := seededDirectory(t)
	ctx := ctxT(t)
	for _, c := range []struct {
		id                     int64
		name, fullName, email  string
		admin, active, deleted bool
		skippedByVtiger        bool
	}{
		{1, "admin", "Administrator", "admin@example.com", true, true, false, false},
		{5, "jsmith", "John Smith", "jsmith@example.com", false, true, false, false},
		{6, "mjones", "Mary Jones", "mjones@example.com", true, true, false, false},
		{7, "old", "Otto Old", "old@example.com", false, false, false, true},
		{8, "gone", "Gina Gone", "gone@example.com", false, false, true, true},
	} {
		u, ok, err := d.User(ctx, c.id)
		if err != nil || !ok {
			t.Fatalf("User(%d) = %v, %v", c.id, ok, err)
		}
		if u.UserName != c.name || u.FullName() != c.fullName || u.Email != c.email || u.IsAdmin != c.admin ||
			u.Active != c.active || u.Deleted != c.deleted || u.skippedByVtiger() != c.skippedByVtiger {
			t.Errorf("User(%d) = %+v", c.id, u)
		}
	}
	if _, ok, err := d.User(ctx, 404); ok || err != nil {
		t.Errorf("User(404) = %v, %v; want not found", ok, err)
	}
}

func TestUserServesFromCacheUntilInvalidateUsers(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t)
	ctx := ctxT(t)
	if _, _, err := d.User(ctx, 5); err != nil {
		t.Fatal(err)
	}
	exec(t, db, `UPDATE vtiger_users SET email1 = 'john@example.org' WHERE id = 5`)
	if u, _, _ := d.User(ctx, 5); u.Email != "jsmith@example.com" {
		t.Errorf("before invalidation: %q, want the cached address", u.Email)
	}
	d.InvalidateUsers()
	if u, _, _ := d.User(ctx, 5); u.Email != "john@example.org" {
		t.Errorf("after invalidation: %q, want the new address", u.Email)
	}
}

func TestUserCacheExpiresAfterItsTTL(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	d, db := seededDirectory(t, WithClock(clock.Now), WithCacheTTL(time.Minute))
	ctx := ctxT(t)
	if _, _, err := d.User(ctx, 5); err != nil {
		t.Fatal(err)
	}
	exec(t, db, `UPDATE vtiger_users SET last_name = 'Smythe' WHERE id = 5`)
	clock.Advance(59 * time.Second)
	if u, _, _ := d.User(ctx, 5); u.LastName != "Smith" {
		t.Errorf("within TTL: %q", u.LastName)
	}
	clock.Advance(2 * time.Second)
	if u, _, _ := d.User(ctx, 5); u.LastName != "Smythe" {
		t.Errorf("after TTL: %q", u.LastName)
	}
}

func TestUserReloadsForAnUnknownIDAtMostOncePerInterval(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	d, db := seededDirectory(t, WithClock(clock.Now))
	ctx := ctxT(t)
	if _, _, err := d.User(ctx, 1); err != nil {
		t.Fatal(err)
	}
	insertUser(t, db, 9, "newbie", "New", "Bie", "newbie@example.com", "off", "Active", "")
	clock.Advance(5 * time.Second)
	if _, ok, _ := d.User(ctx, 9); ok {
		t.Error("found 9 only 5s after the last load; the miss should not have reloaded")
	}
	clock.Advance(6 * time.Second)
	if u, ok, err := d.User(ctx, 9); !ok || err != nil || u.UserName != "newbie" {
		t.Errorf("User(9) 11s after the last load = %+v, %v, %v; want newbie", u, ok, err)
	}
}

func TestUserByNameIgnoresCase(t *testing.T) {
	t.Parallel()
	d, _ := seededDirectory(t)
	ctx := ctxT(t)
	for _, name := range []string{"jsmith", "JSmith", "jsmith "} {
		u, ok, err := d.UserByName(ctx, name)
		if err != nil || !ok || u.ID != 5 {
			t.Errorf("UserByName(%q) = %+v, %v, %v", name, u, ok, err)
		}
	}
	if _, ok, err := d.UserByName(ctx, "nobody"); ok || err != nil {
		t.Errorf("UserByName(nobody) = %v, %v", ok, err)
	}
}

func TestAuthenticateAdminAcceptsOnlyActiveAdminsWithTheirKey(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t)
	ctx := ctxT(t)
	insertUser(t, db, 9, "oldadmin", "Old", "Admin", "oa@example.com", "on", "Inactive", "Key9Key9Key9Key9")
	insertUser(t, db, 10, "nokey", "No", "Key", "nk@example.com", "on", "Active", "")
	exec(t, db, `UPDATE vtiger_users SET is_admin = 'on' WHERE id = 8`)
	for _, c := range []struct {
		name, key string
		wantID    int64
		wantErr   error
	}{
		{"admin", "g9drHD5dUitbk8Iz", 1, nil},
		{"ADMIN", "g9drHD5dUitbk8Iz", 1, nil},
		{"mjones", "VsArECZSwU7vHHh", 6, nil},
		{"admin", "g9drHD5dUitbk8IZ", 0, ErrBadCredentials},
		{"admin", "", 0, ErrBadCredentials},
		{"jsmith", "FD8KFVdaxDnZZwQs", 0, ErrNotAdmin},
		{"jsmith", "wrong", 0, ErrBadCredentials},
		{"nobody", "g9drHD5dUitbk8Iz", 0, ErrBadCredentials},
		{"oldadmin", "Key9Key9Key9Key9", 0, ErrBadCredentials},
		{"gone", "Sx8goneUserKey08", 0, ErrBadCredentials},
		{"nokey", "", 0, ErrBadCredentials},
	} {
		u, err := d.AuthenticateAdmin(ctx, c.name, c.key)
		if !errors.Is(err, c.wantErr) || (c.wantErr == nil && u.ID != c.wantID) {
			t.Errorf("AuthenticateAdmin(%q, %q) = %d, %v; want %d, %v", c.name, c.key, u.ID, err, c.wantID, c.wantErr)
		}
	}
}

func TestAuthenticateAdminRejectsAKeyChangedAMomentAgo(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t)
	ctx := ctxT(t)
	if _, err := d.AuthenticateAdmin(ctx, "admin", "g9drHD5dUitbk8Iz"); err != nil {
		t.Fatal(err)
	}
	exec(t, db, `UPDATE vtiger_users SET accesskey = 'NewKeyNewKeyNewK' WHERE id = 1`)
	if _, err := d.AuthenticateAdmin(ctx, "admin", "g9drHD5dUitbk8Iz"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("old key after the change: %v, want ErrBadCredentials", err)
	}
}

func TestModuleExistsReloadsOnAMissAtMostOncePerInterval(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	d, db := seededDirectory(t, WithClock(clock.Now))
	ctx := ctxT(t)
	for name, want := range map[string]bool{"Contacts": true, "contacts": true, "NoSuchModule": false} {
		if got, err := d.ModuleExists(ctx, name); got != want || err != nil {
			t.Errorf("ModuleExists(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	exec(t, db, `INSERT INTO vtiger_tab (tabid, name, presence, tablabel) VALUES (900, 'DataExportTracker', 0, 'Data Export Tracker')`)
	clock.Advance(9 * time.Second)
	if ok, _ := d.ModuleExists(ctx, "DataExportTracker"); ok {
		t.Error("a miss 9s after the last load reloaded the modules")
	}
	clock.Advance(2 * time.Second)
	if ok, err := d.ModuleExists(ctx, "DataExportTracker"); !ok || err != nil {
		t.Errorf("a miss 11s after the last load: %v, %v; want found", ok, err)
	}
	if label, err := d.ModuleLabel(ctx, "DataExportTracker"); label != "Data Export Tracker" || err != nil {
		t.Errorf("ModuleLabel = %q, %v", label, err)
	}
}

func TestModuleLabelReturnsTabLabelOrTheName(t *testing.T) {
	t.Parallel()
	d, _ := seededDirectory(t)
	ctx := ctxT(t)
	for name, want := range map[string]string{"Dashboard": "Dashboards", "Contacts": "Contacts", "Nope": "Nope"} {
		if got, err := d.ModuleLabel(ctx, name); got != want || err != nil {
			t.Errorf("ModuleLabel(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestLastLoginIPPrefersTheNewestSignedInRow(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t)
	ctx := ctxT(t)
	exec(t, db, `INSERT INTO vtiger_loginhistory (login_id, user_name, user_ip, login_time, status) VALUES
		(10, 'admin', '10.1.1.1', NOW(), 'Signed in'),
		(11, 'admin', '10.9.9.9', NOW(), 'Signed off'),
		(12, 'mjones', '10.2.2.2', NOW(), 'Signed off'),
		(13, 'mjones', '10.3.3.3', NOW(), 'Signed off')`)
	for name, want := range map[string]string{"admin": "10.1.1.1", "jsmith": "10.0.0.5", "mjones": "10.3.3.3"} {
		if ip, ok, err := d.LastLoginIP(ctx, name); ip != want || !ok || err != nil {
			t.Errorf("LastLoginIP(%q) = %q, %v, %v; want %q", name, ip, ok, err, want)
		}
	}
	if _, ok, err := d.LastLoginIP(ctx, "old"); ok || err != nil {
		t.Errorf("LastLoginIP(old) = %v, %v; want none", ok, err)
	}
}

func TestReportReadsNameFolderPrimaryModuleAndOwner(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t)
	ctx := ctxT(t)
	r, ok, err := d.Report(ctx, 26)
	if want := (Report{ID: 26, Name: "Lab Contacts Export Report", PrimaryModule: "Contacts", FolderID: 1, Owner: 1}); !ok || err != nil || r != want {
		t.Errorf("Report(26) = %+v, %v, %v; want %+v", r, ok, err, want)
	}
	exec(t, db, `INSERT INTO vtiger_report (reportid, folderid, reportname) VALUES (30, 2, 'Leads &amp; Deals')`)
	if r, ok, _ := d.Report(ctx, 30); !ok || r.Name != "Leads & Deals" || r.PrimaryModule != "" {
		t.Errorf("Report(30) = %+v, want the decoded name and no module", r)
	}
	if _, ok, err := d.Report(ctx, 404); ok || err != nil {
		t.Errorf("Report(404) = %v, %v", ok, err)
	}
}

func TestSchedulesReadTheTableWithTriggerTimesInUTC(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t)
	ctx := ctxT(t)
	exec(t, db, `INSERT INTO vtiger_schedulereports VALUES
		(3, 2, '["ROLE::H2"]', NULL, '08:30:00', '["1","5"]', NULL, NULL, '""', NULL, 'XLS')`)
	all, err := d.Schedules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next := time.Date(2026, 12, 4, 19, 24, 0, 0, time.UTC)
	want := []Schedule{
		{ReportID: 3, ScheduleType: 2, Recipients: `["ROLE::H2"]`, SpecificEmails: `""`, SchDayOfWeek: `["1","5"]`,
			SchTime: "08:30:00", FileFormat: "XLS"},
		{ReportID: 26, ScheduleType: 1, Recipients: `["USER::1","USER::5"]`, SpecificEmails: `"reports@example.com"`,
			SchTime: "19:24:00", NextTriggerTime: &next, FileFormat: "CSV"},
	}
	if !reflect.DeepEqual(all, want) {
		t.Errorf("Schedules =\n%+v\nwant\n%+v", all, want)
	}
	one, ok, err := d.Schedule(ctx, 26)
	if !ok || err != nil || !reflect.DeepEqual(one, want[1]) {
		t.Errorf("Schedule(26) = %+v, %v, %v", one, ok, err)
	}
	if DescribeSchedule(one) != "Daily at 19:24" || DescribeSchedule(all[0]) != "Weekly on Monday, Friday at 08:30" {
		t.Errorf("descriptions %q, %q", DescribeSchedule(one), DescribeSchedule(all[0]))
	}
	if _, ok, err := d.Schedule(ctx, 404); ok || err != nil {
		t.Errorf("Schedule(404) = %v, %v", ok, err)
	}
}

func TestCompanyDomainsComeFromTheWebsiteAndActiveAdminsUnlessConfigured(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t)
	ctx := ctxT(t)
	exec(t, db, `UPDATE vtiger_organizationdetails SET website = 'https://www.acme-corp.com/'`)
	insertUser(t, db, 9, "boss", "Big", "Boss", "boss@Acme-Mail.EU", "on", "Active", "")
	insertUser(t, db, 10, "priv", "Pri", "Vate", "someone@gmail.com", "on", "Active", "")
	insertUser(t, db, 11, "exadmin", "Ex", "Admin", "ex@former.example", "on", "Inactive", "")
	insertUser(t, db, 12, "staff", "St", "Aff", "staff@staff.example", "off", "Active", "")
	got, err := d.CompanyDomains(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"acme-corp.com", "example.com", "acme-mail.eu"}; !reflect.DeepEqual(got, want) {
		t.Errorf("CompanyDomains = %v, want %v", got, want)
	}
	got, err = d.CompanyDomains(ctx, []string{" Corp.Example ", "@corp.example", ""})
	if want := []string{"corp.example"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("configured: %v, %v; want %v", got, err, want)
	}
}

func TestDirectoryIsSafeForConcurrentLookupsAndInvalidations(t *testing.T) {
	t.Parallel()
	d, _ := seededDirectory(t)
	ctx := ctxT(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if u, ok, err := d.User(ctx, 5); err != nil || !ok || u.UserName != "jsmith" {
					errs <- fmt.Errorf("User(5) = %+v, %v, %v", u, ok, err)
					return
				}
				if ok, err := d.ModuleExists(ctx, "Contacts"); err != nil || !ok {
					errs <- fmt.Errorf("ModuleExists = %v, %v", ok, err)
					return
				}
				if j%5 == 0 {
					d.InvalidateUsers()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

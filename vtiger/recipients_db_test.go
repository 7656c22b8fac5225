package vtiger

import (
	"database/sql"
	"errors"
	"reflect"
	"strings"
	"testing"
)

var company = []string{"example.com"}

// resolveSchedule stores recipients and specificemails on report 26 and
// resolves its schedule as read back from the database.
func resolveSchedule(t *testing.T, d *Directory, db *sql.DB, recipients, specific string) ([]Recipient, error) {
	t.Helper()
	ctx := ctxT(t)
	exec(t, db, `UPDATE vtiger_schedulereports SET recipients = ?, specificemails = ? WHERE reportid = 26`, recipients, specific)
	s, ok, err := d.Schedule(ctx, 26)
	if err != nil || !ok {
		t.Fatalf("Schedule(26) = %v, %v", ok, err)
	}
	return d.ResolveRecipients(ctx, s, company)
}

func TestResolveRecipientsOfSeededReport26MailsAdminJsmithAndTheSpecificAddress(t *testing.T) {
	t.Parallel()
	d, _ := seededDirectory(t)
	ctx := ctxT(t)
	s, _, err := d.Schedule(ctx, 26)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.ResolveRecipients(ctx, s, []string{"example.com"})
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
}

func TestResolveRecipientsExpandsARoleToItsUsersWithoutInactiveOrDeletedOnes(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t)
	got, err := resolveSchedule(t, d, db, `["ROLE::H5"]`, `""`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Recipient{{Name: "John Smith", Email: "jsmith@example.com", Via: []string{"ROLE::H5"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v (old is inactive, gone deleted)", got, want)
	}
}

func TestResolveRecipientsExpandsNestedGroupsThroughTheirRolesAndSubordinates(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t)
	// Support Group (4): mjones; H3 and below: jsmith; subgroup Team Selling (2): jsmith;
	// its subgroup Marketing Group (3): admin, and through role H2 admin and mjones.
	got, err := resolveSchedule(t, d, db, `["GROUP::4"]`, `null`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"mjones@example.com", "jsmith@example.com", "admin@example.com"}; !reflect.DeepEqual(emailsOf(got), want) {
		t.Errorf("got %v, want %v", emailsOf(got), want)
	}
	for _, r := range got {
		if !reflect.DeepEqual(r.Via, []string{"GROUP::4"}) {
			t.Errorf("%s via %v, want GROUP::4", r.Email, r.Via)
		}
	}
}

func TestResolveRecipientsTerminatesOnACycleOfGroups(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t)
	exec(t, db, `INSERT INTO vtiger_group2grouprel VALUES (3, 4)`) // 4 > 2 > 3 > 4
	for _, g := range []string{"2", "3", "4"} {
		got, err := resolveSchedule(t, d, db, `["GROUP::`+g+`"]`, `""`)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Errorf("GROUP::%s gives %v, want admin, jsmith and mjones", g, emailsOf(got))
		}
	}
}

func TestResolveRecipientsTakesRolesWithALongerIDAsSubordinatesLikeVtiger(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t)
	exec(t, db, `INSERT INTO vtiger_role VALUES ('H33', 'Regional Lead', 'H1::H2::H33', 2, 1)`)
	insertUser(t, db, 9, "lead", "Lee", "Ead", "lead@example.com", "off", "Active", "")
	exec(t, db, `INSERT INTO vtiger_user2role VALUES (9, 'H33')`)
	exec(t, db, `INSERT INTO vtiger_groups VALUES (20, 'VP reports', '')`)
	exec(t, db, `INSERT INTO vtiger_group2rs VALUES (20, 'H3')`)
	got, err := resolveSchedule(t, d, db, `["GROUP::20"]`, `""`)
	if err != nil {
		t.Fatal(err)
	}
	// getRoleAndSubordinateUsers('H3') uses parentrole LIKE 'H1::H2::H3%', which H1::H2::H33 matches.
	if want := []string{"jsmith@example.com", "lead@example.com"}; !reflect.DeepEqual(emailsOf(got), want) {
		t.Errorf("got %v, want %v", emailsOf(got), want)
	}
}

func TestResolveRecipientsIgnoresRolesAndSubordinatesEntriesAsVtiger8Does(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t)
	got, err := resolveSchedule(t, d, db, `["RS::H1","USER::6"]`, `""`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"mjones@example.com"}; !reflect.DeepEqual(emailsOf(got), want) {
		t.Errorf("got %v, want %v", emailsOf(got), want)
	}
}

func TestResolveRecipientsMailsEachAddressOnceAndMergesItsVia(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t)
	got, err := resolveSchedule(t, d, db, `["USER::1","GROUP::3","ROLE::H2"]`, `"Admin@Example.com, reports@example.com"`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Recipient{
		{Name: "Administrator", Email: "admin@example.com", Via: []string{"USER::1", "ROLE::H2", "GROUP::3", ViaSpecific}},
		{Name: "Mary Jones", Email: "mjones@example.com", Via: []string{"ROLE::H2", "GROUP::3"}},
		{Name: "John Smith", Email: "jsmith@example.com", Via: []string{"GROUP::3"}},
		{Email: "reports@example.com", Via: []string{ViaSpecific}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestResolveRecipientsSkipsAUserDeactivatedAfterTheCacheWasLoaded(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t)
	if _, err := resolveSchedule(t, d, db, `["USER::1","USER::5"]`, `""`); err != nil {
		t.Fatal(err)
	}
	exec(t, db, `UPDATE vtiger_users SET status = 'Inactive' WHERE id = 5`)
	d.InvalidateUsers()
	got, err := resolveSchedule(t, d, db, `["USER::1","USER::5"]`, `""`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"admin@example.com"}; !reflect.DeepEqual(emailsOf(got), want) {
		t.Errorf("got %v, want %v", emailsOf(got), want)
	}
}

func TestResolveRecipientsFindsAUserCreatedAfterTheCacheWasLoaded(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t, WithMissReloadInterval(0))
	if _, err := resolveSchedule(t, d, db, `["USER::1"]`, `""`); err != nil {
		t.Fatal(err)
	}
	insertUser(t, db, 9, "newbie", "New", "Bie", "newbie@example.com", "off", "Active", "")
	got, err := resolveSchedule(t, d, db, `["USER::9"]`, `""`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"newbie@example.com"}; !reflect.DeepEqual(emailsOf(got), want) {
		t.Errorf("got %v, want %v", emailsOf(got), want)
	}
}

func TestResolveRecipientsFlagsAddressesOutsideTheCompanyDomains(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t)
	got, err := resolveSchedule(t, d, db, `["USER::1"]`, `"cfo@sub.example.com,leak@rival.org"`)
	if err != nil {
		t.Fatal(err)
	}
	external := map[string]bool{}
	for _, r := range got {
		external[r.Email] = r.External
	}
	if want := map[string]bool{"admin@example.com": false, "cfo@sub.example.com": false, "leak@rival.org": true}; !reflect.DeepEqual(external, want) {
		t.Errorf("External = %v, want %v", external, want)
	}
}

func TestResolveRecipientsNamesReportAndColumnOfMalformedJSON(t *testing.T) {
	t.Parallel()
	d, db := seededDirectory(t)
	got, err := resolveSchedule(t, d, db, `["USER::1",`, `"reports@example.com"`)
	var ce *ColumnError
	if !errors.As(err, &ce) || ce.ReportID != 26 || ce.Column != "recipients" || !errors.Is(err, ErrMalformed) {
		t.Fatalf("error = %v, want a ColumnError for report 26, recipients", err)
	}
	if !strings.Contains(err.Error(), "report 26") || !strings.Contains(err.Error(), "recipients") {
		t.Errorf("message %q does not name report and column", err)
	}
	if want := []string{"reports@example.com"}; !reflect.DeepEqual(emailsOf(got), want) {
		t.Errorf("recipients beside the error = %v, want %v (what Vtiger still mails)", emailsOf(got), want)
	}

	got, err = resolveSchedule(t, d, db, `["USER::1"]`, `reports@example.com`)
	if !errors.As(err, &ce) || ce.Column != "specificemails" {
		t.Fatalf("error = %v, want a ColumnError for specificemails", err)
	}
	if want := []string{"admin@example.com"}; !reflect.DeepEqual(emailsOf(got), want) {
		t.Errorf("recipients beside the error = %v, want %v", emailsOf(got), want)
	}

	_, err = resolveSchedule(t, d, db, `{`, `[`)
	if msg := err.Error(); !strings.Contains(msg, "recipients") || !strings.Contains(msg, "specificemails") {
		t.Errorf("both columns broken: %q should name both", msg)
	}
}

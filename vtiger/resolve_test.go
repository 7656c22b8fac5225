package vtiger

import (
	"reflect"
	"testing"
)

// Unit tests of the resolution rules on an in-memory organisation; the
// same rules run against MariaDB in recipients_db_test.go.

func testOrg() *orgChart {
	ur := func(id int64, role, parent string) userRole {
		return userRole{userID: id, roleID: role, roleFound: true, parentRole: parent}
	}
	return &orgChart{
		userRoles: []userRole{
			ur(1, "H2", "H1::H2"), ur(5, "H5", "H1::H2::H3::H4::H5"), ur(6, "H2", "H1::H2"),
			ur(7, "H5", "H1::H2::H3::H4::H5"), ur(8, "H5", "H1::H2::H3::H4::H5"),
			ur(9, "H33", "H1::H2::H33"),
		},
		roles: []roleRow{
			{id: "H1", parentRole: "H1"}, {id: "H2", parentRole: "H1::H2"}, {id: "H3", parentRole: "H1::H2::H3"},
			{id: "H4", parentRole: "H1::H2::H3::H4"}, {id: "H5", parentRole: "H1::H2::H3::H4::H5"},
			{id: "H33", parentRole: "H1::H2::H33"},
		},
		members:   map[int64][]int64{3: {1}, 2: {5}, 4: {6}},
		roles2:    map[int64][]string{2: {"H4"}, 3: {"H2"}, 4: {"H3"}},
		rs:        map[int64][]string{2: {"H5"}, 3: {"H3"}, 4: {"H3"}},
		subgroups: map[int64][]int64{2: {3}, 4: {2}},
	}
}

func testUsers() map[int64]User {
	return map[int64]User{
		1: {ID: 1, UserName: "admin", LastName: "Administrator", Email: "admin@example.com", IsAdmin: true, Active: true},
		5: {ID: 5, UserName: "jsmith", FirstName: "John", LastName: "Smith", Email: "jsmith@example.com", Active: true},
		6: {ID: 6, UserName: "mjones", FirstName: "Mary", LastName: "Jones", Email: "mjones@example.com", IsAdmin: true, Active: true},
		7: {ID: 7, UserName: "old", FirstName: "Otto", LastName: "Old", Email: "old@example.com", inactive: true},
		8: {ID: 8, UserName: "gone", FirstName: "Gina", LastName: "Gone", Email: "gone@example.com", inactive: true, Deleted: true},
		9: {ID: 9, UserName: "far", FirstName: "Fay", LastName: "Far", Email: "far@example.net", Active: true},
	}
}

func resolveInMemory(t *testing.T, recipients, specific string, o *orgChart, users map[int64]User) []Recipient {
	t.Helper()
	refs, err := parseRecipients(recipients)
	if err != nil {
		t.Fatal(err)
	}
	emails, err := parseSpecificEmails(specific)
	if err != nil {
		t.Fatal(err)
	}
	return buildRecipients(collectUserIDs(refs, o), users, emails)
}

func emailsOf(rs []Recipient) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Email)
	}
	return out
}

func TestBuildRecipientsListsUsersThenRolesThenGroupsThenSpecificAddresses(t *testing.T) {
	got := resolveInMemory(t, `["GROUP::3","ROLE::H5","USER::6"]`, `"ext@partner.org"`, testOrg(), testUsers())
	want := []Recipient{
		{Name: "Mary Jones", Email: "mjones@example.com", Via: []string{"USER::6", "GROUP::3"}},
		{Name: "John Smith", Email: "jsmith@example.com", Via: []string{"ROLE::H5", "GROUP::3"}},
		{Name: "Administrator", Email: "admin@example.com", Via: []string{"GROUP::3"}},
		{Name: "Fay Far", Email: "far@example.net", Via: []string{"GROUP::3"}},
		{Email: "ext@partner.org", Via: []string{ViaSpecific}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestBuildRecipientsKeepsOnlyTheLaterOfTwoUsersWithTheSameName(t *testing.T) {
	users := testUsers()
	users[10] = User{ID: 10, UserName: "jsmith2", FirstName: "John", LastName: "Smith", Email: "john.smith@other.org", Active: true}
	got := emailsOf(resolveInMemory(t, `["USER::5","USER::1","USER::10"]`, "", testOrg(), users))
	if want := []string{"john.smith@other.org", "admin@example.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v (Vtiger keys its list by full name)", got, want)
	}
}

func TestBuildRecipientsLetsAnAddresslessNamesakeHideAUser(t *testing.T) {
	users := testUsers()
	users[10] = User{ID: 10, UserName: "jsmith2", FirstName: "John", LastName: "Smith", Active: true}
	got := emailsOf(resolveInMemory(t, `["USER::5","USER::10"]`, "", testOrg(), users))
	if len(got) != 0 {
		t.Errorf("got %v, want nobody: Vtiger overwrites jsmith's address with the empty one", got)
	}
}

func TestBuildRecipientsSkipsInactiveDeletedAndUnknownUsers(t *testing.T) {
	got := emailsOf(resolveInMemory(t, `["USER::7","USER::8","USER::404","USER::","USER","USER::abc","USER::1"]`, "", testOrg(), testUsers()))
	if want := []string{"admin@example.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestBuildRecipientsMatchesUserIDsAsMySQLDoes(t *testing.T) {
	got := resolveInMemory(t, `["USER::05","USER::5abc","USER:: 5"]`, "", testOrg(), testUsers())
	if len(got) != 1 || got[0].Email != "jsmith@example.com" {
		t.Fatalf("got %+v, want jsmith once", got)
	}
	if want := []string{"USER::05"}; !reflect.DeepEqual(got[0].Via, want) {
		t.Errorf("Via = %v, want %v (later spellings find the address taken)", got[0].Via, want)
	}
}

func TestBuildRecipientsMailsAnAddressOnceWhateverItsCase(t *testing.T) {
	got := resolveInMemory(t, `["USER::1"]`, `" Admin@Example.COM ,reports@example.com,REPORTS@example.com,nobody"`, testOrg(), testUsers())
	want := []Recipient{
		{Name: "Administrator", Email: "admin@example.com", Via: []string{"USER::1", ViaSpecific}},
		{Email: "reports@example.com", Via: []string{ViaSpecific}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestBuildRecipientsIgnoresRolesAndSubordinatesEntriesAsVtiger8Does(t *testing.T) {
	if got := resolveInMemory(t, `["RS::H1","RS::H2"]`, "", testOrg(), testUsers()); len(got) != 0 {
		t.Errorf("got %+v, want nobody", got)
	}
}

func TestGroupUsersFollowsNestingAndStopsOnCycles(t *testing.T) {
	o := testOrg()
	o.subgroups[3] = []int64{4} // 4 -> 2 -> 3 -> 4
	got := o.groupUsers(4)
	// 4: member 6; role H3: nobody; rs H3: 5,7,8,9 (H1::H2::H3%); then 2: 5; H4: nobody;
	// rs H5: 5,7,8; then 3: 1; H2: 1,6; rs H3 again; then 4 again: stop.
	if want := []int64{6, 5, 7, 8, 9, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("groupUsers(4) = %v, want %v", got, want)
	}
}

func TestRoleAndSubordinateUsersUsesVtigersUnseparatedPrefix(t *testing.T) {
	o := testOrg()
	if got, want := o.roleAndSubordinateUsers("H3"), []int64{5, 7, 8, 9}; !reflect.DeepEqual(got, want) {
		t.Errorf("H3 and subordinates = %v, want %v (H33 matches 'H1::H2::H3%%')", got, want)
	}
	if got := o.roleAndSubordinateUsers("H404"); len(got) != len(o.userRoles) {
		t.Errorf("missing role gives %v, want every user with a role (pattern '%%')", got)
	}
}

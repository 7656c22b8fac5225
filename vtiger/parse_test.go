package vtiger

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseRecipientsClassifiesEntriesBySubstringLikeVtiger(t *testing.T) {
	refs, err := parseRecipients(`["USER::1","GROUP::3","ROLE::H2","RS::H2","xUSERx::7::junk","GROUPROLE::9","USER",5,true,null,"role::H1"]`)
	if err != nil {
		t.Fatal(err)
	}
	want := []recipientRef{
		{Kind: kindUser, ID: "1", HasID: true, Raw: "USER::1"},
		{Kind: kindGroup, ID: "3", HasID: true, Raw: "GROUP::3"},
		{Kind: kindRole, ID: "H2", HasID: true, Raw: "ROLE::H2"},
		{Kind: "", ID: "H2", HasID: true, Raw: "RS::H2"},
		{Kind: kindUser, ID: "7", HasID: true, Raw: "xUSERx::7::junk"},
		{Kind: kindGroup, ID: "9", HasID: true, Raw: "GROUPROLE::9"},
		{Kind: kindUser, Raw: "USER"},
		{Raw: "5"},
		{},
		{},
		{Kind: "", ID: "H1", HasID: true, Raw: "role::H1"},
	}
	if !reflect.DeepEqual(refs, want) {
		t.Errorf("got  %+v\nwant %+v", refs, want)
	}
}

func TestParseRecipientsReadsObjectValuesInPHPOrder(t *testing.T) {
	refs, err := parseRecipients(`{"a":"USER::1","b":"USER::2","a":"USER::3"}`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range refs {
		got = append(got, r.ID)
	}
	if want := []string{"3", "2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v (a duplicate key replaces the value in the first position)", got, want)
	}
}

func TestParseRecipientsTreatsEmptyAndNullAsNoEntries(t *testing.T) {
	for _, raw := range []string{"", "0", "null", " null ", "[]", "{}"} {
		refs, err := parseRecipients(raw)
		if err != nil || len(refs) != 0 {
			t.Errorf("parseRecipients(%q) = %v, %v; want nothing, no error", raw, refs, err)
		}
	}
}

func TestParseRecipientsRejectsMalformedJSON(t *testing.T) {
	for _, raw := range []string{
		`["USER::1"`, `USER::1`, `"USER::1"`, `5`, `["USER::1"] x`, `[&quot;USER::1&quot;]`,
		"[\"USER::\xff\"]", `[["USER::1"]]`, `[{"a":"USER::1"}]`, strings.Repeat("[", 600) + strings.Repeat("]", 600),
	} {
		_, err := parseRecipients(raw)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("parseRecipients(%q) error = %v, want ErrMalformed", raw, err)
		}
	}
}

func TestParseRecipientsKeepsStringEntriesBesideNestedOnes(t *testing.T) {
	refs, err := parseRecipients(`["USER::1",["USER::2"],"USER::5"]`)
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("error = %v, want ErrMalformed", err)
	}
	if len(refs) != 2 || refs[0].ID != "1" || refs[1].ID != "5" {
		t.Errorf("refs = %+v, want USER::1 and USER::5", refs)
	}
}

func TestParseSpecificEmailsSplitsTheJSONStringOnCommas(t *testing.T) {
	got, err := parseSpecificEmails(`"a@example.com, b@example.org ,,c@x.io,  "`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a@example.com", "b@example.org", "c@x.io"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseSpecificEmailsTreatsEmptyValuesAsNoAddresses(t *testing.T) {
	for _, raw := range []string{"", "  ", `""`, "null", `" , "`} {
		got, err := parseSpecificEmails(raw)
		if err != nil || len(got) != 0 {
			t.Errorf("parseSpecificEmails(%q) = %q, %v; want nothing, no error", raw, got, err)
		}
	}
}

func TestParseSpecificEmailsRejectsMalformedJSONAndNonStrings(t *testing.T) {
	for _, raw := range []string{`reports@example.com`, `"reports@example.com`, `["a@example.com"]`, `{"a":"b@c.d"}`, `5`, `true`} {
		got, err := parseSpecificEmails(raw)
		if !errors.Is(err, ErrMalformed) || got != nil {
			t.Errorf("parseSpecificEmails(%q) = %q, %v; want nothing and ErrMalformed", raw, got, err)
		}
	}
}

// FuzzParseRecipients feeds arbitrary column text through the parsers and
// the pure part of the resolution: nothing may panic, and what comes out
// must keep the invariants the resolver relies on.
func FuzzParseRecipients(f *testing.F) {
	for _, seed := range [][2]string{
		{`["USER::1","USER::5"]`, `"reports@example.com"`},
		{`["GROUP::3","ROLE::H2","RS::H3"]`, `"a@b.c, d@e.f"`},
		{`{"x":"USER::1","x":"GROUP::2"}`, `null`},
		{`[["USER::1"],{"a":1},null,true,1.5e300]`, `["a@b.c"]`},
		{`["USER::5abc","USER:: 05","USER::1e0","USER::-1"]`, `""`},
		{`[`, `"`},
		{"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	org := &orgChart{
		userRoles: []userRole{{userID: 1, roleID: "H2", roleFound: true, parentRole: "H1::H2"}},
		roles:     []roleRow{{id: "H2", parentRole: "H1::H2"}},
		members:   map[int64][]int64{2: {1}, 3: {5}},
		roles2:    map[int64][]string{2: {"H2"}},
		rs:        map[int64][]string{3: {"H2"}},
		subgroups: map[int64][]int64{2: {3}, 3: {2}},
	}
	users := map[int64]User{
		1: {ID: 1, UserName: "admin", LastName: "Administrator", Email: "admin@example.com"},
		5: {ID: 5, UserName: "jsmith", FirstName: "John", LastName: "Smith", Email: "JSmith@example.com "},
	}
	f.Fuzz(func(t *testing.T, recipients, specific string) {
		refs, rerr := parseRecipients(recipients)
		if rerr != nil && !errors.Is(rerr, ErrMalformed) {
			t.Fatalf("recipients error does not wrap ErrMalformed: %v", rerr)
		}
		for _, r := range refs {
			switch r.Kind {
			case "", kindUser, kindGroup, kindRole:
			default:
				t.Fatalf("unknown kind %q", r.Kind)
			}
			if r.HasID != strings.Contains(r.Raw, "::") {
				t.Fatalf("HasID %v for %q", r.HasID, r.Raw)
			}
		}
		emails, serr := parseSpecificEmails(specific)
		if serr != nil && (!errors.Is(serr, ErrMalformed) || emails != nil) {
			t.Fatalf("specificemails: %q, %v", emails, serr)
		}
		for _, e := range emails {
			if e == "" || e != phpTrim(e) || strings.Contains(e, ",") {
				t.Fatalf("bad address %q", e)
			}
		}
		out := buildRecipients(collectUserIDs(refs, org), users, emails)
		seen := map[string]bool{}
		for _, r := range out {
			k := asciiLower(r.Email)
			if seen[k] || !strings.Contains(r.Email, "@") || len(r.Via) == 0 {
				t.Fatalf("bad recipient list %+v", out)
			}
			seen[k] = true
		}
	})
}

package vtiger

import "testing"

func TestIsExternalComparesDomainsAndSubdomainsIgnoringCase(t *testing.T) {
	company := []string{"Example.com", "@corp.example.org", ""}
	for _, c := range []struct {
		email string
		want  bool
	}{
		{"a@example.com", false},
		{"a@EXAMPLE.COM", false},
		{"a@mail.example.com", false},
		{"a@corp.example.org", false},
		{"a@eu.corp.example.org", false},
		{"a@example.org", true},
		{"a@notexample.com", true},
		{"a@example.com.evil.net", true},
		{"a@gmail.com", true},
		{"no-domain", true},
		{"a@", true},
	} {
		if got := IsExternal(c.email, company); got != c.want {
			t.Errorf("IsExternal(%q) = %v, want %v", c.email, got, c.want)
		}
	}
	if !IsExternal("a@example.com", nil) {
		t.Error("with no company domains every address is external")
	}
}

func TestWebsiteDomainStripsSchemeWWWPortAndPath(t *testing.T) {
	for in, want := range map[string]string{
		"www.vtiger.com":                       "vtiger.com",
		"https://www.Example.com:8443/crm?x=1": "example.com",
		"http://crm.example.co.uk/":            "crm.example.co.uk",
		"//example.net":                        "example.net",
		"example.org.":                         "example.org",
		"":                                     "",
		"localhost":                            "",
		"not a site":                           "",
	} {
		if got := websiteDomain(in); got != want {
			t.Errorf("websiteDomain(%q) = %q, want %q", in, got, want)
		}
	}
}

package vtiger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
)

// IsExternal tells whether email goes outside the company: its domain is
// neither one of companyDomains nor a subdomain of one. Case is ignored. An
// address without a domain counts as external (nothing shows it internal).
func IsExternal(email string, companyDomains []string) bool {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return true
	}
	domain := normalizeDomain(email[at+1:])
	if domain == "" {
		return true
	}
	for _, c := range companyDomains {
		c = normalizeDomain(c)
		if c == "" {
			continue
		}
		if domain == c || strings.HasSuffix(domain, "."+c) {
			return false
		}
	}
	return true
}

// normalizeDomain lowercases a domain and strips what people put around it:
// blanks, a leading "@", "*." or ".", a trailing "." or ">".
func normalizeDomain(d string) string {
	d = strings.ToLower(strings.TrimSpace(d))
	d = strings.TrimSuffix(d, ">")
	d = strings.TrimPrefix(d, "@")
	d = strings.TrimPrefix(d, "*.")
	return strings.Trim(d, ".")
}

// CompanyDomains returns the mail domains counted as the company's:
// configured, normalised, when it is not empty; otherwise the domain of the
// company website (vtiger_organizationdetails.website without scheme,
// "www.", port and path) and the mail domains of active administrators.
// Administrators' addresses at public mail providers (gmail.com,
// outlook.com, ...) are left out: counting them would make every address at
// that provider look internal.
func (d *Directory) CompanyDomains(ctx context.Context, configured []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(dom string) {
		if dom = normalizeDomain(dom); dom != "" && !seen[dom] {
			seen[dom] = true
			out = append(out, dom)
		}
	}
	for _, c := range configured {
		add(c)
	}
	if len(out) > 0 {
		return out, nil
	}

	var website string
	err := d.db.QueryRowContext(ctx, `SELECT COALESCE(website, '') FROM vtiger_organizationdetails
		ORDER BY organization_id LIMIT 1`).Scan(&website)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("vtiger: company website: %w", err)
	}
	add(websiteDomain(website))

	users, err := d.userSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range users.ids {
		u := users.byID[id]
		if !u.IsAdmin || !u.Active || u.Deleted {
			continue
		}
		at := strings.LastIndexByte(u.Email, '@')
		if at < 0 {
			continue
		}
		if dom := normalizeDomain(u.Email[at+1:]); !publicMailDomains[dom] {
			add(dom)
		}
	}
	return out, nil
}

// websiteDomain reduces a website value ("https://www.example.com:8080/crm",
// "www.example.com") to its domain ("example.com"); "" when there is none.
func websiteDomain(site string) string {
	s := strings.ToLower(strings.TrimSpace(site))
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	} else {
		s = strings.TrimPrefix(s, "//")
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	s = strings.Trim(s, ".")
	s = strings.TrimPrefix(s, "www.")
	if s == "" || strings.ContainsAny(s, " \t[]:") || !strings.Contains(s, ".") {
		return ""
	}
	return s
}

// publicMailDomains are mail providers anyone can have an address at.
var publicMailDomains = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "outlook.com": true, "hotmail.com": true,
	"live.com": true, "msn.com": true, "yahoo.com": true, "ymail.com": true, "icloud.com": true,
	"me.com": true, "mac.com": true, "aol.com": true, "gmx.com": true, "gmx.net": true,
	"gmx.de": true, "web.de": true, "mail.com": true, "proton.me": true, "protonmail.com": true,
	"zoho.com": true, "yandex.com": true, "yandex.ru": true, "mail.ru": true, "qq.com": true,
	"163.com": true, "126.com": true, "rediffmail.com": true, "hotmail.co.uk": true,
	"yahoo.co.uk": true, "yahoo.co.in": true, "outlook.de": true, "t-online.de": true,
	"orange.fr": true, "free.fr": true, "laposte.net": true, "libero.it": true, "tutanota.com": true,
}

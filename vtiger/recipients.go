package vtiger

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"
)

// Recipient is one address a scheduled report is mailed to.
type Recipient struct {
	Name  string // the user's full name; "" for a specific address
	Email string
	// Via lists the schedule entries that lead to this address, in order:
	// "USER::5", "GROUP::3", "ROLE::H3", or "specific" for the
	// specificemails column.
	Via      []string
	External bool // see IsExternal
}

// Via value of an address from the specificemails column.
const ViaSpecific = "specific"

// Kinds of recipient entries Vtiger 8 acts on.
const (
	kindUser  = "USER"
	kindGroup = "GROUP"
	kindRole  = "ROLE"
)

// recipientRef is one element of the recipients column, classified as
// Reports_ScheduleReports_Model::getRecipientEmails does.
type recipientRef struct {
	Kind  string // kindUser, kindGroup, kindRole; "" when Vtiger ignores the entry (e.g. "RS::H2")
	ID    string // explode('::', $entry)[1]
	HasID bool   // false when the entry has no "::" (Vtiger then looks up NULL: nobody)
	Raw   string // the element as a PHP string
}

func (r recipientRef) via() string { return r.Kind + "::" + r.ID }

// classifyRecipient mirrors Vtiger: the entry is a user if it contains
// "USER" anywhere, else a group if it contains "GROUP", else a role if it
// contains "ROLE" (strpos, case-sensitive); the id is the text between the
// first and second "::".
func classifyRecipient(s string) recipientRef {
	r := recipientRef{Raw: s}
	switch {
	case strings.Contains(s, "USER"):
		r.Kind = kindUser
	case strings.Contains(s, "GROUP"):
		r.Kind = kindGroup
	case strings.Contains(s, "ROLE"):
		r.Kind = kindRole
	}
	if parts := strings.SplitN(s, "::", 3); len(parts) >= 2 {
		r.ID, r.HasID = parts[1], true
	}
	return r
}

// parseRecipients reads the recipients column. Like Vtiger, an empty value
// (PHP empty(): "" or "0") and JSON null mean no entries, object values
// count like list elements, and elements that are not strings (numbers,
// booleans, null) match nothing. It returns an error (and the entries it
// could read) for what Vtiger cannot use: broken JSON (json_decode gives
// null: no entries), a top-level scalar (foreach over a non-array: no
// entries), and lists or objects as elements (PHP 8 stops the cron with a
// TypeError; PHP 7 ignores them).
func parseRecipients(raw string) ([]recipientRef, error) {
	if phpEmpty(raw) {
		return nil, nil
	}
	v, err := decodePHPJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("broken JSON: %v: %w", err, ErrMalformed)
	}
	switch v.kind {
	case jsonNull:
		return nil, nil
	case jsonArray, jsonObject:
	default:
		return nil, fmt.Errorf("JSON %s, want a list: %w", v.kind, ErrMalformed)
	}
	var refs []recipientRef
	var bad int
	for _, e := range v.elems {
		switch e.kind {
		case jsonString:
			refs = append(refs, classifyRecipient(e.str))
		case jsonArray, jsonObject:
			bad++
		default:
			refs = append(refs, recipientRef{Raw: e.str}) // PHP's "5", "1", "": no USER/GROUP/ROLE
		}
	}
	if bad > 0 {
		return refs, fmt.Errorf("%d entries are lists or objects, not strings: %w", bad, ErrMalformed)
	}
	return refs, nil
}

// parseSpecificEmails reads the specificemails column: a JSON string of
// comma-separated addresses (Vtiger: explode(',', Zend_Json::decode($v))).
// Each part is trimmed as PHPMailer does; empty parts are dropped. NULL, an
// empty or blank column and JSON null mean no addresses. Broken JSON gives
// no addresses and an error (Vtiger silently sends none), as does any JSON
// other than a string (a list or object stops Vtiger's cron under PHP 8).
func parseSpecificEmails(raw string) ([]string, error) {
	if phpTrim(raw) == "" {
		return nil, nil
	}
	v, err := decodePHPJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("broken JSON: %v: %w", err, ErrMalformed)
	}
	switch v.kind {
	case jsonNull:
		return nil, nil
	case jsonString:
	default:
		return nil, fmt.Errorf("JSON %s, want a string: %w", v.kind, ErrMalformed)
	}
	var out []string
	for _, p := range strings.Split(v.str, ",") {
		if p = phpTrim(p); p != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

// ResolveRecipients returns the addresses Vtiger's cron mails the report
// to, in Vtiger's order, flagged External per companyDomains. It follows
// Reports_ScheduleReports_Model::getRecipientEmails of Vtiger 8:
//
//   - Entries are classified by substring: "USER" before "GROUP" before
//     "ROLE"; the id is the text after the first "::". Entries with none of
//     the three words are ignored, in particular "RS::H2": Vtiger 8's cron
//     has no roles-and-subordinates recipients (only the Vtiger 5 table
//     vtiger_scheduled_reports had "rs"), so nobody gets mail from them.
//   - Users first (as listed), then the users of each role
//     (vtiger_user2role, getRoleUsers), then the users of each group.
//   - A group is its vtiger_users2group members, the users of its
//     vtiger_group2role roles, the users of its vtiger_group2rs roles and
//     their subordinates (every user whose role's parentrole is LIKE the
//     role's parentrole followed by '%', which also takes H1::H2::H33 for
//     H1::H2::H3, and every user with a role when the role is missing), then
//     its vtiger_group2grouprel subgroups, recursively. Vtiger recurses
//     forever on a cycle of groups; here each group counts once.
//   - User ids are made unique (by their text, as array_unique does), then
//     users with deleted = 1 or status 'Inactive' are skipped
//     (isUserDeleted). An address already taken is skipped; Vtiger keys the
//     list by the user's record label (first and last name), so of two users
//     with the same name only the later one is mailed.
//   - Then the specificemails addresses.
//   - Finally what PHPMailer's AddAddress does: addresses are trimmed, those
//     without '@' are dropped, and an address is mailed once whatever its
//     case (its Via entries are merged into the first occurrence).
//
// Malformed JSON in the recipients or specificemails column gives a
// *ColumnError (errors.Is ErrMalformed) naming the report and column,
// returned together with the recipients the rest of the schedule resolves
// to. Other errors (database) come with no recipients.
func (d *Directory) ResolveRecipients(ctx context.Context, s Schedule, companyDomains []string) ([]Recipient, error) {
	var colErrs []error
	refs, err := parseRecipients(s.Recipients)
	if err != nil {
		colErrs = append(colErrs, &ColumnError{ReportID: s.ReportID, Column: "recipients", Err: err})
	}
	specific, err := parseSpecificEmails(s.SpecificEmails)
	if err != nil {
		colErrs = append(colErrs, &ColumnError{ReportID: s.ReportID, Column: "specificemails", Err: err})
	}
	for _, r := range refs {
		if r.Kind == "" {
			d.log.Debug().Int64("report_id", s.ReportID).Str("entry", r.Raw).
				Msg("schedule recipient entry ignored, as Vtiger 8 does")
		}
	}

	var o *orgChart
	if needsOrgChart(refs) {
		if o, err = d.loadOrgChart(ctx); err != nil {
			return nil, fmt.Errorf("vtiger: recipients of report %d: %w", s.ReportID, err)
		}
	}
	cands := collectUserIDs(refs, o)

	users, err := d.userSnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("vtiger: recipients of report %d: %w", s.ReportID, err)
	}
	if users.missingAny(cands) {
		if fresh, _, err := d.users.refresh(ctx, d.now, d.missReload); err != nil {
			return nil, fmt.Errorf("vtiger: recipients of report %d: %w", s.ReportID, err)
		} else if fresh != nil {
			users = fresh
		}
	}

	out := buildRecipients(cands, users.byID, specific)
	for i := range out {
		out[i].External = IsExternal(out[i].Email, companyDomains)
	}
	return out, errors.Join(colErrs...)
}

func needsOrgChart(refs []recipientRef) bool {
	for _, r := range refs {
		if r.HasID && (r.Kind == kindGroup || r.Kind == kindRole) {
			return true
		}
	}
	return false
}

// userCandidate is one element of Vtiger's $recipientsList: a user id as
// PHP text ("5" from the JSON or the database) and how it got there.
type userCandidate struct {
	key string
	via []string
}

func (s *userSnapshot) missingAny(cands []userCandidate) bool {
	for _, c := range cands {
		if id, ok := mysqlIntID(c.key); ok {
			if _, known := s.byID[id]; !known {
				return true
			}
		}
	}
	return false
}

// collectUserIDs builds Vtiger's $recipientsList: users, then roles, then
// groups, made unique by id text (array_unique keeps the first).
func collectUserIDs(refs []recipientRef, o *orgChart) []userCandidate {
	var out []userCandidate
	index := map[string]int{}
	add := func(key, via string) {
		if i, ok := index[key]; ok {
			out[i].via = appendUnique(out[i].via, via)
			return
		}
		index[key] = len(out)
		out = append(out, userCandidate{key: key, via: []string{via}})
	}
	addIDs := func(ids []int64, via string) {
		for _, id := range ids {
			add(strconv.FormatInt(id, 10), via)
		}
	}
	for _, r := range refs {
		if r.Kind == kindUser && r.HasID {
			add(r.ID, r.via())
		}
	}
	if o == nil {
		return out
	}
	for _, r := range refs {
		if r.Kind == kindRole && r.HasID {
			addIDs(o.roleUsers(r.ID), r.via())
		}
	}
	for _, r := range refs {
		if r.Kind != kindGroup || !r.HasID {
			continue
		}
		if gid, ok := mysqlIntID(r.ID); ok {
			addIDs(o.groupUsers(gid), r.via())
		}
	}
	return out
}

// buildRecipients turns the candidate ids into addresses as getRecipientEmails
// and PHPMailer do (see ResolveRecipients).
func buildRecipients(cands []userCandidate, users map[int64]User, specific []string) []Recipient {
	// $recipientsEmails[$userName] = $userEmail, guarded by in_array.
	type labelled struct {
		label, email, name string
		via                []string
	}
	var list []labelled
	byLabel := map[string]int{}
	inList := map[string]int{} // how many entries of list hold each address: in_array()
	for _, c := range cands {
		var u User
		id, ok := mysqlIntID(c.key)
		if ok {
			u, ok = users[id]
		}
		if ok && u.skippedByVtiger() {
			continue
		}
		// A missing user is not "deleted" to Vtiger: it gets label '' and a
		// NULL address, which can still shadow an earlier entry.
		var l labelled
		if ok {
			l = labelled{label: u.recordLabel(), email: u.Email, name: html.UnescapeString(u.FullName()), via: c.via}
		} else {
			l = labelled{via: c.via}
		}
		if inList[l.email] > 0 { // NULL and '' are equal to in_array(); both are '' here
			continue
		}
		inList[l.email]++
		if i, dup := byLabel[l.label]; dup {
			inList[list[i].email]--
			list[i] = l
		} else {
			byLabel[l.label] = len(list)
			list = append(list, l)
		}
	}

	var out []Recipient
	seen := map[string]int{}
	add := func(name, email string, via []string) {
		email = phpTrim(email)
		if !strings.Contains(email, "@") {
			return
		}
		key := asciiLower(email)
		if i, ok := seen[key]; ok {
			for _, v := range via {
				out[i].Via = appendUnique(out[i].Via, v)
			}
			return
		}
		seen[key] = len(out)
		out = append(out, Recipient{Name: name, Email: email, Via: append([]string(nil), via...)})
	}
	for _, l := range list {
		add(l.name, l.email, l.via)
	}
	for _, e := range specific {
		add("", e, []string{ViaSpecific})
	}
	return out
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

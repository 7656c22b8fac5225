package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Kinds of rule. The kind picks the evaluator; Params carries its settings.
const (
	KindThreshold          = "threshold"
	KindVelocity           = "velocity"
	KindWatchlist          = "watchlist"
	KindOffHours           = "off_hours"
	KindFirstTime          = "first_time"
	KindNewIP              = "new_ip"
	KindExternalRecipients = "external_recipients"

	// KindDefault is the kind of the built-in rule (never stored).
	KindDefault = "default"
)

// Kinds lists the kinds a stored rule may have, in documentation order.
func Kinds() []string {
	return []string{KindThreshold, KindVelocity, KindWatchlist, KindOffHours, KindFirstTime, KindNewIP, KindExternalRecipients}
}

// Severities, lowest first.
const (
	SeverityInfo     = "info"
	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"
)

var severities = []string{SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// SeverityRank orders severities (info 0 ... critical 4); -1 for an unknown
// one. Mail subjects and digests sort matches with it.
func SeverityRank(s string) int {
	for i, v := range severities {
		if v == s {
			return i
		}
	}
	return -1
}

// DefaultRuleName is the name of the built-in rule that implements the seed
// behaviour (notify_min_records); stored rules may not take it.
const DefaultRuleName = "default"

// maxNameLen matches dxt_rule.name VARCHAR(100).
const maxNameLen = 100

// Rule is one row of dxt_rule with its params decoded and validated.
type Rule struct {
	ID        uint64    `json:"id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	Enabled   bool      `json:"enabled"`
	Severity  string    `json:"severity"`
	Notify    bool      `json:"notify"`
	Params    Params    `json:"params"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// Spec is what a client sends to create or replace a rule. Enabled and
// Notify default to true, Severity to medium; Params is checked against
// Kind.
type Spec struct {
	Name     string          `json:"name"`
	Kind     string          `json:"kind"`
	Enabled  *bool           `json:"enabled"`
	Severity string          `json:"severity"`
	Notify   *bool           `json:"notify"`
	Params   json.RawMessage `json:"params"`
}

// ValidationError says which field of a rule is wrong and what a right
// value looks like; the API answers it as a 400.
type ValidationError struct {
	Field string // e.g. "params.window"
	Msg   string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// inParams prefixes the field of a params error with "params.".
func inParams(err error) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return &ValidationError{Field: "params." + ve.Field, Msg: ve.Msg}
	}
	return err
}

// Validate checks s and returns the rule it describes (without ID and
// timestamps). Every error is a *ValidationError.
func (s Spec) Validate() (Rule, error) {
	name := strings.TrimSpace(s.Name)
	switch {
	case name == "":
		return Rule{}, invalid("name", `required, e.g. "name": "Large Contacts exports"`)
	case utf8.RuneCountInString(name) > maxNameLen:
		return Rule{}, invalid("name", "at most %d characters, got %d", maxNameLen, utf8.RuneCountInString(name))
	case strings.EqualFold(name, DefaultRuleName):
		return Rule{}, invalid("name", "%q is the built-in rule (notify_min_records); choose another name", DefaultRuleName)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return Rule{}, invalid("name", "must not contain control characters")
	}
	kind := strings.TrimSpace(s.Kind)
	if kind == "" {
		return Rule{}, invalid("kind", "required: one of %s", strings.Join(Kinds(), ", "))
	}
	sev := strings.ToLower(strings.TrimSpace(s.Severity))
	if sev == "" {
		sev = SeverityMedium
	}
	if SeverityRank(sev) < 0 {
		return Rule{}, invalid("severity", "want one of %s, got %q", strings.Join(severities, ", "), s.Severity)
	}
	params, err := decodeParams(kind, s.Params)
	if err != nil {
		return Rule{}, err
	}
	return Rule{
		Name: name, Kind: kind, Severity: sev, Params: params,
		Enabled: s.Enabled == nil || *s.Enabled,
		Notify:  s.Notify == nil || *s.Notify,
	}, nil
}

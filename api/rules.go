package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/dxtracker/dxtracker/rules"
	"github.com/dxtracker/dxtracker/tracker"
)

// WithRules gives the rules API the engine (or anything else) to tell
// after a rule changed, so the next event is evaluated with the change
// instead of after the cache expires.
func WithRules(inv rules.Invalidator) Option {
	return func(s *Server) { s.rulesCache = inv }
}

// Access log actions of rule changes: who changed what decides who gets
// warned, so it is audited like a settings change.
const (
	actionRuleCreate = "rule_create"
	actionRuleUpdate = "rule_update"
	actionRuleDelete = "rule_delete"
)

// maxRuleBody bounds POST and PUT bodies (a watchlist of a few hundred
// users fits many times).
const maxRuleBody = 64 << 10

func (s *Server) ruleStore() *rules.Store { return rules.NewStore(s.db, nil) }

// GET /api/v1/rules: every stored rule by id. Rules whose stored params no
// longer validate are listed under "invalid" with the reason; the engine
// skips them.
func (s *Server) listRules(w http.ResponseWriter, r *http.Request, _ principal) error {
	if _, err := parseQuery(r.URL); err != nil {
		return err
	}
	list, broken, err := s.ruleStore().List(r.Context())
	if err != nil {
		return err
	}
	type invalidRule struct {
		ID    uint64 `json:"id"`
		Error string `json:"error"`
	}
	out := struct {
		Rules   []rules.Rule  `json:"rules"`
		Invalid []invalidRule `json:"invalid,omitempty"`
	}{Rules: list}
	if out.Rules == nil {
		out.Rules = []rules.Rule{}
	}
	for id, err := range broken {
		out.Invalid = append(out.Invalid, invalidRule{id, err.Error()})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// GET /api/v1/rules/{id}
func (s *Server) getRule(w http.ResponseWriter, r *http.Request, _ principal) error {
	id, err := ruleID(r)
	if err != nil {
		return err
	}
	rule, err := s.ruleStore().Get(r.Context(), id)
	if err != nil {
		return ruleError(err)
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}

// POST /api/v1/rules: 201 with the stored rule.
func (s *Server) createRule(w http.ResponseWriter, r *http.Request, p principal) error {
	if _, err := parseQuery(r.URL); err != nil {
		return err
	}
	spec, err := readRuleSpec(w, r)
	if err != nil {
		return err
	}
	rule, err := s.ruleStore().Create(r.Context(), spec, p.name)
	if err != nil {
		return ruleError(err)
	}
	s.ruleChanged(r, p, actionRuleCreate, rule.ID, rule.Name)
	w.Header().Set("Location", "/api/v1/rules/"+strconv.FormatUint(rule.ID, 10))
	writeJSON(w, http.StatusCreated, rule)
	return nil
}

// PUT /api/v1/rules/{id}: replaces the rule (fields left out take their
// defaults, as on create).
func (s *Server) updateRule(w http.ResponseWriter, r *http.Request, p principal) error {
	id, err := ruleID(r)
	if err != nil {
		return err
	}
	spec, err := readRuleSpec(w, r)
	if err != nil {
		return err
	}
	rule, err := s.ruleStore().Update(r.Context(), id, spec, p.name)
	if err != nil {
		return ruleError(err)
	}
	s.ruleChanged(r, p, actionRuleUpdate, rule.ID, rule.Name)
	writeJSON(w, http.StatusOK, rule)
	return nil
}

// DELETE /api/v1/rules/{id}: 204.
func (s *Server) deleteRule(w http.ResponseWriter, r *http.Request, p principal) error {
	id, err := ruleID(r)
	if err != nil {
		return err
	}
	if err := s.ruleStore().Delete(r.Context(), id); err != nil {
		return ruleError(err)
	}
	s.ruleChanged(r, p, actionRuleDelete, id, "")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ruleChanged tells the engine and writes the audit line. The change is
// committed already, so a failing access-log write is logged, not answered
// as a failure the client would retry.
func (s *Server) ruleChanged(r *http.Request, p principal, action string, id uint64, name string) {
	if s.rulesCache != nil {
		s.rulesCache.Invalidate()
	}
	ctx := r.Context()
	if err := tracker.LogAccess(ctx, s.db, tracker.AccessEntry{Principal: p.name, AuthMethod: p.method,
		Action: action, RemoteIP: remoteIP(r), Path: r.URL.Path, Status: http.StatusOK}); err != nil {
		s.log.Error().Str("request_id", info(ctx).id).Err(err).Msg("rule changed but the access log write failed")
	}
	s.log.Info().Str("request_id", info(ctx).id).Str("principal", p.name).Str("action", action).
		Uint64("rule_id", id).Str("rule", name).Msg("rule changed")
}

func ruleID(r *http.Request) (uint64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseUint(v, 10, 64)
	if err != nil || id == 0 {
		return 0, badRequest("rule id: want a positive whole number, got %q", v)
	}
	return id, nil
}

// readRuleSpec decodes a rule body strictly: an unknown or mistyped field
// is a 400 that names it.
func readRuleSpec(w http.ResponseWriter, r *http.Request) (rules.Spec, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRuleBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return rules.Spec{}, errorf(http.StatusRequestEntityTooLarge, "body larger than %d bytes", maxRuleBody)
		}
		return rules.Spec{}, badRequest("could not read the body: %v", err)
	}
	const example = `{"name": "Large Contacts exports", "kind": "threshold", "severity": "high", "params": {"min_records": 1000, "modules": ["Contacts"]}}`
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return rules.Spec{}, badRequest("body: want a JSON object such as %s", example)
	}
	known := []string{"name", "kind", "enabled", "severity", "notify", "params"}
	for k := range fields {
		if !containsString(known, k) {
			return rules.Spec{}, badRequest("%s: unknown field (known: %s)", k, strings.Join(known, ", "))
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var spec rules.Spec
	if err := dec.Decode(&spec); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return rules.Spec{}, badRequest("%s: wrong type (JSON %s), e.g. %s", te.Field, te.Value, example)
		}
		return rules.Spec{}, badRequest("body: %v; want e.g. %s", err, example)
	}
	if dec.More() {
		return rules.Spec{}, badRequest("body: want a single JSON object")
	}
	return spec, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ruleError maps the store's errors to answers.
func ruleError(err error) error {
	var ve *rules.ValidationError
	switch {
	case errors.As(err, &ve):
		return badRequest("%s", ve.Error())
	case errors.Is(err, rules.ErrNotFound):
		return notFound("no rule with this id")
	case errors.Is(err, rules.ErrDuplicateName):
		return errorf(http.StatusConflict, "name: a rule with this name exists already; choose another name or PUT /api/v1/rules/{id} to change it")
	}
	return err
}

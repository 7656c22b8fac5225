package api

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// GET /api/v1/stats?from=&to=&group_by=user|module|type|day
func (s *Server) stats(w http.ResponseWriter, r *http.Request, _ principal) error {
	q, err := parseQuery(r.URL, "from", "to", "group_by")
	if err != nil {
		return err
	}
	from, to, err := q.timeRange()
	if err != nil {
		return err
	}
	by := q.str("group_by")
	if by == "" {
		by = tracker.GroupByType
	}
	rows, err := tracker.Stats(r.Context(), s.db, from, to, by)
	if errors.Is(err, tracker.ErrBadGroupBy) {
		return badRequest("group_by: want user, module, type or day, got %q", by)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		GroupBy string            `json:"group_by"`
		From    *time.Time        `json:"from"`
		To      *time.Time        `json:"to"`
		Rows    []tracker.StatRow `json:"rows"`
	}{by, from, to, rows})
	return nil
}

// GET /api/v1/access-log?limit=&cursor=: who downloaded captured content or
// changed settings, newest first.
func (s *Server) accessLog(w http.ResponseWriter, r *http.Request, _ principal) error {
	q, err := parseQuery(r.URL, "limit", "cursor")
	if err != nil {
		return err
	}
	limit, _, err := q.intIn("limit", 1, tracker.MaxAccessLimit)
	if err != nil {
		return err
	}
	entries, next, err := tracker.ListAccess(r.Context(), s.db, int(limit), q.str("cursor"))
	if errors.Is(err, tracker.ErrBadCursor) {
		return badRequest("cursor: malformed or not from this list; start again without cursor")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Entries    []tracker.AccessEntry `json:"entries"`
		NextCursor string                `json:"next_cursor"`
	}{entries, next})
	return nil
}

// GET /api/v1/config: every dxt_config key but the secrets, as stored
// (strings: "1"/"0" for switches).
func (s *Server) getConfig(w http.ResponseWriter, r *http.Request, _ principal) error {
	if _, err := parseQuery(r.URL); err != nil {
		return err
	}
	raw, err := tracker.ReadConfig(r.Context(), s.db)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tracker.PublicConfig(raw))
	return nil
}

// maxConfigBody bounds PUT /api/v1/config.
const maxConfigBody = 64 << 10

// PUT /api/v1/config with a JSON object of key -> string, number or boolean.
// All keys are checked before any is written; the answer is the new config.
func (s *Server) putConfig(w http.ResponseWriter, r *http.Request, p principal) error {
	if _, err := parseQuery(r.URL); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxConfigBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, "body larger than %d bytes", maxConfigBody)
		}
		return badRequest("could not read the body: %v", err)
	}
	values, err := configValues(body)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := tracker.WriteConfig(ctx, s.db, values); err != nil {
		return err
	}
	if err := setConfigAuthor(ctx, s.db, values, p.name); err != nil {
		return err
	}
	if err := tracker.LogAccess(ctx, s.db, tracker.AccessEntry{Principal: p.name, AuthMethod: p.method,
		Action: tracker.ActionConfigUpdate, RemoteIP: remoteIP(r), Path: r.URL.Path, Status: http.StatusOK}); err != nil {
		return err
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s.log.Info().Str("request_id", info(ctx).id).Str("principal", p.name).Strs("keys", keys).Msg("settings changed")
	raw, err := tracker.ReadConfig(ctx, s.db)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tracker.PublicConfig(raw))
	return nil
}

// configValues decodes and validates a PUT body into normalised strings;
// every error names the key.
func configValues(body []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var in map[string]json.RawMessage
	if err := dec.Decode(&in); err != nil || in == nil {
		return nil, badRequest(`body: want a JSON object of settings, e.g. {"notify_min_records": 100, "track_copy": true}`)
	}
	if dec.More() {
		return nil, badRequest("body: want a single JSON object")
	}
	if len(in) == 0 {
		return nil, badRequest("body: no settings given")
	}
	known := map[string]tracker.ConfigKey{}
	var public []string
	for _, k := range tracker.ConfigKeys() {
		known[k.Name] = k
		if !k.Secret {
			public = append(public, k.Name)
		}
	}
	names := make([]string, 0, len(in))
	for n := range in {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make(map[string]string, len(in))
	for _, n := range names {
		k, ok := known[n]
		if !ok {
			return nil, badRequest("%s: unknown setting (known: %s)", n, strings.Join(public, ", "))
		}
		if k.Secret {
			return nil, badRequest("%s: cannot be read or set through the API", n)
		}
		v, err := scalar(in[n])
		if err != nil {
			return nil, badRequest("%s: %v", n, err)
		}
		clean, err := tracker.ValidateConfigValue(n, v)
		if err != nil {
			return nil, badRequest("%v", err) // names the key already
		}
		out[n] = clean
	}
	return out, nil
}

// scalar turns a JSON string, number or boolean into the stored text.
func scalar(raw json.RawMessage) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	}
	return "", fmt.Errorf("want a string, number or boolean, got %s", strings.TrimSpace(string(raw)))
}

// setConfigAuthor records who set the keys just written (dxt_config.updated_by),
// which a retention purge's audit row names as configured_by.
func setConfigAuthor(ctx context.Context, db *sql.DB, values map[string]string, who string) error {
	args := []any{who}
	marks := make([]string, 0, len(values))
	for n := range values {
		args = append(args, n)
		marks = append(marks, "?")
	}
	if _, err := db.ExecContext(ctx, `UPDATE dxt_config SET updated_by = ? WHERE name IN (`+strings.Join(marks, ",")+`)`, args...); err != nil {
		return fmt.Errorf("record who changed dxt_config: %w", err)
	}
	return nil
}

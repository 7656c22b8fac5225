package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/dxtracker/dxtracker/notify"
)

// GET /api/v1/notifications?state=&event_id=&limit=&before=: the
// notification outbox, newest first, without payloads; webhook URLs show
// only scheme and host. Failed and uncertain rows are what needs an
// administrator's attention.
func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request, _ principal) error {
	q, err := parseQuery(r.URL, "state", "event_id", "limit", "before")
	if err != nil {
		return err
	}
	f := notify.Filter{State: q.str("state")}
	if f.State != "" && !validState(f.State) {
		return badRequest("state: want one of %s, got %q", strings.Join(notify.States, ", "), f.State)
	}
	if id, ok, err := q.intIn("event_id", 1, 1<<62); err != nil {
		return err
	} else if ok {
		f.EventID = uint64(id)
	}
	if n, ok, err := q.intIn("limit", 1, notify.MaxListLimit); err != nil {
		return err
	} else if ok {
		f.Limit = int(n)
	}
	if id, ok, err := q.intIn("before", 1, 1<<62); err != nil {
		return err
	} else if ok {
		f.Before = uint64(id)
	}
	list, next, err := notify.List(r.Context(), s.db, f)
	if errors.Is(err, notify.ErrBadState) {
		return badRequest("state: %v", err)
	}
	if err != nil {
		return err
	}
	body := struct {
		Notifications []notify.Notification `json:"notifications"`
		NextBefore    *uint64               `json:"next_before"`
	}{Notifications: list}
	if next != 0 {
		body.NextBefore = &next
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func validState(s string) bool {
	for _, v := range notify.States {
		if v == s {
			return true
		}
	}
	return false
}

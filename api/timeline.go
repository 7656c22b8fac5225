package api

import (
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

// Limits of the timeline.
const (
	defaultTimelineLimit = 200
	maxTimelineLimit     = 1000
)

type timelineItem struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"` // login, logout or event
	// Session is the login history row of a login or logout.
	Session *vtiger.Session `json:"session,omitempty"`
	// Event is the take-out; LoginID names the session it happened in
	// (the newest login before it that was not signed off before it), and
	// IPMatchesSession compares the event's IP with that login's.
	Event            *tracker.Event `json:"event,omitempty"`
	LoginID          *int64         `json:"login_id,omitempty"`
	IPMatchesSession *bool          `json:"ip_matches_session,omitempty"`
}

type timelineBody struct {
	User      string         `json:"user"`
	UserID    *int64         `json:"user_id"`
	From      *time.Time     `json:"from"`
	To        *time.Time     `json:"to"`
	Items     []timelineItem `json:"items"`
	Truncated bool           `json:"truncated"`
}

// GET /api/v1/users/{name}/timeline?from=&to=&limit=
//
// One user's logins and logouts (vtiger_loginhistory) interleaved with the
// user's take-outs (copies and exports), newest first, at most limit items
// (default 200, at most 1000); truncated says more were in the range.
func (s *Server) userTimeline(w http.ResponseWriter, r *http.Request, _ principal) error {
	q, err := parseQuery(r.URL, "from", "to", "limit")
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.PathValue("name"))
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 255 {
		return badRequest("user name: want a Vtiger user name of at most 255 characters")
	}
	from, to, err := q.timeRange()
	if err != nil {
		return err
	}
	limit := defaultTimelineLimit
	if n, ok, err := q.intIn("limit", 1, maxTimelineLimit); err != nil {
		return err
	} else if ok {
		limit = int(n)
	}
	ctx := r.Context()
	body := timelineBody{User: name, From: from, To: to, Items: []timelineItem{}}
	u, found, err := s.dir.UserByName(ctx, name)
	if err != nil {
		return err
	}
	if found {
		body.User, body.UserID = u.UserName, &u.ID
	}

	sessions, moreSessions, err := s.dir.LoginSessions(ctx, body.User, from, to, limit)
	if err != nil {
		return err
	}
	events, next, err := tracker.ListEvents(ctx, s.db, tracker.EventFilter{User: body.User, From: from, To: to, Limit: limit})
	if err != nil {
		return err
	}
	if body.UserID == nil && len(sessions) == 0 && len(events) == 0 {
		return notFound("no Vtiger user %q and no history under that name", name)
	}

	items := make([]timelineItem, 0, 2*len(sessions)+len(events))
	inRange := func(t time.Time) bool {
		return (from == nil || !t.Before(*from)) && (to == nil || t.Before(*to))
	}
	for i := range sessions {
		ss := &sessions[i]
		if ss.LoginTime != nil && inRange(*ss.LoginTime) {
			items = append(items, timelineItem{At: *ss.LoginTime, Kind: "login", Session: ss})
		}
		if ss.LogoutTime != nil && inRange(*ss.LogoutTime) {
			items = append(items, timelineItem{At: *ss.LogoutTime, Kind: "logout", Session: ss})
		}
	}
	for i := range events {
		ev := &events[i]
		it := timelineItem{At: ev.OccurredAt, Kind: "event", Event: ev}
		if ss := sessionAt(sessions, ev.OccurredAt); ss != nil {
			it.LoginID = &ss.LoginID
			if ev.IP != nil {
				same := sameAddr(*ev.IP, ss.IP)
				it.IPMatchesSession = &same
			}
		}
		items = append(items, it)
	}
	// Newest first; at one instant a logout comes before the take-outs and
	// a login after them, as they happened.
	rank := map[string]int{"logout": 0, "event": 1, "login": 2}
	sort.SliceStable(items, func(i, j int) bool {
		if !items[i].At.Equal(items[j].At) {
			return items[i].At.After(items[j].At)
		}
		return rank[items[i].Kind] < rank[items[j].Kind]
	})
	body.Truncated = moreSessions || next != "" || len(items) > limit
	if len(items) > limit {
		items = items[:limit]
	}
	body.Items = items
	writeJSON(w, http.StatusOK, body)
	return nil
}

// sessionAt is the newest session that began at or before t and had not
// ended before t.
func sessionAt(sessions []vtiger.Session, t time.Time) *vtiger.Session {
	var best *vtiger.Session
	for i := range sessions {
		ss := &sessions[i]
		if ss.LoginTime == nil || ss.LoginTime.After(t) || (ss.LogoutTime != nil && ss.LogoutTime.Before(t)) {
			continue
		}
		if best == nil || ss.LoginTime.After(*best.LoginTime) {
			best = ss
		}
	}
	return best
}

func sameAddr(a, b string) bool {
	x, err1 := netip.ParseAddr(strings.TrimSpace(a))
	y, err2 := netip.ParseAddr(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
	}
	return x.Unmap() == y.Unmap()
}

package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

// lastRunsShown is how many past deliveries each scheduled report lists.
const lastRunsShown = 10

type scheduledReport struct {
	ReportID        int64       `json:"report_id"`
	Name            string      `json:"name"`
	PrimaryModule   string      `json:"primary_module"`
	ReportFound     bool        `json:"report_found"`
	ScheduleType    any         `json:"schedule_type"`
	Schedule        string      `json:"schedule"`
	Format          string      `json:"format"`
	NextTriggerTime *time.Time  `json:"next_trigger_time"`
	Recipients      []recipient `json:"recipients"`
	// External is true when any recipient is outside the company domains.
	External        bool        `json:"has_external_recipients"`
	RecipientsError string      `json:"recipients_error,omitempty"`
	LastRuns        []reportRun `json:"last_runs"`
}

type recipient struct {
	Name     string   `json:"name"`
	Email    string   `json:"email"`
	Via      []string `json:"via"`
	External bool     `json:"external"`
}

type reportRun struct {
	EventID     uint64    `json:"event_id"`
	OccurredAt  time.Time `json:"occurred_at"`
	RecordCount *int64    `json:"record_count"`
	HasContent  bool      `json:"has_content"`
	Notified    bool      `json:"notified"`
}

// GET /api/v1/scheduled-reports: every schedule with its report, resolved
// recipients (external ones flagged) and its last deliveries.
func (s *Server) scheduledReports(w http.ResponseWriter, r *http.Request, _ principal) error {
	if _, err := parseQuery(r.URL); err != nil {
		return err
	}
	ctx := r.Context()
	raw, err := tracker.ReadConfig(ctx, s.db)
	if err != nil {
		return err
	}
	domains, err := s.dir.CompanyDomains(ctx, tracker.ParseSettings(raw).CompanyDomains)
	if err != nil {
		return err
	}
	schedules, err := s.dir.Schedules(ctx)
	if err != nil {
		return err
	}
	out := make([]scheduledReport, 0, len(schedules))
	for _, sc := range schedules {
		id := int64(sc.ReportID)
		sr := scheduledReport{
			ReportID:        id,
			ScheduleType:    sc.ScheduleType,
			Schedule:        vtiger.DescribeSchedule(sc),
			Format:          sc.FileFormat,
			NextTriggerTime: utcPtr(sc.NextTriggerTime),
			Recipients:      []recipient{},
			LastRuns:        []reportRun{},
		}
		rep, ok, err := s.dir.Report(ctx, id)
		if err != nil {
			return err
		}
		if ok {
			sr.Name, sr.PrimaryModule, sr.ReportFound = rep.Name, rep.PrimaryModule, true
		}
		rcpts, err := s.dir.ResolveRecipients(ctx, sc, domains)
		switch {
		case errors.Is(err, vtiger.ErrMalformed):
			// Vtiger's own data, worth showing: the list below is what
			// the rest of the schedule resolves to.
			sr.RecipientsError = err.Error()
		case err != nil:
			// One broken schedule must not hide the others.
			s.log.Warn().Str("request_id", info(ctx).id).Int64("report_id", id).Err(err).Msg("resolve recipients")
			sr.RecipientsError = "recipients could not be resolved (request " + info(ctx).id + ")"
		}
		for _, rc := range rcpts {
			via := rc.Via
			if via == nil {
				via = []string{}
			}
			sr.Recipients = append(sr.Recipients, recipient{Name: rc.Name, Email: rc.Email, Via: via, External: rc.External})
			sr.External = sr.External || rc.External
		}
		runs, _, err := tracker.ListEvents(ctx, s.db, tracker.EventFilter{Type: tracker.TypeScheduledReport, ReportID: &id, Limit: lastRunsShown})
		if err != nil {
			return err
		}
		for _, e := range runs {
			sr.LastRuns = append(sr.LastRuns, reportRun{EventID: e.ID, OccurredAt: e.OccurredAt, RecordCount: e.RecordCount,
				HasContent: e.HasContent, Notified: e.Notified})
		}
		out = append(out, sr)
	}
	writeJSON(w, http.StatusOK, map[string]any{"scheduled_reports": out})
	return nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

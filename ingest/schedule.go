package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

// triggerSlack tolerates clock skew between the PHP host that decides a
// report is due and the database that stamps the binlog event.
const triggerSlack = 2 * time.Minute

// scheduleChange is one row change of vtiger_schedulereports.
type scheduleChange struct {
	at       time.Time
	after    vtiger.Schedule
	prev     *time.Time // next_trigger_time before the change
	delivery bool       // the cron delivered the report (see isDelivery)
	deleted  bool
}

// scheduleItem classifies a binlog change of vtiger_schedulereports.
// A delivery is an UPDATE that moves only next_trigger_time, from a time at
// or before the commit to a later time: that is what the cron does after
// mailing the report. An administrator's save rewrites the other columns
// too, so it is not a delivery, only a new state.
func (p *Processor) scheduleItem(ch binlog.RowChange, at time.Time, st tracker.Settings) (workItem, bool) {
	row := ch.After
	if ch.Action == binlog.Delete {
		row = ch.Before
	}
	s, err := vtiger.ParseScheduleRow(row)
	if err != nil {
		p.log.Warn().Err(err).Msg("ignoring unreadable vtiger_schedulereports row")
		return workItem{}, false
	}
	c := &scheduleChange{at: at.UTC(), after: s, deleted: ch.Action == binlog.Delete}
	if ch.Action == binlog.Update {
		before, err := vtiger.ParseScheduleRow(ch.Before)
		if err == nil {
			c.prev = before.NextTriggerTime
			c.delivery = isDelivery(ch.Before, ch.After, before, s, c.at)
		}
	}
	return workItem{sched: c, settings: st}, true
}

func isDelivery(beforeRow, afterRow binlog.Row, before, after vtiger.Schedule, at time.Time) bool {
	for col, v := range afterRow {
		if col == "next_trigger_time" {
			continue
		}
		if !sameValue(v, beforeRow[col]) {
			return false
		}
	}
	if after.NextTriggerTime == nil {
		return false
	}
	if before.NextTriggerTime == nil { // Vtiger treats an empty trigger time as due
		return true
	}
	return !before.NextTriggerTime.After(at.Add(triggerSlack)) && after.NextTriggerTime.After(*before.NextTriggerTime)
}

func scheduleKey(reportID int64, prev *time.Time) string {
	if prev == nil {
		return fmt.Sprintf("sched:%d:none", reportID)
	}
	return fmt.Sprintf("sched:%d:%d", reportID, prev.Unix())
}

// applySchedule records a schedule's new state and, for a delivery, the
// scheduled_report event (merged with a probe capture of the same run).
func (p *Processor) applySchedule(ctx context.Context, tx *sql.Tx, c scheduleChange, st tracker.Settings) ([]Created, error) {
	id := c.after.ReportID
	if c.deleted {
		if _, err := tx.ExecContext(ctx, `DELETE FROM dxt_schedule_state WHERE report_id = ?`, id); err != nil {
			return nil, fmt.Errorf("forget schedule of report %d: %w", id, err)
		}
		return nil, nil
	}
	var known sql.NullTime
	err := tx.QueryRowContext(ctx, `SELECT next_trigger_time FROM dxt_schedule_state WHERE report_id = ? FOR UPDATE`, id).Scan(&known)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read schedule state of report %d: %w", id, err)
	}
	if err := saveScheduleState(ctx, tx, id, c.after.NextTriggerTime); err != nil {
		return nil, err
	}
	// A replayed change whose result is already the known state was done.
	if !c.delivery || (known.Valid && c.after.NextTriggerTime != nil && known.Time.Equal(*c.after.NextTriggerTime)) {
		return nil, nil
	}
	if !st.TrackScheduledReports {
		p.log.Info().Int64("report_id", id).Msg("scheduled report delivery not logged: track_scheduled_reports is off")
		return nil, nil
	}
	ev, err := p.scheduleEvent(ctx, c.after, c.prev, c.at, st)
	if err != nil {
		return nil, err
	}
	return p.recordDelivery(ctx, tx, ev)
}

// recordDelivery inserts the binlog side of a delivery or merges it into the
// probe's event for the same run.
func (p *Processor) recordDelivery(ctx context.Context, tx *sql.Tx, ev tracker.NewEvent) ([]Created, error) {
	var existing uint64
	var source, details string
	err := tx.QueryRowContext(ctx, `SELECT id, source, details FROM dxt_event
WHERE type = 'scheduled_report' AND report_id = ? AND occurred_at BETWEEN ? AND ?
  AND NOT FIND_IN_SET('binlog', source)
ORDER BY ABS(TIMESTAMPDIFF(MICROSECOND, occurred_at, ?)) LIMIT 1 FOR UPDATE`,
		*ev.ReportID, ev.OccurredAt.Add(-p.opts.MergeWindow), ev.OccurredAt.Add(p.opts.MergeWindow), ev.OccurredAt).
		Scan(&existing, &source, &details)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		id, inserted, err := tracker.InsertEvent(ctx, tx, ev)
		if err != nil || !inserted {
			return nil, err
		}
		return []Created{{EventID: id, Type: ev.Type}}, nil
	case err != nil:
		return nil, fmt.Errorf("find probe capture of report %d: %w", *ev.ReportID, err)
	}
	// The probe's record count, file and occurred_at stay; the binlog adds
	// the schedule and the resolved recipients.
	merged, err := mergeDetails(details, ev.Details)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE dxt_event SET source = ?, details = ?, module = COALESCE(module, ?) WHERE id = ?`,
		tracker.AddSource(source, tracker.SourceBinlog), merged, ev.Module, existing); err != nil {
		return nil, fmt.Errorf("merge delivery of report %d into event %d: %w", *ev.ReportID, existing, err)
	}
	p.Counters.IntakeMerged.Add(1)
	return []Created{{EventID: existing, Type: ev.Type, Merged: true}}, nil
}

// mergeScheduledIntake joins a probe capture of a scheduled report to the
// binlog's event of the same run, or starts the event if the binlog has not
// shown the run yet.
func (p *Processor) mergeScheduledIntake(ctx context.Context, tx *sql.Tx, r intakeRow, ev tracker.NewEvent) (outcome, error) {
	o := outcome{intakeID: r.id, evType: ev.Type}
	if ev.ReportID != nil {
		var existing uint64
		var source, details string
		err := tx.QueryRowContext(ctx, `SELECT id, source, details FROM dxt_event
WHERE type = 'scheduled_report' AND report_id = ? AND occurred_at BETWEEN ? AND ?
  AND FIND_IN_SET('binlog', source) AND NOT FIND_IN_SET('probe', source)
ORDER BY ABS(TIMESTAMPDIFF(MICROSECOND, occurred_at, ?)) LIMIT 1 FOR UPDATE`,
			*ev.ReportID, ev.OccurredAt.Add(-p.opts.MergeWindow), ev.OccurredAt.Add(p.opts.MergeWindow), ev.OccurredAt).
			Scan(&existing, &source, &details)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return o, fmt.Errorf("intake %d: find delivery of report %d: %w", r.id, *ev.ReportID, err)
		}
		if err == nil {
			// The probe's keys win where both speak; the binlog adds schedule and recipients.
			merged, err := mergeDetails(mustJSON(ev.Details), decodeDetails(details))
			if err != nil {
				return o, err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE dxt_event SET source = ?, details = ?, record_count = ?, content_id = ?,
  module = COALESCE(module, ?), user_id = COALESCE(user_id, ?), user_name = COALESCE(user_name, ?) WHERE id = ?`,
				tracker.AddSource(source, tracker.SourceProbe), merged, ev.RecordCount, ev.ContentID, ev.Module, ev.UserID, ev.UserName, existing); err != nil {
				return o, fmt.Errorf("intake %d: merge into event %d: %w", r.id, existing, err)
			}
			p.Counters.IntakeMerged.Add(1)
			o.eventID, o.merged, o.note = existing, true, "merged into the binlog's scheduled_report event"
			return o, nil
		}
	}
	id, _, err := tracker.InsertEvent(ctx, tx, ev)
	if err != nil {
		return o, err
	}
	o.eventID = id
	return o, nil
}

// scheduleEvent builds the binlog side of a delivery: report, schedule and
// the recipients Vtiger mails, resolved now.
func (p *Processor) scheduleEvent(ctx context.Context, s vtiger.Schedule, prev *time.Time, at time.Time, st tracker.Settings) (tracker.NewEvent, error) {
	id := s.ReportID
	details := map[string]any{
		"report_id":   id,
		"format":      s.FileFormat,
		"schedule":    vtiger.DescribeSchedule(s),
		"schedule_id": s.ScheduleType,
	}
	if prev != nil {
		details["trigger_time"] = prev.UTC().Format(time.RFC3339)
	}
	if s.NextTriggerTime != nil {
		details["next_trigger_time"] = s.NextTriggerTime.UTC().Format(time.RFC3339)
	}
	ev := tracker.NewEvent{
		OccurredAt: at,
		Type:       tracker.TypeScheduledReport,
		Source:     tracker.SourceBinlog,
		ReportID:   ptr(id),
		DedupeKey:  scheduleKey(id, prev),
	}
	rep, ok, err := p.dir.Report(ctx, id)
	if err != nil {
		return ev, fmt.Errorf("look up report %d: %w", id, err)
	}
	if ok {
		details["report_name"] = rep.Name
		ev.Module = strPtr(rep.PrimaryModule)
		// The cron runs the report for its owner's schedule: the owner is
		// the person accountable for what it sends out.
		if u, found, err := p.dir.User(ctx, rep.Owner); err != nil {
			return ev, fmt.Errorf("look up owner of report %d: %w", id, err)
		} else if found {
			ev.UserID, ev.UserName = ptr(u.ID), ptr(u.UserName)
			details["user_role"] = "report_owner"
		}
	}
	domains, err := p.dir.CompanyDomains(ctx, st.CompanyDomains)
	if err != nil {
		return ev, fmt.Errorf("company mail domains: %w", err)
	}
	recips, err := p.dir.ResolveRecipients(ctx, s, domains)
	if err != nil {
		// A broken recipients column must not stop the log: record it.
		details["recipients_error"] = err.Error()
	}
	list := make([]map[string]any, 0, len(recips))
	external := 0
	for _, r := range recips {
		list = append(list, map[string]any{"name": r.Name, "email": r.Email, "via": r.Via, "external": r.External})
		if r.External {
			external++
		}
	}
	details["recipients"] = list
	details["external_recipients"] = external
	ev.Details = details
	return ev, nil
}

// ReconcileSchedules compares vtiger_schedulereports with the last state the
// daemon saw. A schedule whose trigger time moved on from a time already
// due was delivered while the binlog could not show it: that becomes a
// scheduled_report event marked reconstructed (its dedupe key is the one the
// binlog path would have used, so it is never counted twice).
func (p *Processor) ReconcileSchedules(ctx context.Context) (int, error) {
	schedules, err := p.dir.Schedules(ctx)
	if err != nil {
		return 0, fmt.Errorf("reconcile schedules: %w", err)
	}
	now := p.opts.Now()
	st := p.Settings()
	n := 0
	for _, s := range schedules {
		var created []Created
		err := p.inTx(ctx, func(tx *sql.Tx) error {
			var known sql.NullTime
			err := tx.QueryRowContext(ctx, `SELECT next_trigger_time FROM dxt_schedule_state WHERE report_id = ? FOR UPDATE`, s.ReportID).Scan(&known)
			if errors.Is(err, sql.ErrNoRows) {
				return saveScheduleState(ctx, tx, s.ReportID, s.NextTriggerTime)
			}
			if err != nil {
				return fmt.Errorf("read schedule state of report %d: %w", s.ReportID, err)
			}
			if !known.Valid || s.NextTriggerTime == nil || known.Time.Equal(*s.NextTriggerTime) {
				return saveScheduleState(ctx, tx, s.ReportID, s.NextTriggerTime)
			}
			if err := saveScheduleState(ctx, tx, s.ReportID, s.NextTriggerTime); err != nil {
				return err
			}
			if known.Time.After(now) || !s.NextTriggerTime.After(known.Time) || !st.TrackScheduledReports {
				return nil
			}
			prev := known.Time.UTC()
			ev, err := p.scheduleEvent(ctx, s, &prev, prev, st)
			if err != nil {
				return err
			}
			ev.Details["reconstructed"] = "delivery inferred from vtiger_schedulereports after the binlog was unavailable; time is the scheduled trigger time, earlier runs in the gap may be missing"
			created, err = p.recordDelivery(ctx, tx, ev)
			return err
		})
		if err != nil {
			return n, err
		}
		p.committed(created)
		n += len(created)
	}
	return n, nil
}

func saveScheduleState(ctx context.Context, tx *sql.Tx, reportID int64, next *time.Time) error {
	var v any
	if next != nil {
		v = next.UTC()
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO dxt_schedule_state (report_id, next_trigger_time, updated_at) VALUES (?, ?, UTC_TIMESTAMP(6))
ON DUPLICATE KEY UPDATE next_trigger_time = VALUES(next_trigger_time), updated_at = VALUES(updated_at)`, reportID, v); err != nil {
		return fmt.Errorf("save schedule state of report %d: %w", reportID, err)
	}
	return nil
}

// mergeDetails overlays add onto the JSON object base; keys of base win.
func mergeDetails(base string, add map[string]any) (string, error) {
	m := decodeDetails(base)
	for k, v := range add {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode merged details: %w", err)
	}
	return string(b), nil
}

func decodeDetails(s string) map[string]any {
	m := map[string]any{}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return map[string]any{"raw_details": s}
	}
	return m
}

func mustJSON(m map[string]any) string {
	b, err := json.Marshal(m)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// Package tracker owns the tracking log: the dxt_ schema, the events, their
// captured content and the settings the administrator controls.
package tracker

import (
	"encoding/json"
	"time"
)

// Event types (CONTRACTS §4).
const (
	TypeListviewExport  = "listview_export"
	TypeReportExport    = "report_export"
	TypeScheduledReport = "scheduled_report"
	TypeCopy            = "copy"
)

// Sources of an event; a merged event lists several, comma-separated.
const (
	SourceProbe  = "probe"
	SourceBinlog = "binlog"
	SourceBeacon = "beacon"
)

// Event is one row of dxt_event as the API shows it.
type Event struct {
	ID          uint64          `json:"id"`
	OccurredAt  time.Time       `json:"occurred_at"`
	Type        string          `json:"type"`
	UserID      *int64          `json:"user_id"`
	UserName    *string         `json:"user_name"`
	Module      *string         `json:"module"`
	RecordCount *int64          `json:"record_count"`
	IP          *string         `json:"ip"`
	UserAgent   *string         `json:"user_agent"`
	Source      string          `json:"source"`
	Details     json.RawMessage `json:"details"`
	HasContent  bool            `json:"has_content"`
	ContentName *string         `json:"content_name"`
	ContentSize *int64          `json:"content_size"`
	Notified    bool            `json:"notified"`
	ReportID    *int64          `json:"-"`
	ContentID   *uint64         `json:"-"`
}

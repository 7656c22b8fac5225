package notify

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// Rendered is the text of one message, without recipients or attachments.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
}

// Renderer writes the messages. It does no I/O and is safe for concurrent
// use. Every value from the database reaches the subject through oneLine
// (no line breaks, no control characters) and the HTML part through
// html/template's escaping.
type Renderer struct {
	vtigerURL string
}

// NewRenderer returns a renderer that links events to the Vtiger Settings
// page under vtigerURL (the CRM's base URL; "" = no link).
func NewRenderer(vtigerURL string) *Renderer {
	return &Renderer{vtigerURL: strings.TrimRight(strings.TrimSpace(vtigerURL), "/")}
}

const subjectPrefix = "[Data Export Tracker] "

// maxField bounds a one-line value taken from the database.
const maxField = 200

// EventLink is the URL of the event on the Vtiger Settings page: the
// tracking log filtered to the event's user, starting at the event (the
// page has no single-event view; its keyset cursor "after" of (occurred_at,
// id+1) puts the event in the first row). "" when no Vtiger URL is set.
func (r *Renderer) EventLink(ev tracker.Event) string {
	if r.vtigerURL == "" || ev.ID == 0 {
		return ""
	}
	q := url.Values{}
	q.Set("module", "DataExportTracker")
	q.Set("parent", "Settings")
	q.Set("view", "Index")
	q.Set("tab", "logs")
	if ev.UserName != nil && *ev.UserName != "" {
		q.Set("dxt_user", *ev.UserName)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(ev.OccurredAt.UTC().UnixMicro()))
	binary.BigEndian.PutUint64(b[8:], ev.ID+1)
	q.Set("after", base64.RawURLEncoding.EncodeToString(b[:]))
	return r.vtigerURL + "/index.php?" + q.Encode()
}

// eventView is what the event templates see.
type eventView struct {
	ID                          uint64
	WhenUTC, WhenISO            string
	User, Type, Module, Records string
	IP, UserAgent, Source       string
	ReportName                  string
	Recipients                  []recipientView
	Matches                     []Match
	Link                        string
	AttachmentNote              string
}

type recipientView struct {
	Name, Email string
	External    bool
}

// eventDetails is the part of dxt_event.details the message shows.
type eventDetails struct {
	ReportName         string `json:"report_name"`
	ExternalRecipients *int64 `json:"external_recipients"`
	Recipients         []struct {
		Name     string `json:"name"`
		Email    string `json:"email"`
		External bool   `json:"external"`
	} `json:"recipients"`
}

func parseDetails(raw json.RawMessage) eventDetails {
	var d eventDetails
	_ = json.Unmarshal(raw, &d) // details of any shape: show what parses
	return d
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Event renders the notification of one event. attachmentNote is "" or a
// sentence about the captured data (attached, too large...).
func (r *Renderer) Event(language string, ev tracker.Event, matches []Match, attachmentNote string) (Rendered, error) {
	l := lang(language)
	unknown := translate(l, "unknown")
	d := parseDetails(ev.Details)
	v := eventView{
		ID:             ev.ID,
		WhenUTC:        ev.OccurredAt.UTC().Format("2006-01-02 15:04:05 UTC"),
		WhenISO:        ev.OccurredAt.UTC().Format(time.RFC3339Nano),
		User:           orDefault(oneLine(str(ev.UserName), maxField), unknown),
		Type:           typeLabel(l, ev.Type),
		Module:         orDefault(oneLine(str(ev.Module), maxField), unknown),
		Records:        unknown,
		IP:             orDefault(oneLine(str(ev.IP), 64), unknown),
		UserAgent:      orDefault(oneLine(str(ev.UserAgent), 512), unknown),
		Source:         oneLine(ev.Source, maxField),
		ReportName:     oneLine(d.ReportName, maxField),
		Matches:        cleanMatches(matches),
		Link:           r.EventLink(ev),
		AttachmentNote: attachmentNote,
	}
	if ev.RecordCount != nil {
		v.Records = formatCount(*ev.RecordCount)
	}
	for _, rc := range d.Recipients {
		v.Recipients = append(v.Recipients, recipientView{Name: oneLine(rc.Name, maxField), Email: oneLine(rc.Email, maxField), External: rc.External})
	}
	subject := subjectPrefix + eventSubject(l, ev, d)
	return r.render(l, "event", subject, v)
}

func cleanMatches(ms []Match) []Match {
	out := make([]Match, 0, len(ms))
	for _, m := range ms {
		out = append(out, Match{Rule: oneLine(m.Rule, maxField), Kind: oneLine(m.Kind, 64), Severity: oneLine(m.Severity, 32), Reason: oneLine(m.Reason, 1000)})
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// eventSubject is the subject line after the prefix, e.g. "jsmith exported
// 3,120 Contacts".
func eventSubject(l string, ev tracker.Event, d eventDetails) string {
	user := orDefault(oneLine(str(ev.UserName), 60), translate(l, "unknown"))
	module := oneLine(str(ev.Module), 60)
	n := ""
	if ev.RecordCount != nil {
		n = formatCount(*ev.RecordCount)
	}
	ja := l == LangJapanese
	switch ev.Type {
	case tracker.TypeCopy:
		rows := "rows"
		if n == "1" {
			rows = "row"
		}
		switch {
		case ja && n != "" && module != "":
			return fmt.Sprintf("%s が %s から %s 行をコピーしました", user, module, n)
		case ja && module != "":
			return fmt.Sprintf("%s が %s からコピーしました", user, module)
		case ja:
			return fmt.Sprintf("%s がコピーしました", user)
		case n != "" && module != "":
			return fmt.Sprintf("%s copied %s %s from %s", user, n, rows, module)
		case module != "":
			return fmt.Sprintf("%s copied from %s", user, module)
		}
		return user + " copied data"
	case tracker.TypeScheduledReport:
		name := oneLine(d.ReportName, 80)
		if name == "" {
			name = "#" + fmt.Sprint(derefInt(ev.ReportID))
		}
		total := len(d.Recipients)
		ext := int64(0)
		if d.ExternalRecipients != nil {
			ext = *d.ExternalRecipients
		}
		// Without a record count (the probe's capture has not arrived)
		// the module alone says nothing worth a subject.
		what := ""
		if n != "" {
			what = strings.TrimSpace(n + " " + module)
		}
		if ja {
			s := fmt.Sprintf("スケジュールレポート「%s」が ", name)
			if n != "" {
				s += strings.TrimSpace(module+" "+n) + " 件を "
			}
			s += fmt.Sprintf("%d 名に送信しました", total)
			if ext > 0 {
				s += fmt.Sprintf("（社外 %d 名）", ext)
			}
			return s
		}
		s := fmt.Sprintf("Scheduled report %q sent ", name)
		if what != "" {
			s += what + " to "
		} else {
			s += "to "
		}
		s += fmt.Sprintf("%d %s", total, plural(int64(total), "recipient", "recipients"))
		if ext > 0 {
			s += fmt.Sprintf(" (%d external)", ext)
		}
		return s
	}
	if ja {
		switch {
		case module != "" && n != "":
			return fmt.Sprintf("%s が %s を %s 件エクスポートしました", user, module, n)
		case module != "":
			return fmt.Sprintf("%s が %s をエクスポートしました", user, module)
		}
		return user + " がデータをエクスポートしました"
	}
	switch {
	case module != "" && n != "":
		return fmt.Sprintf("%s exported %s %s", user, n, module)
	case module != "":
		return fmt.Sprintf("%s exported %s", user, module)
	case n != "":
		return fmt.Sprintf("%s exported %s %s", user, n, plural(*ev.RecordCount, "record", "records"))
	}
	return user + " exported data"
}

func derefInt(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// render executes the text and HTML templates of kind with v.
func (r *Renderer) render(l, kind, subject string, v any) (Rendered, error) {
	data := struct {
		Subject string
		Lang    string
		V       any
	}{oneLine(subject, 900), l, v}
	var tb, hb strings.Builder
	if err := textTemplates[l].ExecuteTemplate(&tb, kind, data); err != nil {
		return Rendered{}, fmt.Errorf("render %s text (%s): %w", kind, l, err)
	}
	if err := htmlTemplates[l].ExecuteTemplate(&hb, kind, data); err != nil {
		return Rendered{}, fmt.Errorf("render %s html (%s): %w", kind, l, err)
	}
	return Rendered{Subject: data.Subject, Text: tb.String(), HTML: hb.String()}, nil
}

var (
	textTemplates = map[string]*texttemplate.Template{}
	htmlTemplates = map[string]*htmltemplate.Template{}
)

func init() {
	for l := range messages {
		funcs := map[string]any{
			"t":   func(key string) string { return translate(l, key) },
			"num": formatCount,
		}
		textTemplates[l] = texttemplate.Must(texttemplate.New("text").Funcs(funcs).Parse(textSource))
		htmlTemplates[l] = htmltemplate.Must(htmltemplate.New("html").Funcs(funcs).Parse(htmlSource))
	}
}

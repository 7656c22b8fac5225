package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// KindAnchor is a daily anchor of the tamper-evidence chain (package
// chain): its head, sent out of the database so that whoever can write
// to the database still cannot rewrite the log unnoticed.
const KindAnchor = "anchor"

// AnchorData is what an anchor message says.
type AnchorData struct {
	Day       string    `json:"day"`       // the day the anchor is for (YYYY-MM-DD in the schedule's zone)
	Database  string    `json:"database"`  // which tracker database
	HeadSeq   uint64    `json:"head_seq"`  // the newest link
	HeadHash  string    `json:"head_hash"` // its hash
	TakenAt   time.Time `json:"taken_at"`
	PrunedSeq uint64    `json:"pruned_seq,omitempty"` // retention deleted the links up to this one
	Verify    string    `json:"verify"`               // the command that checks the database against this anchor
}

type anchorPayload struct {
	Lang   string     `json:"lang"`
	Anchor AnchorData `json:"anchor"`
}

// AnchorWebhookBody is the JSON a webhook receives for an anchor.
type AnchorWebhookBody struct {
	Kind      string     `json:"kind"` // "anchor"
	DedupeKey string     `json:"dedupe_key"`
	Anchor    AnchorData `json:"anchor"`
}

// anchorKey is one anchor per day, channel and recipient.
func anchorKey(day, channel, recipientHash string) string {
	return fmt.Sprintf("anc:%s:%s:%s", day, channel, recipientHash[:32])
}

// EnqueueAnchor writes the anchor into the outbox: one row per address in
// s.NotifyAdminEmail and one for s.NotifyWebhookURL, at most one per day
// and recipient (a second call the same day writes nothing). It returns
// the number of rows written; wake the worker after it.
func EnqueueAnchor(ctx context.Context, q tracker.Querier, a AnchorData, s tracker.Settings, at time.Time) (int, error) {
	payload, err := json.Marshal(anchorPayload{Lang: s.NotifyLanguage, Anchor: a})
	if err != nil {
		return 0, fmt.Errorf("enqueue anchor: encode: %w", err)
	}
	type target struct{ channel, recipient string }
	var targets []target
	seen := map[string]bool{}
	for _, r := range s.NotifyAdminEmail {
		r = strings.TrimSpace(r)
		if r == "" || seen[strings.ToLower(r)] {
			continue
		}
		seen[strings.ToLower(r)] = true
		targets = append(targets, target{ChannelEmail, r})
	}
	if u := strings.TrimSpace(s.NotifyWebhookURL); u != "" {
		targets = append(targets, target{ChannelWebhook, u})
	}
	written := 0
	for _, t := range targets {
		h := RecipientHash(t.recipient)
		n, err := insertRow(ctx, q, newRow{dedupeKey: anchorKey(a.Day, t.channel, h), kind: KindAnchor, channel: t.channel,
			recipient: t.recipient, recipientHash: h, payload: payload, at: at})
		if err != nil {
			return written, fmt.Errorf("enqueue anchor %s: %w", a.Day, err)
		}
		written += n
	}
	return written, nil
}

// Anchor renders the anchor e-mail. Every value is ours (numbers and hex)
// but the database name, which goes through oneLine and HTML escaping.
func (r *Renderer) Anchor(language string, a AnchorData) (Rendered, error) {
	ja := lang(language) == LangJapanese
	db := oneLine(a.Database, maxField)
	hash := oneLine(a.HeadHash, 64)
	verify := oneLine(a.Verify, 300)
	subject := fmt.Sprintf("Tamper-evidence anchor %s: link %d", oneLine(a.Day, 20), a.HeadSeq)
	intro := "Keep this message. It fixes the state of the tracking log: anyone who later rewrites the log in the database, even with full database rights, cannot make it match this hash."
	check := "To check the database against it, run:"
	if ja {
		subject = fmt.Sprintf("改ざん検知アンカー %s: リンク %d", oneLine(a.Day, 20), a.HeadSeq)
		intro = "このメールを保管してください。追跡ログの状態を固定します。後でデータベースのログを書き換えた者は、データベースの全権限があってもこのハッシュに一致させることはできません。"
		check = "データベースをこのアンカーと照合するには次を実行します:"
	}
	lines := []string{
		fmt.Sprintf("database: %s", db),
		fmt.Sprintf("head link: %d", a.HeadSeq),
		fmt.Sprintf("head hash: %s", hash),
		fmt.Sprintf("taken at: %s", a.TakenAt.UTC().Format(time.RFC3339)),
	}
	if a.PrunedSeq > 0 {
		lines = append(lines, fmt.Sprintf("links up to %d were deleted by retention", a.PrunedSeq))
	}
	text := subjectPrefix + subject + "\n\n" + intro + "\n\n" + strings.Join(lines, "\n") + "\n\n" + check + "\n  " + verify + "\n\n-- \n" + translate(lang(language), "footer") + "\n"
	var hb strings.Builder
	hb.WriteString("<!DOCTYPE html><html><body><p>" + html.EscapeString(intro) + "</p><pre>")
	for _, l := range lines {
		hb.WriteString(html.EscapeString(l) + "\n")
	}
	hb.WriteString("</pre><p>" + html.EscapeString(check) + "</p><pre>" + html.EscapeString(verify) + "</pre></body></html>\n")
	return Rendered{Subject: subjectPrefix + subject, Text: text, HTML: hb.String()}, nil
}

// anchorEmail renders an anchor row.
func (w *Worker) anchorEmail(r row) (Rendered, error) {
	var p anchorPayload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return Rendered{}, Permanent(fmt.Errorf("decode anchor payload: %w", err))
	}
	return w.opts.Renderer.Anchor(p.Lang, p.Anchor)
}

// sendAnchorWebhook posts an anchor row.
func (w *Worker) sendAnchorWebhook(ctx context.Context, r row, hook func() error) error {
	var p anchorPayload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return Permanent(fmt.Errorf("decode anchor payload: %w", err))
	}
	body, err := json.Marshal(AnchorWebhookBody{Kind: KindAnchor, DedupeKey: r.DedupeKey, Anchor: p.Anchor})
	if err != nil {
		return Permanent(fmt.Errorf("encode webhook body: %w", err))
	}
	return w.webhook.post(ctx, r.Recipient, r.DedupeKey, body, hook)
}

package ingest

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// Copy events: what a copy intake row (from the daemon's beacon writer or
// the extension's relay) becomes.
//
//   - Identical copies by one user (same SHA-256 of the text) less than
//     RepeatWindow after the previous one are one event: the later rows
//     are merged into it (details.repeat_count, details.last_repeat_at) and
//     marked processed pointing at it. A double Ctrl+C is one take-out.
//   - A contextmenu row is a hint, not a take-out: it is marked processed
//     with a note. A copy by the same user at most ContextMenuWindow after
//     one gets details.via = "context_menu" (the user copied with the
//     right-click menu).
//   - Both producers give the same shape: details.channel is "beacon" or
//     "relay", details.action "copy" or "cut", url, view, record, chars,
//     rows (also record_count), truncated, text_sha256, client_ts; the text
//     is the event's content. Source is beacon for the daemon's own
//     endpoint, probe for the relay (the extension wrote the row).
const (
	RepeatWindow      = 2 * time.Second
	ContextMenuWindow = 5 * time.Second
	// IntakeKindContextMenu is the intake kind of a right-click hint.
	IntakeKindContextMenu = "contextmenu"
)

const contextMenuNote = "context-menu hint, not a take-out by itself: a copy by the same user within 5s is marked via context_menu"

// copyTarget is the event an earlier copy row of this batch became: one
// already in dxt_event (eventID), or one still to be bulk-inserted (key,
// with its details map, which merges update in place).
type copyTarget struct {
	eventID uint64
	key     string
	details map[string]any
}

// earlierRow is a copy or contextmenu row of the same user, for the
// look-back.
type earlierRow struct {
	id         uint64
	kind       string
	occurredAt time.Time
	sha        string
	eventID    sql.NullInt64
	processed  bool
}

// copyBatch is what one applyIntake call knows about its copy rows, read
// in a few queries up front instead of several per row:
//   - copies, menus: per user, the copy and contextmenu rows from 5s before
//     the user's first row of the batch to its last, newest first;
//   - texts: the content of single-chunk copies, so all of them are
//     stored together after the loop (pending);
//   - targets: which event each copy row of the batch went to.
type copyBatch struct {
	copies  map[userSHA][]earlierRow // per user and text, newest first
	menus   map[int64][]earlierRow   // contextmenu rows per user, newest first
	texts   map[uint64][]byte
	targets map[uint64]*copyTarget
	pending []pendingContent
}

type userSHA struct {
	user int64
	sha  string
}

type pendingContent struct {
	r       intakeRow
	details map[string]any
	content tracker.SmallContent
}

// Bounds of the prefetch: the texts read at once (the rest take the
// streaming path) and the look-back rows per user.
const (
	prefetchTextBytes = 4 << 20
	maxHistoryRows    = 20000
)

func contextMenuOutcome(r intakeRow) outcome {
	return outcome{intakeID: r.id, note: contextMenuNote}
}

func (p *Processor) newCopyBatch(ctx context.Context, tx *sql.Tx, rows []intakeRow, settingsOf map[uint64]tracker.Settings) (*copyBatch, error) {
	cb := &copyBatch{copies: map[userSHA][]earlierRow{}, menus: map[int64][]earlierRow{},
		texts: map[uint64][]byte{}, targets: map[uint64]*copyTarget{}}
	type span struct {
		from, to time.Time
		maxID    uint64
		shas     map[string]bool
	}
	users := map[int64]*span{}
	var single []any
	for _, r := range rows {
		if r.kind != tracker.TypeCopy || !r.userID.Valid {
			continue
		}
		sp := users[r.userID.Int64]
		if sp == nil {
			sp = &span{from: r.occurredAt, to: r.occurredAt, shas: map[string]bool{}}
			users[r.userID.Int64] = sp
		}
		if sha := copySHA(r); sha != "" {
			sp.shas[sha] = true
		}
		if r.occurredAt.Before(sp.from) {
			sp.from = r.occurredAt
		}
		if r.occurredAt.After(sp.to) {
			sp.to = r.occurredAt
		}
		sp.maxID = max(sp.maxID, r.id)
		if r.chunks == 1 && settingsOf[r.id].CaptureContent && settingsOf[r.id].TrackCopy {
			single = append(single, r.id)
		}
	}
	for uid, sp := range users {
		h, err := lookBack(ctx, tx, uid, sp.from.Add(-max(RepeatWindow, ContextMenuWindow)), sp.to, sp.maxID, sp.shas)
		if err != nil {
			return nil, err
		}
		for _, e := range h {
			if e.kind == IntakeKindContextMenu {
				cb.menus[uid] = append(cb.menus[uid], e)
			} else if e.sha != "" {
				k := userSHA{uid, e.sha}
				cb.copies[k] = append(cb.copies[k], e)
			}
		}
	}
	if len(single) == 0 {
		return cb, nil
	}
	// The texts, up to a total size; a larger one is streamed as before.
	sizes, err := tx.QueryContext(ctx, `SELECT intake_id, LENGTH(data) FROM dxt_intake_chunk WHERE intake_id IN (`+placeholders(len(single))+`) AND seq = 0`, single...)
	if err != nil {
		return nil, fmt.Errorf("size copied texts: %w", err)
	}
	var take []any
	total := 0
	for sizes.Next() {
		var id uint64
		var n int
		if err := sizes.Scan(&id, &n); err != nil {
			sizes.Close()
			return nil, fmt.Errorf("size copied texts: %w", err)
		}
		if n <= tracker.ChunkSize && total+n <= prefetchTextBytes {
			take = append(take, id)
			total += n
		}
	}
	sizes.Close()
	if err := sizes.Err(); err != nil {
		return nil, fmt.Errorf("size copied texts: %w", err)
	}
	if len(take) == 0 {
		return cb, nil
	}
	data, err := tx.QueryContext(ctx, `SELECT intake_id, data FROM dxt_intake_chunk WHERE intake_id IN (`+placeholders(len(take))+`) AND seq = 0`, take...)
	if err != nil {
		return nil, fmt.Errorf("read copied texts: %w", err)
	}
	defer data.Close()
	for data.Next() {
		var id uint64
		var b []byte
		if err := data.Scan(&id, &b); err != nil {
			return nil, fmt.Errorf("read copied texts: %w", err)
		}
		cb.texts[id] = b
	}
	return cb, data.Err()
}

// lookBack reads one user's contextmenu rows, and copy rows of one of the
// texts shas (or whose text is only hashed in details), with occurred_at
// in [from, to] and an id below maxID, newest first. It uses the index
// (user_id, occurred_at) and takes no locks.
func lookBack(ctx context.Context, tx *sql.Tx, userID int64, from, to time.Time, maxID uint64, shas map[string]bool) ([]earlierRow, error) {
	args := []any{userID, from, to, maxID}
	inSHA := "FALSE"
	if len(shas) > 0 {
		inSHA = "content_sha256 IN (" + placeholders(len(shas)) + ")"
		for sha := range shas {
			args = append(args, sha)
		}
	}
	args = append(args, maxHistoryRows)
	rows, err := tx.QueryContext(ctx, `SELECT id, kind, occurred_at,
  COALESCE(content_sha256, CASE WHEN JSON_VALID(details) THEN JSON_UNQUOTE(JSON_EXTRACT(details, '$.text_sha256')) END),
  event_id, processed_at IS NOT NULL
FROM dxt_intake
WHERE user_id = ? AND occurred_at BETWEEN ? AND ? AND id < ?
  AND (kind = 'contextmenu' OR (kind = 'copy' AND (`+inSHA+` OR (content_sha256 IS NULL AND details LIKE '%text_sha256%'))))
ORDER BY occurred_at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("look back at earlier copies of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []earlierRow
	for rows.Next() {
		var e earlierRow
		var sha sql.NullString
		if err := rows.Scan(&e.id, &e.kind, &e.occurredAt, &sha, &e.eventID, &e.processed); err != nil {
			return nil, fmt.Errorf("look back at earlier copies of user %d: %w", userID, err)
		}
		e.sha = strings.ToLower(sha.String)
		out = append(out, e)
	}
	return out, rows.Err()
}

// newest returns the newest row of list (newest first) written before r
// (lower id) at most window before it.
func newest(list []earlierRow, r intakeRow, window time.Duration) *earlierRow {
	from := r.occurredAt.Add(-window)
	for i := range list {
		e := &list[i]
		if e.occurredAt.After(r.occurredAt) || e.id >= r.id {
			continue
		}
		if e.occurredAt.Before(from) {
			return nil
		}
		return e
	}
	return nil
}

// copyIntake handles one copy row: it is merged into an identical earlier
// copy (o != nil) or becomes a new event (ev), shaped and with its
// context-menu mark.
func (p *Processor) copyIntake(ctx context.Context, tx *sql.Tx, r intakeRow, st tracker.Settings, loginIPs map[string]string, cb *copyBatch) (tracker.NewEvent, *outcome, error) {
	sha := copySHA(r)
	if sha != "" && r.userID.Valid {
		if prev := newest(cb.copies[userSHA{r.userID.Int64, sha}], r, RepeatWindow); prev != nil {
			o, err := p.mergeRepeat(ctx, tx, r, *prev, cb)
			if err != nil || o != nil {
				return tracker.NewEvent{}, o, err
			}
		}
	}

	text, deferred := cb.texts[r.id]
	r.deferContent = deferred && st.CaptureContent
	ev, err := p.eventFromIntake(ctx, tx, r, st, loginIPs)
	if err != nil {
		return ev, nil, err
	}
	d := ev.Details
	if r.deferContent {
		cb.pending = append(cb.pending, pendingContent{r: r, details: d, content: tracker.SmallContent{
			In:   tracker.ContentInput{Name: r.contentName.String, MediaType: r.contentType.String, Truncated: d["truncated"] == true},
			Data: text,
		}})
	}
	channel := asString(d["via"])
	delete(d, "via")
	delete(d, "beacon_id") // the beacon writer's row key; intake_id links the row

	switch channel {
	case "beacon":
		ev.Source = tracker.SourceBeacon
	case "":
		channel = "unknown"
	}
	d["channel"] = channel
	if _, ok := d["action"]; !ok {
		d["action"] = "copy"
	}
	if sha != "" {
		d["text_sha256"] = sha
	}
	if r.userID.Valid {
		if menu := newest(cb.menus[r.userID.Int64], r, ContextMenuWindow); menu != nil {
			d["via"] = "context_menu"
			d["contextmenu_intake_id"] = menu.id
		}
	}
	cb.targets[r.id] = &copyTarget{key: ev.DedupeKey, details: d}
	return ev, nil, nil
}

// storeCopyContents writes the texts of the batch's new copy events in a
// few statements and links them to their events, with the same checks as
// a streamed content.
func (p *Processor) storeCopyContents(ctx context.Context, tx *sql.Tx, cb *copyBatch, bulk []tracker.NewEvent, bulkIDs []any) error {
	if len(cb.pending) == 0 {
		return nil
	}
	cs := make([]tracker.SmallContent, len(cb.pending))
	for i, pc := range cb.pending {
		cs[i] = pc.content
	}
	metas, err := tracker.WriteContents(ctx, tx, cs)
	if err != nil {
		return fmt.Errorf("store copied texts: %w", err)
	}
	index := make(map[uint64]int, len(bulkIDs))
	for i, id := range bulkIDs {
		index[id.(uint64)] = i
	}
	for i, pc := range cb.pending {
		bi, ok := index[pc.r.id]
		if !ok {
			return fmt.Errorf("intake %d: copied text stored but its event is not in the batch", pc.r.id)
		}
		bulk[bi].ContentID = ptr(metas[i].ID)
		if w := p.checkContent(pc.r, metas[i], 1, pc.content.In.Truncated, pc.details); len(w) > 0 {
			prev, _ := pc.details["warnings"].([]string)
			pc.details["warnings"] = append(prev, w...)
			p.log.Warn().Uint64("intake_id", pc.r.id).Strs("warnings", w).Msg("intake row accepted with warnings")
		}
	}
	return nil
}

// copySHA is the SHA-256 of the copied text as the producer gave it: the
// content's hash, else details.text_sha256 (kept when the text itself was
// not, capture_content off).
func copySHA(r intakeRow) string {
	if r.contentSHA.Valid && isSHA256(r.contentSHA.String) {
		return strings.ToLower(r.contentSHA.String)
	}
	if r.details.Valid && strings.Contains(r.details.String, "text_sha256") {
		if s := asString(decodeDetails(r.details.String)["text_sha256"]); isSHA256(s) {
			return strings.ToLower(s)
		}
	}
	return ""
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// mergeRepeat merges r into the event of prev, the newest identical copy
// less than RepeatWindow before it; it returns nil when that is not
// possible (prev made no copy event).
func (p *Processor) mergeRepeat(ctx context.Context, tx *sql.Tx, r intakeRow, prev earlierRow, cb *copyBatch) (*outcome, error) {
	target := cb.targets[prev.id]
	if target == nil {
		if !prev.processed || !prev.eventID.Valid {
			// Not logged (tracking was off) or not processed yet: this
			// copy stands on its own.
			return nil, nil
		}
		target = &copyTarget{eventID: uint64(prev.eventID.Int64)}
	}
	at := r.occurredAt.UTC().Format(time.RFC3339Nano)
	o := &outcome{intakeID: r.id, merged: true, evType: tracker.TypeCopy,
		note: fmt.Sprintf("identical copy within %s of intake %d: merged (repeat_count)", RepeatWindow, prev.id)}
	if target.details != nil {
		bumpRepeat(target.details, at)
		o.mergeKey = target.key
	} else {
		var details string
		err := tx.QueryRowContext(ctx, `SELECT details FROM dxt_event WHERE id = ? AND type = 'copy' FOR UPDATE`, target.eventID).Scan(&details)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil // the earlier row's event is not a copy event
		}
		if err != nil {
			return nil, fmt.Errorf("intake %d: read copy event %d: %w", r.id, target.eventID, err)
		}
		d := decodeDetails(details)
		bumpRepeat(d, at)
		b, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("intake %d: encode details of event %d: %w", r.id, target.eventID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE dxt_event SET details = ? WHERE id = ?`, string(b), target.eventID); err != nil {
			return nil, fmt.Errorf("intake %d: merge repeat into event %d: %w", r.id, target.eventID, err)
		}
		o.eventID = target.eventID
	}
	p.Counters.IntakeMerged.Add(1)
	cb.targets[r.id] = target
	return o, nil
}

func bumpRepeat(d map[string]any, at string) {
	n, ok := asInt64(d["repeat_count"])
	if !ok || n < 1 {
		n = 1
	}
	d["repeat_count"] = n + 1
	d["last_repeat_at"] = at
}

// loginIP is the user's current login IP (newest 'Signed in' row of
// vtiger_loginhistory), cached per batch; "" when the user never logged in.
func (p *Processor) loginIP(ctx context.Context, userName string, cache map[string]string) (string, error) {
	if ip, ok := cache[userName]; ok {
		return ip, nil
	}
	ip, ok, err := p.dir.LastLoginIP(ctx, userName)
	if err != nil {
		return "", fmt.Errorf("login IP of %s: %w", userName, err)
	}
	if !ok {
		ip = ""
	}
	cache[userName] = ip
	return ip, nil
}

// flagIPMismatch marks an event whose IP is not the address the user is
// logged in from: details.ip_mismatch and details.login_ip. A take-out from
// elsewhere than the session (a shared token, a proxy, a stolen session) is
// worth a look.
func (p *Processor) flagIPMismatch(ctx context.Context, userName, ip string, details map[string]any, cache map[string]string) error {
	login, err := p.loginIP(ctx, userName, cache)
	if err != nil || login == "" {
		return err
	}
	if !sameIP(ip, login) {
		details["ip_mismatch"] = true
		details["login_ip"] = login
	}
	return nil
}

// sameIP compares two addresses as addresses (::ffff:192.0.2.1 is
// 192.0.2.1), and as text when either is not one.
func sameIP(a, b string) bool {
	x, err1 := netip.ParseAddr(strings.TrimSpace(a))
	y, err2 := netip.ParseAddr(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
	}
	return x.Unmap().WithZone("") == y.Unmap().WithZone("")
}

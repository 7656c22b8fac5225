package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/dxtracker/dxtracker/mailer"
	"github.com/dxtracker/dxtracker/tracker"
)

// loadEvent reads the event of a kind=event row and its payload.
func (w *Worker) loadEvent(ctx context.Context, r row) (tracker.Event, eventPayload, error) {
	var p eventPayload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return tracker.Event{}, p, Permanent(fmt.Errorf("decode payload: %w", err))
	}
	if r.EventID == nil {
		return tracker.Event{}, p, Permanent(errors.New("event row without event id"))
	}
	ev, ok, err := tracker.GetEvent(ctx, w.db, *r.EventID)
	if err != nil {
		return tracker.Event{}, p, NotDelivered(err)
	}
	if !ok {
		return tracker.Event{}, p, Permanent(fmt.Errorf("event %d no longer exists", *r.EventID))
	}
	return ev, p, nil
}

// renderEvent renders the mail of an event, with its captured data
// attached when the payload says so and it is small enough.
func (w *Worker) renderEvent(ctx context.Context, r row) (Rendered, []mailer.Attachment, error) {
	ev, p, err := w.loadEvent(ctx, r)
	if err != nil {
		return Rendered{}, nil, err
	}
	var (
		attach []mailer.Attachment
		note   string
	)
	if p.Attach && ev.ContentID != nil {
		attach, note = w.attachment(ctx, p.Lang, ev)
	}
	rend, err := w.opts.Renderer.Event(p.Lang, ev, p.Matches, note)
	if err != nil {
		return Rendered{}, nil, Permanent(err)
	}
	return rend, attach, nil
}

// attachment reads the captured content of ev, or explains why it is not
// attached. A failure to read it never stops the notification.
func (w *Worker) attachment(ctx context.Context, l string, ev tracker.Event) ([]mailer.Attachment, string) {
	if ev.ContentSize != nil && *ev.ContentSize > w.opts.MaxAttachBytes {
		return nil, fmt.Sprintf("%s (%s bytes).", translate(l, "too_large"), formatCount(*ev.ContentSize))
	}
	rc, meta, err := tracker.OpenContent(ctx, w.db, *ev.ContentID)
	if err != nil {
		w.log.Warn().Err(err).Uint64("event_id", ev.ID).Msg("captured content could not be attached")
		return nil, translate(l, "attach_failed") + "."
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, w.opts.MaxAttachBytes+1))
	if err != nil {
		w.log.Warn().Err(err).Uint64("event_id", ev.ID).Msg("captured content could not be attached")
		return nil, translate(l, "attach_failed") + "."
	}
	if int64(len(data)) > w.opts.MaxAttachBytes {
		return nil, translate(l, "too_large") + "."
	}
	name := meta.Name
	if name == "" {
		name = fmt.Sprintf("event-%d.bin", ev.ID)
	}
	return []mailer.Attachment{{Name: name, ContentType: meta.MediaType, Data: data}},
		fmt.Sprintf("%s: %s (%s bytes).", translate(l, "attached"), oneLine(name, maxField), formatCount(int64(len(data))))
}

package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/dxtracker/dxtracker/mailer"
)

// errNoSMTP fails e-mail rows when the daemon has no SMTP server.
var errNoSMTP = errors.New("no SMTP server is configured (smtp_addr): e-mail notifications cannot be sent")

// deliver sends one claimed row and records the outcome. It never returns
// an error: every outcome is a state of the row (or, if even that cannot be
// written, the row stays claimed and is recovered later).
func (w *Worker) deliver(ctx context.Context, r row) {
	log := w.log.With().Uint64("outbox_id", r.ID).Str("kind", r.Kind).Str("channel", r.Channel).
		Str("recipient", logRecipient(r)).Int("attempt", r.Attempts).Logger()
	if r.EventID != nil {
		log = log.With().Uint64("event_id", *r.EventID).Logger()
	}
	hookRan := false
	hook := func() error {
		if err := markDelivering(ctx, w.db, r, w.opts.Now()); err != nil {
			return err
		}
		hookRan = true
		return nil
	}
	var err error
	switch r.Channel {
	case ChannelEmail:
		err = w.sendEmail(ctx, r, hook)
	case ChannelWebhook:
		err = w.sendWebhook(ctx, r, hook)
	default:
		err = Permanent(fmt.Errorf("unknown channel %q", r.Channel))
	}
	now := w.opts.Now()

	var (
		state, cause string
		ok           bool
		dbErr        error
	)
	var record func() (bool, error)
	switch {
	case err == nil:
		state = StateSent
		record = func() (bool, error) { return markSent(ctx, w.db, r, now) }
	case IsPermanent(err):
		state, cause = StateFailed, err.Error()
		record = func() (bool, error) { return markFinal(ctx, w.db, r, StateFailed, now, cause) }
	case hookRan && !isNotDelivered(err):
		state, cause = StateUncertain, err.Error()+"; it may or may not have been accepted, so it is not sent again"
		record = func() (bool, error) { return markFinal(ctx, w.db, r, StateUncertain, now, cause) }
	case now.Sub(r.CreatedAt) >= w.opts.GiveUpAfter:
		state, cause = StateFailed, fmt.Sprintf("gave up after %s of attempts: %v", w.opts.GiveUpAfter, err)
		record = func() (bool, error) { return markFinal(ctx, w.db, r, StateFailed, now, cause) }
	default:
		state, cause = StatePending, err.Error()
		next := now.Add(backoff(r.Attempts, w.opts.RetryBase, w.opts.RetryMax))
		record = func() (bool, error) { return markRetry(ctx, w.db, r, now, next, cause) }
		log = log.With().Time("next_attempt_at", next).Logger()
	}
	// The outcome update is guarded by (id, state, attempts), so repeating
	// it is harmless; a database restart right after the server accepted
	// the mail would otherwise leave a delivered row to be recovered as
	// "uncertain".
	for wait := 100 * time.Millisecond; ; wait *= 2 {
		ok, dbErr = record()
		if dbErr == nil || wait > 3*time.Second || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	switch {
	case dbErr != nil:
		log.Error().Err(dbErr).Str("outcome", state).AnErr("send_error", err).
			Msg("could not record the outcome of a notification; it is recovered at the next start")
		return
	case !ok:
		log.Warn().Str("outcome", state).Msg("notification row was taken over by another worker or a restart while it was sent; left as it is")
		return
	}
	if r.Kind == KindSummary && (state == StateSent || state == StateFailed || state == StateUncertain) {
		if err := settleSummarized(ctx, w.db, r.Payload, state == StateSent, now); err != nil {
			log.Error().Err(err).Msg("could not settle the rows of a summary")
		}
	}
	if r.EventID != nil && state != StatePending {
		if err := updateEventState(ctx, w.db, *r.EventID); err != nil {
			log.Error().Err(err).Msg("could not update the event's notify state")
		}
	}
	switch state {
	case StateSent:
		log.Info().Str("outcome", state).Msg("notification sent")
	case StatePending:
		log.Warn().Str("outcome", state).Str("error", cause).Msg("notification failed for now; will retry")
	default:
		log.Error().Str("outcome", state).Str("error", cause).Msg("notification not delivered")
	}
}

// logRecipient names the recipient in logs: the address, or only the
// scheme and host of a webhook (its path may hold a token).
func logRecipient(r row) string {
	if r.Channel != ChannelWebhook {
		return r.Recipient
	}
	return redactURL(r.Recipient)
}

// redactURL keeps scheme and host of a URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "(webhook)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// sendEmail renders and sends an e-mail row.
func (w *Worker) sendEmail(ctx context.Context, r row, hook func() error) error {
	if w.mail == nil {
		return Permanent(errNoSMTP)
	}
	msg, err := w.buildEmail(ctx, r)
	if err != nil {
		return err
	}
	err = w.mail.Send(ctx, msg, hook)
	switch {
	case err == nil:
		return nil
	case mailer.IsPermanent(err):
		return Permanent(err)
	case mailer.IsUncertain(err):
		return err
	default:
		// An answered refusal, a failure before the final dot, or the
		// hook's own error: the server does not have the message.
		return NotDelivered(err)
	}
}

// buildEmail renders the message of an e-mail row.
func (w *Worker) buildEmail(ctx context.Context, r row) (*mailer.Message, error) {
	var (
		rend    Rendered
		attach  []mailer.Attachment
		headers = map[string]string{"Auto-Submitted": "auto-generated", "X-DXT-Kind": r.Kind}
		err     error
	)
	switch r.Kind {
	case KindEvent:
		rend, attach, err = w.renderEvent(ctx, r)
		if r.EventID != nil {
			headers["X-DXT-Event-ID"] = strconv.FormatUint(*r.EventID, 10)
		}
	case KindSummary:
		var p summaryPayload
		if err := json.Unmarshal(r.Payload, &p); err != nil {
			return nil, Permanent(fmt.Errorf("decode summary payload: %w", err))
		}
		rend, err = w.opts.Renderer.Summary(p)
	case KindDigest:
		var p digestPayload
		if err := json.Unmarshal(r.Payload, &p); err != nil {
			return nil, Permanent(fmt.Errorf("decode digest payload: %w", err))
		}
		rend, err = w.opts.Renderer.Digest(p.Lang, p.Digest)
	case KindAnchor:
		rend, err = w.anchorEmail(r)
	default:
		err = Permanent(fmt.Errorf("unknown kind %q", r.Kind))
	}
	if err != nil {
		return nil, err
	}
	return &mailer.Message{
		To:          []string{r.Recipient},
		Subject:     rend.Subject,
		Text:        rend.Text,
		HTML:        rend.HTML,
		Attachments: attach,
		MessageID:   MessageID(r.ID, r.DedupeKey, w.domain),
		Date:        w.opts.Now(),
		Headers:     headers,
	}, nil
}

// sendWebhook posts a webhook row.
func (w *Worker) sendWebhook(ctx context.Context, r row, hook func() error) error {
	if r.Kind == KindAnchor {
		return w.sendAnchorWebhook(ctx, r, hook)
	}
	if r.Kind != KindEvent || r.EventID == nil {
		return Permanent(fmt.Errorf("webhooks carry events only, not %q rows", r.Kind))
	}
	ev, p, err := w.loadEvent(ctx, r)
	if err != nil {
		return err
	}
	body, err := json.Marshal(WebhookBody{Kind: KindEvent, DedupeKey: r.DedupeKey, Event: ev, Matches: p.Matches, Link: w.opts.Renderer.EventLink(ev)})
	if err != nil {
		return Permanent(fmt.Errorf("encode webhook body: %w", err))
	}
	return w.webhook.post(ctx, r.Recipient, r.DedupeKey, body, hook)
}

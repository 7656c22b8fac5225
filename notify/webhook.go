package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// Webhook headers.
const (
	HeaderTimestamp   = "X-DXT-Timestamp"
	HeaderSignature   = "X-DXT-Signature"
	HeaderIdempotency = "Idempotency-Key"
)

// WebhookBody is the JSON a webhook receives.
type WebhookBody struct {
	Kind      string        `json:"kind"` // "event"
	DedupeKey string        `json:"dedupe_key"`
	Event     tracker.Event `json:"event"` // as GET /api/v1/events/{id} shows it
	Matches   []Match       `json:"matches"`
	Link      string        `json:"link,omitempty"`
}

// Sign returns the X-DXT-Signature value of a webhook request:
// "sha256=" + hex HMAC-SHA256 under secret of timestamp + "." + body.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a signature made by Sign in constant time. A
// receiver should also refuse timestamps far from its clock.
func VerifySignature(secret []byte, timestamp string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature))
}

// webhookSender posts signed JSON.
type webhookSender struct {
	client *http.Client
	secret []byte
	now    func() time.Time
}

// maxWebhookAnswer bounds what is read of a receiver's answer.
const maxWebhookAnswer = 64 << 10

// post sends body to target. beforeSend runs just before the request goes
// out; its error aborts. The returned error is classified for the state
// machine: Permanent for a 4xx (but 408 and 429), NotDelivered when the
// receiver answered otherwise or the request was never written, and
// unclassified when the request went out and no answer came (uncertain).
// No error message contains the URL: it may carry a token (Slack, Teams).
func (s *webhookSender) post(ctx context.Context, target, idempotencyKey string, body []byte, beforeSend func() error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Permanent(errors.New("webhook URL is not usable"))
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "dxtracker-webhook/1")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderIdempotency, idempotencyKey)
	if len(s.secret) > 0 {
		req.Header.Set(HeaderSignature, Sign(s.secret, ts, body))
	}
	var wrote bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteHeaders: func() { wrote = true },
	}))
	if err := beforeSend(); err != nil {
		return NotDelivered(err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		err = fmt.Errorf("webhook request: %w", err)
		if !wrote {
			return NotDelivered(err)
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxWebhookAnswer))
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return NotDelivered(fmt.Errorf("webhook answered %d %s", code, http.StatusText(code)))
	default:
		return Permanent(fmt.Errorf("webhook answered %d %s", code, http.StatusText(code)))
	}
}

// newWebhookClient does not follow redirects (a POST would become a GET)
// and bounds every request.
func newWebhookClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

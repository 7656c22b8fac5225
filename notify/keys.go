package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// RecipientHash is dxt_outbox.recipient_hash: SHA-256 hex of the lower-case
// recipient (an address or a webhook URL).
func RecipientHash(recipient string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(recipient))))
	return hex.EncodeToString(sum[:])
}

// eventKey is the dedupe key of one event's notification on one channel to
// one recipient.
func eventKey(eventID uint64, channel, recipientHash string) string {
	return fmt.Sprintf("ev:%d:%s:%s", eventID, channel, recipientHash[:32])
}

// summaryKey names the summary of a recipient's held rows by the first
// held row: the same set of held rows always makes the same key, so two
// workers or a restart never write two summaries for one storm.
func summaryKey(recipientHash string, firstHeldID uint64) string {
	return fmt.Sprintf("sum:%s:%d", recipientHash[:32], firstHeldID)
}

// digestKey is one digest per day, channel and recipient.
func digestKey(day, channel, recipientHash string) string {
	return fmt.Sprintf("dig:%s:%s:%s", day, channel, recipientHash[:32])
}

// MessageID is the deterministic Message-ID of an outbox row, so that a
// duplicate, should one ever happen, is recognisable (and collapsed by
// many mail clients).
func MessageID(outboxID uint64, dedupeKey, fromDomain string) string {
	sum := sha256.Sum256([]byte(dedupeKey))
	if fromDomain == "" {
		fromDomain = "dxtracker.invalid"
	}
	return fmt.Sprintf("<dxt-%d-%s@%s>", outboxID, hex.EncodeToString(sum[:8]), fromDomain)
}

// domainOf returns the domain of an address such as "DXT <dxt@example.com>".
func domainOf(from string) string {
	from = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(from), ">"))
	i := strings.LastIndexByte(from, '@')
	if i < 0 || i == len(from)-1 {
		return ""
	}
	d := strings.ToLower(from[i+1:])
	if strings.ContainsAny(d, " <>\r\n\t\"") {
		return ""
	}
	return d
}

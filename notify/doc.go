// Package notify tells administrators about take-outs: an outbox of
// notifications (dxt_outbox) written in the transaction of the event that
// caused them, a worker that delivers them by e-mail or webhook, a storm
// limit per recipient with one summary of what was held back, and a daily
// digest.
//
// Every outbox row follows one state machine, so that a message is never
// sent twice, even when the process dies at the worst moment:
//
//	pending ──claim──▶ sending ──beforeCommit──▶ delivering ──accepted──▶ sent
//	   ▲                  │                          │
//	   └──temporary error─┘                          └─no answer──▶ uncertain
//	pending ──over the recipient's limit──▶ held ──window free──▶ summarized
//	any ──permanent error, or 24 h of temporary ones──▶ failed
//
// "sending" is committed before the first byte goes out; "delivering" is
// committed from the mailer's beforeCommit hook, after the message data
// and before the final dot (for a webhook: just before the request). At
// start, rows left in "sending" go back to "pending" (the receiver never
// got the final dot), rows left in "delivering" become "uncertain": the
// receiver may or may not have accepted them, so they are not sent again
// but counted as failures needing attention. A crash at that instant can
// therefore lose (never duplicate) at most the messages in flight, one per
// delivery slot, and says so in the metrics, readyz and the API.
//
// Every state change is a conditional UPDATE on (id, state, attempts): a
// worker that lost its claim (another daemon recovered the row) cannot move
// it any more and aborts before the final dot.
package notify

// Row kinds (dxt_outbox.kind).
const (
	KindEvent   = "event"
	KindSummary = "summary"
	KindDigest  = "digest"
)

// Channels (dxt_outbox.channel).
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
)

// States (dxt_outbox.state).
const (
	StatePending    = "pending"
	StateSending    = "sending"
	StateDelivering = "delivering"
	StateSent       = "sent"
	StateHeld       = "held"
	StateSummarized = "summarized"
	StateFailed     = "failed"
	StateUncertain  = "uncertain"
)

// States lists every state, in the order the API and metrics show them.
var States = []string{StatePending, StateSending, StateDelivering, StateSent, StateHeld, StateSummarized, StateFailed, StateUncertain}

// Event notify states (dxt_event.notify_state).
const (
	EventNone    = "none"
	EventPending = "pending"
	EventSent    = "sent"
	EventFailed  = "failed"
)

package notify

import "errors"

// A sender classifies its failures by wrapping them. An unwrapped error
// returned after the "delivering" hook ran means "no answer": the receiver
// may have accepted the message, so the row becomes uncertain and is never
// sent again.

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

type notDeliveredError struct{ err error }

func (e *notDeliveredError) Error() string { return e.err.Error() }
func (e *notDeliveredError) Unwrap() error { return e.err }

// Permanent marks err as a refusal that retrying cannot fix (an SMTP 5xx,
// an HTTP 4xx): the row fails at once. It implies NotDelivered.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// NotDelivered marks err as a failure after which the receiver certainly
// does not have the message (it answered with a temporary refusal, or the
// request was never written): retrying is safe.
func NotDelivered(err error) error {
	if err == nil {
		return nil
	}
	return &notDeliveredError{err}
}

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// isNotDelivered reports whether err was marked NotDelivered or Permanent.
func isNotDelivered(err error) bool {
	var n *notDeliveredError
	return IsPermanent(err) || errors.As(err, &n)
}

package sink

import (
	"bytes"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// session is one SMTP connection to the sink.
type session struct {
	s      *Sink
	conn   *smtp.Conn
	user   string // authenticated user, "" when none
	mech   string // mechanism that authenticated
	from   string
	to     []string
	secure bool
}

var _ smtp.AuthSession = (*session)(nil)

func (se *session) AuthMechanisms() []string {
	if se.s.opts.Users == nil {
		return nil
	}
	return se.s.mechs
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	if se.s.opts.Users == nil || !contains(se.s.mechs, mech) {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	check := func(user, pass string) error {
		if want, ok := se.s.opts.Users[user]; !ok || want != pass {
			return smtp.ErrAuthFailed
		}
		se.user, se.mech = user, mech
		return nil
	}
	if mech == "PLAIN" {
		return sasl.NewPlainServer(func(identity, user, pass string) error {
			if identity != "" && identity != user {
				return smtp.ErrAuthFailed
			}
			return check(user, pass)
		}), nil
	}
	return &loginServer{check: check}, nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.opts.Users != nil && se.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	if err := se.s.failureAt(StageMail); err != nil {
		return err
	}
	se.from, se.to = from, nil
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := se.s.failureAt(StageRcpt); err != nil {
		return err
	}
	se.to = append(se.to, to)
	return nil
}

// Data records the message once it is complete (the final dot was read);
// a connection closed before the dot records nothing.
func (se *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return err
	}
	if err := se.s.failureAt(StageData); err != nil {
		return err
	}
	_, secure := se.conn.TLSConnectionState()
	rec := newReceived(se.from, append([]string(nil), se.to...), buf.Bytes())
	rec.User, rec.AuthMech, rec.TLS, rec.At = se.user, se.mech, secure, time.Now()
	se.s.record(rec)
	return nil
}

func (se *session) Reset()        { se.from, se.to = "", nil }
func (se *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN (go-sasl has only the
// client side): prompt for the user name, then the password.
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if len(response) == 0 { // no initial response: ask for the user name
			return []byte("Username:"), false, nil
		}
		fallthrough
	case 1:
		l.user, l.step = string(response), 2
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(response))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

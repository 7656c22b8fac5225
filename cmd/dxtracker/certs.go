package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"sync/atomic"

	"github.com/dxtracker/dxtracker/config"
)

// certSwitch serves the listeners' certificate; SIGHUP loads a renewed one
// without closing the listeners.
type certSwitch struct {
	cert atomic.Pointer[tls.Certificate]
	on   bool
}

// newCertSwitch loads tls_cert and tls_key when set (config ensures both
// or neither).
func newCertSwitch(cfg config.Config) (*certSwitch, error) {
	c := &certSwitch{on: cfg.TLSCert != ""}
	if !c.on {
		return c, nil
	}
	return c, c.load(cfg)
}

func (c *certSwitch) load(cfg config.Config) error {
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return &config.Error{Key: "tls_cert", Problem: fmt.Sprintf("cannot load the certificate %s with the key %s: %v (both must be PEM files readable by the daemon's user, the key matching the certificate)", cfg.TLSCert, cfg.TLSKey, err),
			Example: `tls_cert = "/etc/dxtracker/tls/cert.pem" and tls_key = "/etc/dxtracker/tls/key.pem"`}
	}
	c.cert.Store(&cert)
	return nil
}

// config is the listeners' TLS configuration; nil means plain HTTP.
func (c *certSwitch) config() *tls.Config {
	if !c.on {
		return nil
	}
	return &tls.Config{MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.cert.Load(), nil }}
}

// listen opens a TCP listener, speaking TLS when tlsConf is set.
func listen(addr string, tlsConf *tls.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil || tlsConf == nil {
		return ln, err
	}
	return tls.NewListener(ln, tlsConf), nil
}

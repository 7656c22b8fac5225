package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/sandbox"
)

// selfSigned writes a certificate for 127.0.0.1 and its key; it returns
// their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certPath, keyPath string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dxtracker test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certPath, keyPath, pool
}

func TestAPIAndBeaconListenersSpeakTLSWithTheConfiguredCertificate(t *testing.T) {
	s := newStack(t, sandbox.Options{ServerID: 1})
	certPath, keyPath, pool := selfSigned(t)
	beaconAddr := freeAddr(t)
	cmd := exec.Command(daemonBinary(t), "run")
	cmd.Env = s.env("DXT_TLS_CERT="+certPath, "DXT_TLS_KEY="+keyPath, "DXT_BEACON_LISTEN="+beaconAddr)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &lockedWriter{w: &out}, &lockedWriter{w: &out}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := client.Get("https://" + s.listen + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no HTTPS health answer: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Plain HTTP on the TLS port gets no API answer.
	if res, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + s.listen + "/healthz"); err == nil {
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Fatal("plain HTTP was served on the TLS listener")
		}
	}
	// The beacon listener uses the same certificate; a client that does not
	// trust it is refused by the handshake.
	res, err := client.Post("https://"+beaconAddr+"/api/v1/beacons", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("beacon over HTTPS: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("empty beacon over HTTPS: status %d, want 400 or 401", res.StatusCode)
	}
	_, err = (&http.Client{Timeout: 5 * time.Second}).Get("https://" + s.listen + "/healthz")
	var uerr *tls.CertificateVerificationError
	if !errors.As(err, &uerr) {
		t.Fatalf("untrusting client: got %v, want a certificate verification error", err)
	}
}

func TestUnreadableCertificateIsAConfigErrorNamingTheKey(t *testing.T) {
	cmd := exec.Command(daemonBinary(t), "run")
	cmd.Env = []string{"DXT_MYSQL_DSN=u:p@tcp(127.0.0.1:1)/vtiger", "DXT_SERVER_ID=7",
		"DXT_TLS_CERT=/nonexistent/cert.pem", "DXT_TLS_KEY=/nonexistent/key.pem", "PATH=/usr/bin:/bin"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 78 || !strings.Contains(out.String(), "tls_cert") {
		t.Fatalf("exit %v, output:\n%s", err, out.String())
	}
}

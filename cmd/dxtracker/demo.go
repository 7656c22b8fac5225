package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/tracker"
)

// cmdDemo runs the product on an embedded default: a private MariaDB with
// binlog, the minimal Vtiger schema with sample data, the daemon, and a
// scripted scenario. It needs nothing but mariadb-server installed.
func cmdDemo(ctx context.Context, args, env []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	once := fs.Bool("once", false, "play the scenario, print the results and exit (no waiting for Ctrl+C)")
	listen := fs.String("listen", "127.0.0.1:8787", "API address")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	fmt.Fprintln(stdout, "Starting a private MariaDB with binlog (ROW) in a temp dir...")
	srv, err := sandbox.Start(ctx, sandbox.Options{ServerID: 1})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer srv.Close()
	if err := sandbox.CreateDatabase(ctx, srv, "vtiger"); err != nil {
		return err
	}
	dsn := srv.DSN("vtiger")
	if err := sandbox.LoadVtigerMinimal(ctx, dsn); err != nil {
		return err
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := tracker.Migrate(ctx, db); err != nil {
		return err
	}
	token, _, err := tracker.CreateToken(ctx, db, "demo")
	if err != nil {
		return err
	}
	if ln, err := net.Listen("tcp", *listen); err != nil {
		*listen = "127.0.0.1:0"
	} else {
		ln.Close()
	}
	if *listen == "127.0.0.1:0" {
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			return err
		}
		*listen = ln.Addr().String()
		ln.Close()
	}

	cfg, log, _, err := loadConfig(nil, append(env,
		"DXT_MYSQL_DSN="+dsn, "DXT_SERVER_ID=4242", "DXT_LISTEN="+*listen, "DXT_LOG_LEVEL=warn", "DXT_HEARTBEAT=1s"), stderr)
	if err != nil {
		return err
	}
	dctx, stopDaemon := context.WithCancel(ctx)
	daemonErr := make(chan error, 1)
	go func() { daemonErr <- runDaemon(dctx, cfg, log) }()
	defer func() { stopDaemon(); <-daemonErr }()
	if err := waitHealthy(ctx, *listen, daemonErr); err != nil {
		return err
	}

	fmt.Fprintln(stdout, "Daemon running. Playing the scenario: jsmith (who handed in notice) exports 3,000 contacts,")
	fmt.Fprintln(stdout, "copies a table from the list view, and report 26 is delivered by the cron to an external address.")
	if err := playScenario(ctx, db); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	var events []tracker.Event
	for time.Now().Before(deadline) {
		events, _, err = tracker.ListEvents(ctx, db, tracker.EventFilter{Limit: 50})
		if err != nil {
			return err
		}
		if len(events) >= 3 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintln(stdout, "\nTracking log:")
	printEvents(stdout, events)
	fmt.Fprintf(stdout, "\nAPI: http://%s/api/v1/events\nToken: %s\nTry: curl -H 'Authorization: Bearer %s' http://%s/api/v1/events\n", *listen, token, token, *listen)
	if *once {
		return nil
	}
	fmt.Fprintln(stdout, "\nPress Ctrl+C to stop and remove the sandbox.")
	select {
	case <-ctx.Done():
		return nil
	case err := <-daemonErr:
		daemonErr <- err
		return err
	}
}

func waitHealthy(ctx context.Context, addr string, daemonErr chan error) error {
	for i := 0; i < 600; i++ {
		select {
		case err := <-daemonErr:
			daemonErr <- err
			return fmt.Errorf("demo: daemon stopped: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
	}
	return fmt.Errorf("demo: daemon did not listen on %s", addr)
}

// playScenario writes what Vtiger and the extension would write.
func playScenario(ctx context.Context, db *sql.DB) error {
	var csv bytes.Buffer
	csv.WriteString("\"First Name\",\"Last Name\",\"Email\",\"Mobile Phone\"\n")
	for i := 1; i <= 3000; i++ {
		csv.WriteString("\"Customer\",\"No" + strconv.Itoa(i) + "\",\"customer" + strconv.Itoa(i) + "@example.net\",\"+81-90-0000-" + fmt.Sprintf("%04d", i) + "\"\n")
	}
	if err := demoIntake(ctx, db, "listview_export", 5, "Contacts", 3000, "203.0.113.50",
		`{"mode":"ExportAllData","viewname":"7"}`, "Contacts.csv", "text/csv", csv.Bytes()); err != nil {
		return err
	}
	copied := []byte("Customer\tNo1\tcustomer1@example.net\nCustomer\tNo2\tcustomer2@example.net\n")
	if err := demoIntake(ctx, db, "copy", 5, "Contacts", 2, "203.0.113.50",
		`{"via":"keyboard","view":"List","url":"/index.php?module=Contacts&view=List"}`, "copied-text.txt", "text/plain; charset=utf-8", copied); err != nil {
		return err
	}
	// The cron delivers report 26 (also to an outside address): Vtiger
	// mails it, then moves next_trigger_time forward.
	// An administrator's edit (not a delivery): adds an outside address, due now.
	if _, err := db.ExecContext(ctx, `UPDATE vtiger_schedulereports SET specificemails = '"reports@example.com,partner@outside.example.org"',
  next_trigger_time = DATE_SUB(UTC_TIMESTAMP(), INTERVAL 1 MINUTE) WHERE reportid = 26`); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, `UPDATE vtiger_schedulereports SET next_trigger_time = DATE_ADD(UTC_TIMESTAMP(), INTERVAL 1 DAY) WHERE reportid = 26`)
	return err
}

func demoIntake(ctx context.Context, db *sql.DB, kind string, user int, module string, records int, ip, details, name, mediaType string, content []byte) error {
	sum := sha256.Sum256(content)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	res, err := tx.ExecContext(ctx, `INSERT INTO dxt_intake (kind, occurred_at, user_id, module, record_count, client_ip, user_agent, details, content_name, content_type, content_size, content_sha256)
VALUES (?, UTC_TIMESTAMP(6), ?, ?, ?, ?, 'Mozilla/5.0 (demo)', ?, ?, ?, ?, ?)`, kind, user, module, records, ip, details, name, mediaType, len(content), hex.EncodeToString(sum[:]))
	if err != nil {
		return fmt.Errorf("demo intake: %w", err)
	}
	id, _ := res.LastInsertId()
	for seq := 0; len(content) > 0; seq++ {
		n := min(len(content), tracker.ChunkSize)
		if _, err := tx.ExecContext(ctx, `INSERT INTO dxt_intake_chunk (intake_id, seq, data) VALUES (?, ?, ?)`, id, seq, content[:n]); err != nil {
			return fmt.Errorf("demo intake chunk: %w", err)
		}
		content = content[n:]
	}
	return tx.Commit()
}

package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dxtracker/dxtracker/beacon"
	"github.com/dxtracker/dxtracker/mailer/sink"
	"github.com/dxtracker/dxtracker/rules"
	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/tracker"
)

// The demo's fixed cast and settings.
const (
	demoAdminEmail = "security@example.com"
	demoFrom       = "dxtracker@demo.invalid"
	demoMinRecords = 1000
	demoUserID     = 5 // jsmith in the sandbox's Vtiger seed
	demoReportID   = 26
	demoWait       = 60 * time.Second // for the events and mails of the scenario
)

// demoEventTypes are the take-outs the scenario produces, one event each.
var demoEventTypes = []string{tracker.TypeListviewExport, tracker.TypeCopy, tracker.TypeScheduledReport}

// cmdDemo runs the product on an embedded default: a private MariaDB with
// binlog, the minimal Vtiger schema with sample data, a local mail sink,
// the daemon with two rules, and a scripted scenario. It needs nothing but
// mariadb-server installed, and removes everything it made when it ends
// (Ctrl+C, or at once with --once).
func cmdDemo(ctx context.Context, args, _ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	once := fs.Bool("once", false, "play the scenario, print the results and exit (no waiting for Ctrl+C)")
	listen := fs.String("listen", "127.0.0.1:8787", "API address (127.0.0.1:0: any free port; a busy port is replaced by a free one)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("demo takes no arguments, got %q", fs.Args())}
	}
	addr, err := demoListenAddr(*listen)
	if err != nil {
		return err
	}

	fmt.Fprintln(stdout, "Starting a private MariaDB with binlog (ROW) in a temp dir...")
	srv, err := sandbox.Start(ctx, sandbox.Options{ServerID: 1})
	if err != nil {
		return fmt.Errorf("demo: %w (is mariadb-server installed? scripts/install-deps.sh)", err)
	}
	defer srv.Close()
	dsn, err := sandbox.CreateVtigerDatabase(ctx, srv, "vtiger")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := tracker.Migrate(ctx, db); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	token, _, err := tracker.CreateToken(ctx, db, "demo")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	mails, err := sink.Start(ctx, sink.Options{Addr: "127.0.0.1:0", TLS: "none"})
	if err != nil {
		return fmt.Errorf("demo: mail sink: %w", err)
	}
	defer mails.Close()
	until, err := demoSetup(ctx, db)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(stdout, "Vtiger sample data loaded; mail sink on %s; alerts go to %s.\n", mails.Addr(), demoAdminEmail)
	fmt.Fprintf(stdout, "Rules: exports of 1,000+ records (built-in notify_min_records), jsmith watched until %s\n", until)
	fmt.Fprintln(stdout, "       (handed in notice), scheduled reports to outside addresses.")

	// The daemon's configuration is the demo's alone: neither the
	// caller's DXT_* variables nor /etc/dxtracker/dxtracker.toml apply.
	cfg, log, _, err := loadConfig([]string{"--config="}, []string{
		"DXT_MYSQL_DSN=" + dsn, "DXT_SERVER_ID=4242", "DXT_LISTEN=" + addr, "DXT_LOG_LEVEL=warn", "DXT_HEARTBEAT=1s",
		"DXT_SMTP_ADDR=" + mails.Addr(), "DXT_SMTP_TLS=none", "DXT_SMTP_FROM=" + demoFrom,
	}, stderr)
	if err != nil {
		return err
	}
	dctx, stopDaemon := context.WithCancel(ctx)
	daemonErr := make(chan error, 1)
	go func() { daemonErr <- runDaemon(dctx, cfg, log) }()
	defer func() { stopDaemon(); <-daemonErr }()
	if err := waitHealthy(ctx, addr, daemonErr); err != nil {
		return err
	}

	fmt.Fprintf(stdout, "Daemon running on http://%s. Playing the scenario: jsmith, who handed in notice,\n", addr)
	fmt.Fprintln(stdout, "  1. exports all 3,000 contacts from the list view (the probe's intake row, with the CSV),")
	fmt.Fprintln(stdout, "  2. copies a table from the Contacts list view (tracker.js beacon to the daemon),")
	fmt.Fprintf(stdout, "  3. and the cron mails scheduled report %d, now also to an outside address.\n", demoReportID)
	if err := playScenario(ctx, db, addr); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	events, msgs, waitErr := waitScenario(ctx, db, mails, daemonErr)
	if ctx.Err() != nil {
		return nil // Ctrl+C while waiting: clean up quietly
	}

	fmt.Fprintln(stdout, "\nTracking log:")
	printEvents(stdout, events)
	fmt.Fprintln(stdout, "\nRules that matched:")
	printMatches(stdout, events)
	fmt.Fprintf(stdout, "\nMails received by the sink (%d):\n", len(msgs))
	printMails(stdout, msgs)
	fmt.Fprintf(stdout, "\nAPI:   http://%s/api/v1/events\nToken: %s\nTry:   curl -H 'Authorization: Bearer %s' 'http://%s/api/v1/events?user=jsmith'\n",
		addr, token, token, addr)
	if waitErr != nil {
		fmt.Fprintf(stdout, "\n%v\n", waitErr)
		return waitErr
	}
	if *once {
		return nil
	}
	fmt.Fprintln(stdout, "\nPress Ctrl+C to stop and remove the sandbox.")
	select {
	case <-ctx.Done():
		return nil
	case err := <-daemonErr:
		daemonErr <- err
		return fmt.Errorf("demo: daemon stopped: %w", err)
	}
}

// demoListenAddr returns the address the demo's API listens on: want, or
// a free loopback port when want is busy or asks for port 0.
func demoListenAddr(want string) (string, error) {
	ln, err := net.Listen("tcp", want)
	if err != nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("demo: no free port on 127.0.0.1: %w", err)
		}
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr, nil
}

// demoSetup writes the settings and rules an administrator would make: mail
// to the security team for exports of 1,000+ records, a watchlist for the
// departing jsmith and a rule for reports mailed outside the company. It
// returns the watchlist's end date.
func demoSetup(ctx context.Context, db *sql.DB) (string, error) {
	if _, err := tracker.WriteConfig(ctx, db, map[string]string{
		tracker.KeyNotifyAdminEmail: demoAdminEmail,
		tracker.KeyNotifyMinRecords: strconv.Itoa(demoMinRecords),
	}); err != nil {
		return "", err
	}
	until := time.Now().UTC().AddDate(0, 0, 28).Format(time.DateOnly)
	store := rules.NewStore(db, nil)
	watch, _ := json.Marshal(rules.WatchlistParams{Users: []string{"jsmith"}, Until: until})
	for _, spec := range []rules.Spec{
		{Name: "jsmith handed in notice", Kind: rules.KindWatchlist, Severity: rules.SeverityHigh, Params: watch},
		{Name: "Outside recipients", Kind: rules.KindExternalRecipients, Severity: rules.SeverityHigh, Params: json.RawMessage(`{"min_external": 1}`)},
	} {
		if _, err := store.Create(ctx, spec, "demo"); err != nil {
			return "", fmt.Errorf("rule %q: %w", spec.Name, err)
		}
	}
	return until, nil
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

// waitScenario waits until the scenario's events are in the tracking log
// and the mails they trigger are in the sink, for at most demoWait. It
// returns what it found, and an error saying what is missing when time ran
// out or the daemon stopped.
func waitScenario(ctx context.Context, db *sql.DB, mails *sink.Sink, daemonErr chan error) ([]tracker.Event, []sink.Received, error) {
	deadline := time.Now().Add(demoWait)
	var (
		events []tracker.Event
		msgs   []sink.Received
		err    error
	)
	for {
		events, _, err = tracker.ListEvents(ctx, db, tracker.EventFilter{Limit: 50})
		if err != nil {
			return nil, nil, err
		}
		// In id order, the order of the scenario (the log lists by time,
		// and the binlog stamps a delivery to the second only).
		slices.SortFunc(events, func(a, b tracker.Event) int { return cmp.Compare(a.ID, b.ID) })
		msgs = mails.Messages()
		missing := missingTypes(events)
		want := expectedMails(events)
		if len(missing) == 0 && len(msgs) >= want {
			return events, msgs, nil
		}
		var why string
		switch {
		case len(missing) > 0:
			why = fmt.Sprintf("no %s event in the tracking log", strings.Join(missing, ", "))
		default:
			why = fmt.Sprintf("%d of %d expected mails in the sink", len(msgs), want)
		}
		select {
		case err := <-daemonErr:
			daemonErr <- err
			return events, msgs, fmt.Errorf("demo: the daemon stopped (%v): %s", err, why)
		case <-ctx.Done():
			return events, msgs, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return events, msgs, fmt.Errorf("demo: after %s, %s (see the daemon's log above; GET /readyz shows the outbox)", demoWait, why)
		}
	}
}

func missingTypes(events []tracker.Event) []string {
	var missing []string
	for _, t := range demoEventTypes {
		if !slices.ContainsFunc(events, func(e tracker.Event) bool { return e.Type == t }) {
			missing = append(missing, t)
		}
	}
	return missing
}

// expectedMails is one mail per event on which a notifying rule matched
// (every alert goes to the one address of notify_admin_email).
func expectedMails(events []tracker.Event) int {
	n := 0
	for _, e := range events {
		if slices.ContainsFunc(eventMatches(e), func(m rules.Match) bool { return m.Notify }) {
			n++
		}
	}
	return n
}

// eventMatches reads the rule matches the alerting hook recorded in the
// event's details.
func eventMatches(e tracker.Event) []rules.Match {
	var d struct {
		Rules []rules.Match `json:"rules"`
	}
	_ = json.Unmarshal(e.Details, &d) // no or odd details: no matches to show
	return d.Rules
}

func printMatches(w io.Writer, events []tracker.Event) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, e := range events {
		ms := eventMatches(e)
		if len(ms) == 0 {
			fmt.Fprintf(tw, "  #%d %s\t-\t(no rule)\n", e.ID, e.Type)
			continue
		}
		for i, m := range ms {
			head := ""
			if i == 0 {
				head = fmt.Sprintf("#%d %s", e.ID, e.Type)
			}
			name := m.Name
			if m.Kind == rules.KindDefault {
				name = "built-in"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s: %s\n", head, m.Severity, name, oneLineCut(m.Reason, 80))
		}
	}
	tw.Flush()
}

func printMails(w io.Writer, msgs []sink.Received) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, m := range msgs {
		fmt.Fprintf(tw, "  %s\t%s\n", strings.Join(m.To, ", "), m.Subject)
	}
	tw.Flush()
}

func oneLineCut(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// playScenario does what Vtiger, the extension and the browser would do:
// the probe's intake row of a list-view export, a copy beacon from
// tracker.js to the daemon at addr, and the cron's delivery of report 26.
func playScenario(ctx context.Context, db *sql.DB, addr string) error {
	var csv bytes.Buffer
	csv.WriteString("\"First Name\",\"Last Name\",\"Email\",\"Mobile Phone\"\n")
	for i := 1; i <= 3000; i++ {
		csv.WriteString("\"Customer\",\"No" + strconv.Itoa(i) + "\",\"customer" + strconv.Itoa(i) + "@example.net\",\"+81-90-0000-" + fmt.Sprintf("%04d", i) + "\"\n")
	}
	if err := demoIntake(ctx, db, "listview_export", demoUserID, "Contacts", 3000, "203.0.113.50",
		`{"mode":"ExportAllData","viewname":"7"}`, "Contacts.csv", "text/csv", csv.Bytes()); err != nil {
		return err
	}

	copied := "Customer\tNo1\tcustomer1@example.net\nCustomer\tNo2\tcustomer2@example.net\n"
	if err := demoBeacon(ctx, db, addr, copied, 2); err != nil {
		return err
	}

	// The cron delivers report 26 (also to an outside address): Vtiger
	// mails it, then moves next_trigger_time forward. First an
	// administrator's edit (not a delivery) adds the outside address and
	// makes the report due now.
	if _, err := db.ExecContext(ctx, `UPDATE vtiger_schedulereports SET specificemails = '"reports@example.com,partner@outside.example.org"',
  next_trigger_time = DATE_SUB(UTC_TIMESTAMP(), INTERVAL 1 MINUTE) WHERE reportid = ?`, demoReportID); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, `UPDATE vtiger_schedulereports SET next_trigger_time = DATE_ADD(UTC_TIMESTAMP(), INTERVAL 1 DAY) WHERE reportid = ?`, demoReportID)
	return err
}

// demoBeacon posts a copy beacon as tracker.js does (CONTRACTS §6), with a
// token the extension would issue to jsmith: signed with beacon_secret.
func demoBeacon(ctx context.Context, db *sql.DB, addr, text string, rows int) error {
	raw, err := tracker.ReadConfig(ctx, db)
	if err != nil {
		return err
	}
	secret := raw[tracker.KeyBeaconSecret]
	if secret == "" {
		return errors.New("copy beacon: dxt_config has no beacon_secret (migrate makes one)")
	}
	body, err := json.Marshal(map[string]any{
		"token": beacon.Sign(secret, demoUserID, time.Now().Add(time.Hour)),
		"kind":  "copy", "url": "http://crm.example.com/index.php?module=Contacts&view=List",
		"module": "Contacts", "view": "List", "record": "", "chars": len([]rune(text)), "rows": rows,
		"text": text, "ts": time.Now().UnixMilli(),
	})
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, "http://"+addr+beacon.Path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8") // what navigator.sendBeacon sends for a string
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("copy beacon: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("copy beacon: POST %s answered %s: %s", beacon.Path, res.Status, bytes.TrimSpace(msg))
	}
	return nil
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

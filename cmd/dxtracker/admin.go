package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dxtracker/dxtracker/doctor"
	"github.com/dxtracker/dxtracker/tracker"
)

func cmdMigrate(ctx context.Context, args, env []string, stdout, stderr io.Writer) error {
	ts, err := openTool(ctx, args, env, stderr)
	if err != nil {
		return err
	}
	defer ts.db.Close()
	res, err := tracker.Migrate(ctx, ts.db)
	if err != nil {
		return err
	}
	if !res.Changed() {
		fmt.Fprintf(stdout, "tracker schema is up to date (version %d); nothing changed\n", res.SchemaVersion)
		return nil
	}
	fmt.Fprintf(stdout, "tracker schema at version %d; applied %v; seeded settings %v\n", res.SchemaVersion, res.Applied, res.SeededConfig)
	return nil
}

func cmdDoctor(ctx context.Context, args, env []string, stdout, stderr io.Writer) error {
	ts, err := openTool(ctx, args, env, stderr)
	if err != nil {
		return err
	}
	defer ts.db.Close()
	findings, err := doctor.Run(ctx, ts.db, doctor.Options{ServerID: ts.cfg.ServerID, Schema: ts.mc.DBName, SchemaVersion: tracker.LatestSchemaVersion()})
	if err != nil {
		return err
	}
	if n := doctor.Print(stdout, findings); n > 0 {
		return exitError{code: exitFailure, msg: fmt.Sprintf("%d problem(s) found; fix them and run doctor again", n)}
	}
	return nil
}

func cmdToken(ctx context.Context, args, env []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"token needs a subcommand: create, list or revoke"}
	}
	sub := args[0]
	mine, rest := splitFlags(args[1:], map[string]bool{"name": true, "expires": true}, nil)
	fs := flag.NewFlagSet("token "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	name := fs.String("name", "", "token name")
	expires := fs.Duration("expires", 0, "the token is refused after this long, e.g. 720h (0: never)")
	if err := fs.Parse(mine); err != nil {
		return usageError{err.Error()}
	}
	var positional []string
	for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		positional = append(positional, rest[0])
		rest = rest[1:]
	}
	ts, err := openTool(ctx, rest, env, stderr)
	if err != nil {
		return err
	}
	defer ts.db.Close()
	db := ts.db
	switch sub {
	case "create":
		if strings.TrimSpace(*name) == "" {
			return usageError{"token create needs --name (who or what uses the token, e.g. --name siem)"}
		}
		if *expires < 0 {
			return usageError{"token create --expires must be a positive duration such as 720h (30 days)"}
		}
		var until *time.Time
		if *expires > 0 {
			t := time.Now().UTC().Add(*expires)
			until = &t
		}
		plain, id, err := tracker.CreateExpiringToken(ctx, db, *name, until)
		if err != nil {
			return err
		}
		if until != nil {
			fmt.Fprintf(stderr, "token %d %q created, valid until %s; it is shown once, store it now:\n", id, *name, until.Format(time.RFC3339))
		} else {
			fmt.Fprintf(stderr, "token %d %q created; it is shown once, store it now:\n", id, *name)
		}
		fmt.Fprintln(stdout, plain)
		return nil
	case "list":
		toks, err := tracker.ListTokens(ctx, db)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREATED\tEXPIRES\tLAST USED\tREVOKED")
		for _, t := range toks {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, fmtTime(&t.CreatedAt), fmtTime(t.ExpiresAt), fmtTime(t.LastUsedAt), fmtTime(t.RevokedAt))
		}
		return tw.Flush()
	case "revoke":
		if len(positional) != 1 {
			return usageError{"token revoke needs the token id (see `dxtracker token list`)"}
		}
		id, err := strconv.ParseUint(positional[0], 10, 64)
		if err != nil {
			return usageError{fmt.Sprintf("token id %q is not a number", positional[0])}
		}
		if err := tracker.RevokeToken(ctx, db, id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %d revoked\n", id)
		return nil
	}
	return usageError{fmt.Sprintf("unknown token subcommand %q", sub)}
}

func cmdEvents(ctx context.Context, args, env []string, stdout, stderr io.Writer) error {
	own := map[string]bool{"type": true, "user": true, "module": true, "ip": true, "from": true, "to": true, "min-records": true, "limit": true, "cursor": true}
	mine, rest := splitFlags(args, own, map[string]bool{"json": true})
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f tracker.EventFilter
	var from, to, minRecords string
	fs.StringVar(&f.Type, "type", "", "")
	fs.StringVar(&f.User, "user", "", "")
	fs.StringVar(&f.Module, "module", "", "")
	fs.StringVar(&f.IP, "ip", "", "")
	fs.StringVar(&from, "from", "", "")
	fs.StringVar(&to, "to", "", "")
	fs.StringVar(&minRecords, "min-records", "", "")
	fs.IntVar(&f.Limit, "limit", 50, "")
	fs.StringVar(&f.Cursor, "cursor", "", "")
	asJSON := fs.Bool("json", false, "")
	if err := fs.Parse(mine); err != nil {
		return usageError{err.Error()}
	}
	var err error
	if f.From, err = parseWhen(from); err != nil {
		return usageError{"--from: " + err.Error()}
	}
	if f.To, err = parseWhen(to); err != nil {
		return usageError{"--to: " + err.Error()}
	}
	if minRecords != "" {
		n, err := strconv.ParseInt(minRecords, 10, 64)
		if err != nil || n < 0 {
			return usageError{"--min-records wants a whole number"}
		}
		f.MinRecords = &n
	}
	ts, err := openTool(ctx, rest, env, stderr)
	if err != nil {
		return err
	}
	defer ts.db.Close()
	events, next, err := tracker.ListEvents(ctx, ts.db, f)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"events": events, "next_cursor": next})
	}
	printEvents(stdout, events)
	if next != "" {
		fmt.Fprintf(stdout, "more: --cursor %s\n", next)
	}
	return nil
}

// printEvents writes the tracking log as a terminal table.
func printEvents(w io.Writer, events []tracker.Event) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWHEN (UTC)\tUSER\tTYPE\tMODULE\tRECORDS\tIP\tSOURCE\tFILE")
	for _, e := range events {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.OccurredAt.UTC().Format("2006-01-02 15:04:05"),
			deref(e.UserName), e.Type, deref(e.Module), derefInt(e.RecordCount), deref(e.IP), e.Source, deref(e.ContentName))
	}
	tw.Flush()
}

func parseWhen(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return &t, nil
		}
	}
	return nil, fmt.Errorf("%q is not a time (want 2026-12-01 or 2026-12-01T09:00:00Z)", s)
}

func deref(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

func derefInt(n *int64) string {
	if n == nil {
		return "-"
	}
	return strconv.FormatInt(*n, 10)
}

func fmtTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

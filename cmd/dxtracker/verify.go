package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/dxtracker/dxtracker/chain"
)

// cmdVerify walks the tamper-evidence chain and checks every event against
// it. Exit 0 when intact, 1 when anything was changed, deleted or inserted.
func cmdVerify(ctx context.Context, args, env []string, stdout, stderr io.Writer) error {
	mine, rest := splitFlags(args, map[string]bool{"anchor": true, "max-problems": true}, map[string]bool{"json": true})
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var anchors multiFlag
	fs.Var(&anchors, "anchor", "")
	maxProblems := fs.Int("max-problems", 20, "")
	asJSON := fs.Bool("json", false, "")
	if err := fs.Parse(mine); err != nil {
		return usageError{err.Error()}
	}
	var opts chain.VerifyOptions
	opts.MaxProblems = *maxProblems
	for _, a := range anchors {
		e, err := chain.ParseExpected(a)
		if err != nil {
			return usageError{"--anchor: " + err.Error()}
		}
		opts.Expect = append(opts.Expect, e)
	}
	ts, err := openTool(ctx, rest, env, stderr)
	if err != nil {
		return err
	}
	defer ts.db.Close()
	rep, err := chain.Verify(ctx, ts.db, opts)
	if err != nil {
		return err
	}
	if *asJSON {
		out := struct {
			OK            bool            `json:"ok"`
			Links         int64           `json:"links"`
			Events        int64           `json:"events"`
			Purged        int64           `json:"purged"`
			AnchorSeq     uint64          `json:"anchor_seq"`
			HeadSeq       uint64          `json:"head_seq"`
			HeadHash      string          `json:"head_hash"`
			TotalProblems int64           `json:"total_problems"`
			Problems      []chain.Problem `json:"problems"`
			Seconds       float64         `json:"seconds"`
		}{rep.OK(), rep.Links, rep.Events, rep.Purged, rep.Anchor.Seq, rep.HeadSeq, rep.HeadHash, rep.TotalProblems, rep.Problems, rep.Took.Seconds()}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		from := "genesis"
		if rep.Anchor.Seq > 0 {
			from = fmt.Sprintf("retention anchor at link %d (purge %d)", rep.Anchor.Seq, rep.Anchor.PurgeID)
		}
		fmt.Fprintf(stdout, "verified %d links from the %s and %d events (%d purged) in %s\n", rep.Links, from, rep.Events, rep.Purged, rep.Took.Round(1e6))
		fmt.Fprintf(stdout, "head: link %d %s\n", rep.HeadSeq, rep.HeadHash)
		if rep.OK() {
			fmt.Fprintln(stdout, "OK: the tracking log is intact")
		} else {
			fmt.Fprintf(stdout, "TAMPERED: %d problem(s); first: %s\n", rep.TotalProblems, rep.Problems[0])
			for _, p := range rep.Problems[1:] {
				fmt.Fprintf(stdout, "  %s\n", p)
			}
			if n := rep.TotalProblems - int64(len(rep.Problems)); n > 0 {
				fmt.Fprintf(stdout, "  ... and %d more\n", n)
			}
		}
	}
	if !rep.OK() {
		return exitError{code: exitFailure, msg: fmt.Sprintf("verify: the tracking log was tampered with: %d problem(s), first: %s", rep.TotalProblems, rep.Problems[0])}
	}
	return nil
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

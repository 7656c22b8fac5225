package chain

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Problem kinds.
const (
	ProblemChanged    = "changed"      // an event's fields differ from its newest link
	ProblemDeleted    = "deleted"      // an event in the chain is gone without a purge link
	ProblemInserted   = "inserted"     // an event has no link (written outside the daemon)
	ProblemOutOfOrder = "out_of_order" // a link inserts an event below an earlier one
	ProblemLink       = "link"         // a link was changed, removed or inserted
	ProblemHead       = "head"         // the head does not match the last link
	ProblemAnchor     = "anchor"       // an external anchor does not match
	ProblemUnadopted  = "unadopted"    // an event older than the chain is not linked yet
)

// Problem is one finding of Verify.
type Problem struct {
	Kind    string `json:"kind"`
	Seq     uint64 `json:"seq,omitempty"`      // the link concerned, if any
	EventID uint64 `json:"event_id,omitempty"` // the event concerned, if any
	Detail  string `json:"detail"`
}

func (p Problem) String() string {
	var where []string
	if p.EventID != 0 {
		where = append(where, fmt.Sprintf("event %d", p.EventID))
	}
	if p.Seq != 0 {
		where = append(where, fmt.Sprintf("link %d", p.Seq))
	}
	return fmt.Sprintf("%s: %s: %s", p.Kind, strings.Join(where, ", "), p.Detail)
}

// ExpectedLink is an anchor kept outside the database (the daily anchor
// mail or webhook): the link seq must have this hash.
type ExpectedLink struct {
	Seq  uint64
	Hash string
}

// ParseExpected parses "SEQ:HASH".
func ParseExpected(s string) (ExpectedLink, error) {
	seq, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	n, err := strconv.ParseUint(seq, 10, 64)
	hash = strings.ToLower(strings.TrimSpace(hash))
	if !ok || err != nil || n == 0 || len(hash) != 64 || strings.Trim(hash, "0123456789abcdef") != "" {
		return ExpectedLink{}, fmt.Errorf("anchor %q: want SEQ:HASH, e.g. 1234:%s", s, strings.Repeat("ab", 32))
	}
	return ExpectedLink{Seq: n, Hash: hash}, nil
}

// VerifyOptions tune Verify. The zero value works.
type VerifyOptions struct {
	// Expect are external anchors to check.
	Expect []ExpectedLink
	// MaxProblems bounds the problems kept in the report (100); all are
	// counted.
	MaxProblems int
	// Chunk is how many rows one query reads (5000).
	Chunk int
}

// Report is what Verify found.
type Report struct {
	Anchor        Anchor // where the stored chain begins
	Links         int64  // links verified
	Events        int64  // events verified against their newest link
	Purged        int64  // events in the chain that a purge link accounts for
	HeadSeq       uint64
	HeadHash      string
	Problems      []Problem // the first MaxProblems, in the order found
	TotalProblems int64
	Took          time.Duration
	ChainTook     time.Duration // of Took, the walk of the links
}

// OK reports whether nothing was found.
func (r Report) OK() bool { return r.TotalProblems == 0 }

type verifier struct {
	opts VerifyOptions
	rep  *Report
}

func (v *verifier) problem(p Problem) {
	v.rep.TotalProblems++
	if len(v.rep.Problems) < v.opts.MaxProblems {
		v.rep.Problems = append(v.rep.Problems, p)
	}
}

// Verify checks the chain and the events against it, in one consistent
// snapshot (a REPEATABLE READ, read-only transaction), streaming in chunks.
//
//  1. Every stored link, from the retention anchor (or the genesis) to the
//     head: seq without gaps, prev_hash equal to the previous link's hash,
//     hash recomputed; insert links in increasing event id; the head row
//     equal to the last link; the external anchors given.
//  2. Every event and every event id the chain knows, merged in id order:
//     an event must have links and its current fields must equal its
//     newest link's; an event whose newest link is not a purge must exist.
func Verify(ctx context.Context, db *sql.DB, opts VerifyOptions) (Report, error) {
	began := time.Now()
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = 100
	}
	if opts.Chunk <= 0 {
		opts.Chunk = 5000
	}
	rep := Report{}
	v := &verifier{opts: opts, rep: &rep}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return rep, fmt.Errorf("verify: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	head, err := ReadHead(ctx, tx)
	if err != nil {
		return rep, err
	}
	rep.HeadSeq, rep.HeadHash = head.Seq, head.Hash
	if rep.Anchor, err = CurrentAnchor(ctx, tx); err != nil {
		return rep, err
	}
	if err := v.walkChain(ctx, tx, head); err != nil {
		return rep, err
	}
	rep.ChainTook = time.Since(began)
	if err := v.checkEvents(ctx, tx, head); err != nil {
		return rep, err
	}
	rep.Took = time.Since(began)
	return rep, nil
}

func (v *verifier) walkChain(ctx context.Context, tx *sql.Tx, head Head) error {
	expect := map[uint64]string{}
	for _, e := range v.opts.Expect {
		if e.Seq <= v.rep.Anchor.Seq {
			v.problem(Problem{Kind: ProblemAnchor, Seq: e.Seq, Detail: fmt.Sprintf("link %d was deleted by retention (the chain now starts after link %d); this anchor can no longer be checked", e.Seq, v.rep.Anchor.Seq)})
			continue
		}
		expect[e.Seq] = e.Hash
	}
	lastSeq, lastHash := v.rep.Anchor.Seq, v.rep.Anchor.Hash
	var lastInsert, lastAdopt uint64
	for {
		rows, err := tx.QueryContext(ctx, `SELECT seq, event_id, version, op, DATE_FORMAT(at, `+dateFormat+`), fields, prev_hash, hash
FROM dxt_chain WHERE seq > ? ORDER BY seq LIMIT ?`, lastSeq, v.opts.Chunk)
		if err != nil {
			return fmt.Errorf("verify: read links: %w", err)
		}
		n := 0
		for rows.Next() {
			var l link
			if err := rows.Scan(&l.seq, &l.eventID, &l.version, &l.op, &l.at, &l.fields, &l.prevHash, &l.hash); err != nil {
				rows.Close()
				return fmt.Errorf("verify: read links: %w", err)
			}
			n++
			v.rep.Links++
			if l.seq != lastSeq+1 {
				v.problem(Problem{Kind: ProblemLink, Seq: l.seq, EventID: l.eventID,
					Detail: fmt.Sprintf("links %d..%d are missing (deleted)", lastSeq+1, l.seq-1)})
			}
			if l.prevHash != lastHash {
				v.problem(Problem{Kind: ProblemLink, Seq: l.seq, EventID: l.eventID,
					Detail: "prev_hash is not the hash of the link before it: a link before it was changed, removed or inserted"})
			}
			if got := LinkHash(l.prevHash, l.seq, l.eventID, l.version, l.op, l.at, l.fields); got != l.hash {
				v.problem(Problem{Kind: ProblemLink, Seq: l.seq, EventID: l.eventID,
					Detail: "the link was changed: its hash does not match its contents"})
			}
			switch l.op {
			case OpInsert:
				if l.version == 1 {
					if l.eventID <= lastInsert {
						v.problem(Problem{Kind: ProblemOutOfOrder, Seq: l.seq, EventID: l.eventID,
							Detail: fmt.Sprintf("event %d is inserted after event %d: inserted out of order", l.eventID, lastInsert)})
					}
					lastInsert = max(lastInsert, l.eventID)
				}
			case OpAdopt:
				if l.eventID <= lastAdopt || l.eventID > head.AdoptUpto {
					v.problem(Problem{Kind: ProblemOutOfOrder, Seq: l.seq, EventID: l.eventID,
						Detail: fmt.Sprintf("adopt link out of order or above the events that existed before the chain (%d)", head.AdoptUpto)})
				}
				lastAdopt = max(lastAdopt, l.eventID)
			case OpUpdate, OpPurge:
			default:
				v.problem(Problem{Kind: ProblemLink, Seq: l.seq, EventID: l.eventID, Detail: fmt.Sprintf("unknown op %q", l.op)})
			}
			if h, ok := expect[l.seq]; ok {
				if h != l.hash {
					v.problem(Problem{Kind: ProblemAnchor, Seq: l.seq, EventID: l.eventID,
						Detail: fmt.Sprintf("link %d has hash %s but the anchor sent out says %s: the chain was rewritten", l.seq, l.hash, h)})
				}
				delete(expect, l.seq)
			}
			lastSeq, lastHash = l.seq, l.hash
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("verify: read links: %w", err)
		}
		if n < v.opts.Chunk {
			break
		}
	}
	if head.Seq != lastSeq || head.Hash != lastHash {
		v.problem(Problem{Kind: ProblemHead, Seq: head.Seq,
			Detail: fmt.Sprintf("dxt_chain_head says link %d (%s) but the last link is %d (%s): links were removed at the end or the head was altered", head.Seq, short(head.Hash), lastSeq, short(lastHash))})
	}
	for seq := range expect {
		v.problem(Problem{Kind: ProblemAnchor, Seq: seq, Detail: fmt.Sprintf("link %d of the anchor is not in the chain (last link %d): links were removed", seq, lastSeq)})
	}
	return nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

type chainLink struct {
	seq     uint64
	version uint32
	op      string
	fields  string
	hash    string
}

func (v *verifier) checkEvents(ctx context.Context, tx *sql.Tx, head Head) error {
	var after uint64
	for {
		rows, err := tx.QueryContext(ctx, `SELECT `+eventColumns+eventFrom+` WHERE e.id > ? ORDER BY e.id LIMIT ?`, after, v.opts.Chunk)
		if err != nil {
			return fmt.Errorf("verify: read events: %w", err)
		}
		var evs []eventRow
		for rows.Next() {
			r, err := scanEvent(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("verify: read events: %w", err)
			}
			evs = append(evs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("verify: read events: %w", err)
		}
		upto := uint64(math.MaxUint64)
		last := len(evs) < v.opts.Chunk
		if !last {
			upto = evs[len(evs)-1].f.ID
		}
		links, err := v.linksOf(ctx, tx, after, upto)
		if err != nil {
			return err
		}
		if err := v.compare(evs, links, after, upto, head); err != nil {
			return err
		}
		if last {
			return nil
		}
		after = upto
	}
}

// linksOf returns the links of the event ids in (after, upto], per event
// in version order.
func (v *verifier) linksOf(ctx context.Context, tx *sql.Tx, after, upto uint64) (map[uint64][]chainLink, error) {
	rows, err := tx.QueryContext(ctx, `SELECT event_id, seq, version, op, fields, hash FROM dxt_chain
WHERE event_id > ? AND event_id <= ? ORDER BY event_id, version`, after, upto)
	if err != nil {
		return nil, fmt.Errorf("verify: read links of events: %w", err)
	}
	defer rows.Close()
	out := map[uint64][]chainLink{}
	for rows.Next() {
		var id uint64
		var l chainLink
		if err := rows.Scan(&id, &l.seq, &l.version, &l.op, &l.fields, &l.hash); err != nil {
			return nil, fmt.Errorf("verify: read links of events: %w", err)
		}
		out[id] = append(out[id], l)
	}
	return out, rows.Err()
}

// compare checks one chunk: the events (id order) and the links of the
// same id range.
func (v *verifier) compare(evs []eventRow, links map[uint64][]chainLink, after, upto uint64, head Head) error {
	// The encoding (details parsed and re-encoded) is the costly part:
	// spread it over the CPUs.
	fields := make([]string, len(evs))
	errs := make([]error, len(evs))
	workers := min(runtime.GOMAXPROCS(0), 8)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(evs); i += workers {
				fields[i], errs[i] = evs[i].encode()
			}
		}(w)
	}
	wg.Wait()
	byID := make(map[uint64]int, len(evs))
	for i := range evs {
		if errs[i] != nil {
			return errs[i]
		}
		byID[evs[i].f.ID] = i
	}
	// Every id of the range that has an event or a link, in order, so the
	// first problem reported is the first row.
	ids := make([]uint64, 0, len(evs)+len(links))
	for i := range evs {
		ids = append(ids, evs[i].f.ID)
	}
	for id := range links {
		if _, ok := byID[id]; !ok && id > after && id <= upto {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		ls := links[id]
		i, isEvent := byID[id]
		if !isEvent {
			v.checkVersions(id, ls)
			l := ls[len(ls)-1]
			if l.op == OpPurge {
				v.rep.Purged++
				continue
			}
			v.problem(Problem{Kind: ProblemDeleted, EventID: id, Seq: l.seq, Detail: "the event is in the chain but gone, and no purge accounts for it (deleted)"})
			continue
		}
		r := &evs[i]
		v.rep.Events++
		if len(ls) == 0 {
			if id <= head.AdoptUpto {
				v.problem(Problem{Kind: ProblemUnadopted, EventID: id, Detail: "the event is older than the chain and not linked yet (start the daemon once; it links them)"})
			} else {
				v.problem(Problem{Kind: ProblemInserted, EventID: id, Detail: "the event has no link: it was written outside the daemon (a forged insert)"})
			}
			continue
		}
		v.checkVersions(id, ls)
		l := ls[len(ls)-1]
		if l.op == OpPurge {
			v.problem(Problem{Kind: ProblemInserted, EventID: id, Seq: l.seq, Detail: "the event was purged by retention but is present again: inserted after the purge"})
			continue
		}
		if l.fields != fields[i] {
			v.problem(Problem{Kind: ProblemChanged, EventID: id, Seq: l.seq, Detail: diffFields(l.fields, fields[i])})
			continue
		}
		if !r.chainSeq.Valid || uint64(r.chainSeq.Int64) != l.seq || r.chainHash.String != l.hash {
			v.problem(Problem{Kind: ProblemChanged, EventID: id, Seq: l.seq,
				Detail: fmt.Sprintf("chain_seq/chain_hash do not point at the event's newest link %d", l.seq)})
		}
	}
	return nil
}

// checkVersions: an event's links are versions n, n+1, ... without gaps,
// starting at 1 unless retention deleted the older ones.
func (v *verifier) checkVersions(id uint64, ls []chainLink) {
	for i, l := range ls {
		switch {
		case i == 0 && l.version != 1 && v.rep.Anchor.Seq == 0:
			v.problem(Problem{Kind: ProblemLink, EventID: id, Seq: l.seq, Detail: fmt.Sprintf("the event's first link is version %d: earlier links were removed", l.version)})
		case i > 0 && l.version != ls[i-1].version+1:
			v.problem(Problem{Kind: ProblemLink, EventID: id, Seq: l.seq, Detail: fmt.Sprintf("link version %d follows version %d: a link was removed", l.version, ls[i-1].version)})
		case i > 0 && l.seq <= ls[i-1].seq:
			v.problem(Problem{Kind: ProblemOutOfOrder, EventID: id, Seq: l.seq, Detail: "the event's links are not in chain order"})
		}
	}
}

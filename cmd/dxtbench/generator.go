package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dxtracker/dxtracker/binlog"
)

// plan says what one generator run writes. Every statement is one row in
// one autocommit transaction, as Vtiger writes.
type plan struct {
	Label       string
	Writers     int
	Limit       int64         // statements in total; 0 = until StopBytes or Until
	StopBytes   int64         // stop once the binlog grew this much; 0 = no
	Until       chan struct{} // closing it stops the writers after their statement
	Rate        float64       // statements per second over all writers; 0 = unpaced
	PerTrip     int           // statements sent per round trip (multi-statement); 0 = 1
	IntakeEvery int64         // every Nth statement inserts a dxt_intake row; 0 = never
	Sentinel    bool          // end with one more intake row, so the range ends on a watched commit
}

// fillResult describes a generated binlog range.
type fillResult struct {
	Statements int64           `json:"statements"`
	Intake     int64           `json:"intake_rows"`
	Start      binlog.Position `json:"-"`
	End        binlog.Position `json:"-"`
	StartText  string          `json:"start"`
	EndText    string          `json:"end"`
	Bytes      int64           `json:"bytes"`
	Seconds    float64         `json:"seconds"`
	PerSecond  float64         `json:"statements_per_s"`
}

// generator writes the Vtiger-like mix. Ids are unique across runs.
type generator struct {
	e     *env
	seed  uint64
	crmID atomic.Int64 // vtiger_crmentity.crmid (seed data uses < 1000)
	modID atomic.Int64 // vtiger_modtracker_basic.id
	runs  atomic.Uint64
}

func newGenerator(e *env, seed uint64) *generator {
	g := &generator{e: e, seed: seed}
	g.crmID.Store(1000)
	g.modID.Store(1000)
	return g
}

// run writes p with p.Writers connections and returns the range written.
func (g *generator) run(ctx context.Context, p plan) (fillResult, error) {
	var res fillResult
	start, err := binlog.CurrentPosition(ctx, g.e.db)
	if err != nil {
		return res, err
	}
	runNo := g.runs.Add(1)
	var issued, done, intake atomic.Int64
	var stop atomic.Bool
	// wctx ends the writers and the monitor, at the end or on a writer's error.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()

	monDone := make(chan struct{})
	go func() {
		defer close(monDone)
		g.monitor(wctx, p, start, &done, &stop)
	}()

	began := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, p.Writers)
	for i := range p.Writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := g.newWriter(wctx, runNo, uint64(i))
			if err != nil {
				errs[i] = err
				cancel()
				return
			}
			defer w.conn.Close()
			if err := w.loop(wctx, p, &issued, &done, &intake, &stop); err != nil && wctx.Err() == nil {
				errs[i] = fmt.Errorf("writer %d: %w", i, err)
				cancel()
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	if err := wctx.Err(); err != nil {
		return res, err
	}
	if p.Sentinel {
		w, err := g.newWriter(ctx, runNo, 1<<20)
		if err != nil {
			return res, err
		}
		err = w.exec(ctx, []stmt{w.intakeStmt()})
		w.conn.Close()
		if err != nil {
			return res, err
		}
		intake.Add(1)
		done.Add(1)
	}
	elapsed := time.Since(began)
	cancel()
	<-monDone
	end, err := binlog.CurrentPosition(ctx, g.e.db)
	if err != nil {
		return res, err
	}
	bytes, err := rangeBytes(ctx, g.e.db, start, end)
	if err != nil {
		return res, err
	}
	res = fillResult{Statements: done.Load(), Intake: intake.Load(), Start: start, End: end,
		StartText: start.String(), EndText: end.String(), Bytes: bytes, Seconds: elapsed.Seconds()}
	res.PerSecond = float64(res.Statements) / res.Seconds
	return res, nil
}

// monitor logs progress every 5 s and sets stop once StopBytes are written.
func (g *generator) monitor(ctx context.Context, p plan, start binlog.Position, done *atomic.Int64, stop *atomic.Bool) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	began, lastLog := time.Now(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if p.StopBytes == 0 && time.Since(lastLog) < 5*time.Second {
			continue
		}
		cur, err := writePos(ctx, g.e.db)
		if err != nil {
			continue
		}
		b, err := rangeBytes(ctx, g.e.db, start, cur)
		if err != nil {
			continue
		}
		if p.StopBytes > 0 && b >= p.StopBytes {
			stop.Store(true)
		}
		if time.Since(lastLog) >= 5*time.Second {
			lastLog = time.Now()
			n := done.Load()
			g.e.log.Info().Str("run", p.Label).Int64("statements", n).Float64("mib", mib(b)).
				Float64("per_s", float64(n)/time.Since(began).Seconds()).Msg("generating")
		}
	}
}

// pacer spaces one writer's statements evenly; a writer more than a second
// behind starts over instead of bursting.
type pacer struct {
	interval time.Duration
	next     time.Time
}

func newPacer(perSecond float64) *pacer {
	return &pacer{interval: time.Duration(float64(time.Second) / perSecond), next: time.Now()}
}

func (p *pacer) wait(ctx context.Context) bool {
	p.next = p.next.Add(p.interval)
	d := time.Until(p.next)
	if d < -time.Second {
		p.next = time.Now()
		return ctx.Err() == nil
	}
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// writer is one connection of a generator run, with its own deterministic
// random source and the contacts it created.
type writer struct {
	g      *generator
	conn   *sql.Conn
	rnd    *rand.Rand
	step   int
	recent []int64 // crmids this writer created, ring of 64
	target int64   // the record of the current create or edit cycle
}

func (g *generator) newWriter(ctx context.Context, run, i uint64) (*writer, error) {
	conn, err := g.e.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return &writer{g: g, conn: conn, rnd: rand.New(rand.NewPCG(g.seed, run<<32|i))}, nil
}

// loop writes statements until the plan says stop, PerTrip at a time.
func (w *writer) loop(ctx context.Context, p plan, issued, done, intake *atomic.Int64, stop *atomic.Bool) error {
	per := max(1, p.PerTrip)
	var pace *pacer
	if p.Rate > 0 { // one wait per round trip
		pace = newPacer(p.Rate / float64(p.Writers*per))
	}
	batch := make([]stmt, 0, per)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := w.exec(ctx, batch)
		if err == nil {
			done.Add(int64(len(batch)))
		}
		batch = batch[:0]
		return err
	}
	for !stop.Load() {
		if p.Until != nil {
			select {
			case <-p.Until:
				return flush()
			default:
			}
		}
		n := issued.Add(1)
		if p.Limit > 0 && n > p.Limit {
			break
		}
		if pace != nil && len(batch) == 0 && !pace.wait(ctx) {
			return ctx.Err()
		}
		if p.IntakeEvery > 0 && n%p.IntakeEvery == 0 {
			batch = append(batch, w.intakeStmt())
			intake.Add(1)
		} else {
			batch = append(batch, w.unwatched())
		}
		if len(batch) == per {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// stmt is one SQL statement with its arguments.
type stmt struct {
	q    string
	args []any
}

// exec sends the statements in one round trip. Each one is still its own
// autocommit transaction with its own binlog events: the binlog is the same
// as with one round trip per statement.
func (w *writer) exec(ctx context.Context, batch []stmt) error {
	if len(batch) == 1 {
		_, err := w.conn.ExecContext(ctx, batch[0].q, batch[0].args...)
		return err
	}
	var q strings.Builder
	var args []any
	for i, s := range batch {
		if i > 0 {
			q.WriteString(";\n")
		}
		q.WriteString(s.q)
		args = append(args, s.args...)
	}
	_, err := w.conn.ExecContext(ctx, q.String(), args...)
	return err
}

// unwatched is the next statement of the writer's Vtiger cycle: create a
// contact (crmentity, contactdetails, modtracker) then edit one (crmentity
// update, modtracker).
func (w *writer) unwatched() stmt {
	var st stmt
	now := time.Now().UTC().Truncate(time.Second)
	owner := userIDs[w.rnd.IntN(len(userIDs))]
	switch w.step % 5 {
	case 0:
		w.target = w.g.crmID.Add(1)
		first, last := pick(w.rnd, firstNames), pick(w.rnd, lastNames)
		st = stmt{`INSERT INTO vtiger_crmentity (crmid, smcreatorid, smownerid, modifiedby, setype, description, createdtime, modifiedtime, status, version, presence, deleted, smgroupid, source, label) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			[]any{w.target, owner, owner, owner, "Contacts", w.description(), now, now, nil, 0, 1, 0, 0, "CRM", first + " " + last}}
		if len(w.recent) < 64 {
			w.recent = append(w.recent, w.target)
		} else {
			w.recent[w.rnd.IntN(64)] = w.target
		}
	case 1:
		first, last := pick(w.rnd, firstNames), pick(w.rnd, lastNames)
		email := strings.ToLower(first+"."+last) + fmt.Sprintf("%d@", w.target) + pick(w.rnd, domains)
		st = stmt{`INSERT INTO vtiger_contactdetails (contactid, contact_no, accountid, salutation, firstname, lastname, email, phone, mobile, title, department, fax, reportsto, training, usertype, contacttype, otheremail, secondaryemail, donotcall, emailoptout, imagename, reference, notify_owner, isconvertedfromlead, tags) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			[]any{w.target, fmt.Sprintf("CON%d", w.target), 0, pick(w.rnd, salutations), first, last, email,
				phone(w.rnd), phone(w.rnd), pick(w.rnd, titles), pick(w.rnd, departments), "", "", "", "", "", "", "", "0", "0", "", "0", "0", "0", ""}}
	case 2, 4:
		status := 2 // created
		if w.step%5 == 4 {
			status = 0 // updated
		}
		st = stmt{`INSERT INTO vtiger_modtracker_basic (id, crmid, module, whodid, changedon, status) VALUES (?,?,?,?,?,?)`,
			[]any{w.g.modID.Add(1), w.target, "Contacts", owner, now, status}}
	case 3:
		w.target = w.recent[w.rnd.IntN(len(w.recent))]
		st = stmt{`UPDATE vtiger_crmentity SET smownerid=?, modifiedby=?, description=?, modifiedtime=? WHERE crmid=?`,
			[]any{owner, owner, w.description(), now, w.target}}
	}
	w.step++
	return st
}

// intakeStmt is one intake row as the probe writes it for a list view export.
func (w *writer) intakeStmt() stmt {
	return stmt{`INSERT INTO dxt_intake (kind, occurred_at, user_id, module, record_count, client_ip, user_agent, details) VALUES (?,?,?,?,?,?,?,?)`,
		[]any{"listview_export", time.Now().UTC(), 5, "Contacts", 1 + w.rnd.IntN(500), fmt.Sprintf("10.0.%d.%d", w.rnd.IntN(256), 1+w.rnd.IntN(254)),
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			fmt.Sprintf(`{"viewname":%d,"mode":"ExportAllData","format":"csv","search_params":[]}`, 1+w.rnd.IntN(20))}}
}

// insertIntake writes one intake row on its own and returns its id.
func (w *writer) insertIntake(ctx context.Context) (int64, error) {
	st := w.intakeStmt()
	res, err := w.conn.ExecContext(ctx, st.q, st.args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// description is a Vtiger record description: often empty, usually a few
// sentences.
func (w *writer) description() string {
	if w.rnd.IntN(4) == 0 {
		return ""
	}
	n := 20 + w.rnd.IntN(100)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(pick(w.rnd, words))
	}
	return b.String()
}

func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

func phone(r *rand.Rand) string {
	return fmt.Sprintf("+49 %d %07d", 30+r.IntN(900), r.IntN(10_000_000))
}

var (
	userIDs     = []int{1, 5, 6}
	firstNames  = []string{"Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas"}
	lastNames   = []string{"Davis", "Anderson", "Johnson", "Rodriguez", "Thomas", "Williams", "Martinez", "Taylor", "Brown", "Hernandez", "Moore", "Jones", "Lopez", "Jackson", "Garcia", "Miller"}
	domains     = []string{"example.com", "example.org", "mail.example.net", "customer.example"}
	salutations = []string{"Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "--None--"}
	titles      = []string{"CEO", "CFO", "Sales Manager", "Purchasing", "Engineer", "Assistant", ""}
	departments = []string{"Sales", "Finance", "IT", "Operations", "Marketing", ""}
	words       = strings.Fields(`customer called about the renewal of the annual contract and asked for a
		revised quote including support hours training on site installation discount volume pricing
		follow up next week send brochure meeting scheduled with procurement decision expected in
		quarter budget approved pending legal review invoice address changed delivery delayed`)
)

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// Command soak runs the real dxtracker daemon at a steady mixed load and
// watches its memory and goroutines (issue 7, item 5):
//
//	go run ./cmd/soak                  # 30 minutes
//	go run ./cmd/soak -duration 5m     # a quick check
//
// The rig is cmd/faultsuite's (package cmd/faultsuite/harness): a private
// durable MariaDB, the real binary, an in-process SMTP sink, dxt_config
// set so that big exports notify. The load, all at once for -duration:
//
//   - binlog traffic on Vtiger tables: transactions updating a contact
//     (vtiger_crmentity, vtiger_contactdetails) and writing
//     vtiger_modtracker_basic, as Vtiger does on a save; logins
//     (vtiger_loginhistory); a scheduled-report delivery by the cron
//     (vtiger_schedulereports.next_trigger_time moved) every 30 s;
//   - intake rows (list-view exports, every -notify-every-th one notifies
//     by e-mail);
//   - copy beacons over HTTP with signed tokens;
//   - API reads with a token: event lists with filters, single events,
//     copied text downloads, stats.
//
// Every -interval (10 s) it samples the daemon's RSS (/proc/<pid>/status
// VmRSS) and goroutines (go_goroutines on /metrics), and after the
// warm-up reports min/max/first/last of both (and the medians of the first
// and last quarter); it exits 1 unless both stay within -tolerance (10 %;
// -judge strict: max <= 1.10 x min; -judge trend: last quarter's median
// within 10 % of the first's), or if the daemon dies, or if the tracking
// log is not exactly once at the end. RssAnon and RssFile are shown apart:
// RssFile grows as more of the binary's pages are touched, which is no
// leak.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dxtracker/dxtracker/cmd/faultsuite/harness"
)

// A goroutine sample is the fewest of burst scrapes burstGap apart.
const (
	burst    = 5
	burstGap = 200 * time.Millisecond
)

type options struct {
	duration    time.Duration
	warmup      time.Duration
	interval    time.Duration
	tolerance   float64
	judge       string
	intakeRate  float64
	beaconRate  float64
	binlogRate  float64
	apiRate     float64
	notifyEvery int
	keep        bool
	verbose     bool
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.DurationVar(&o.duration, "duration", 30*time.Minute, "length of the soak")
	fs.DurationVar(&o.warmup, "warmup", 0, "samples before this are not judged (0: 3m, or a fifth of -duration when that is shorter)")
	fs.DurationVar(&o.interval, "interval", 10*time.Second, "sampling interval")
	fs.Float64Var(&o.tolerance, "tolerance", 0.10, "flat: after the warm-up, within this fraction (see -judge)")
	fs.StringVar(&o.judge, "judge", "strict", "strict: every sample within the band (max <= (1+tolerance) x min); trend: the median of the last quarter within tolerance of the first quarter's (single spikes do not count)")
	fs.Float64Var(&o.intakeRate, "intake-rate", 10, "intake rows (exports) per second")
	fs.Float64Var(&o.beaconRate, "beacon-rate", 20, "copy beacons per second")
	fs.Float64Var(&o.binlogRate, "binlog-rate", 30, "Vtiger record saves (3-statement transactions) per second")
	fs.Float64Var(&o.apiRate, "api-rate", 5, "API reads per second")
	fs.IntVar(&o.notifyEvery, "notify-every", 10, "every n-th export has enough records to notify")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (daemon log, MariaDB datadir)")
	fs.BoolVar(&o.verbose, "v", false, "more output")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.duration <= 0 || o.interval <= 0 || o.tolerance <= 0 || o.intakeRate <= 0 || o.beaconRate < 0 || o.binlogRate < 0 || o.apiRate < 0 || o.notifyEvery < 1 {
		return o, errors.New("-duration, -interval, -tolerance and -intake-rate must be positive, the other rates not negative, -notify-every at least 1")
	}
	if o.judge != "strict" && o.judge != "trend" {
		return o, errors.New("-judge must be strict or trend")
	}
	if o.warmup == 0 {
		o.warmup = min(3*time.Minute, o.duration/5)
	}
	if o.warmup >= o.duration {
		return o, errors.New("-warmup must be shorter than -duration")
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, o, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// sample is one observation of the daemon.
type sample struct {
	at         time.Duration
	rss        int64   // VmRSS
	rssAnon    int64   // RssAnon: heap, stacks, runtime (a leak shows here)
	rssFile    int64   // RssFile: pages of the binary and shared libraries touched so far
	goroutines float64 // the fewest of a burst of scrapes: requests in flight come and go
	goInstant  float64 // the first scrape of the burst (information)
	heap       float64 // go_memstats_heap_inuse_bytes
	heapHeld   float64 // heap_sys - heap_released: heap memory the runtime holds from the OS
	goSys      float64 // go_memstats_sys_bytes: everything the runtime obtained
	stack      float64 // go_memstats_stack_sys_bytes
	fds        float64 // process_open_fds
	backlog    int     // intake rows not yet processed
	events     int
}

func run(ctx context.Context, o options, out, errOut io.Writer) error {
	logf := func(format string, args ...any) {
		fmt.Fprintf(errOut, time.Now().Format("15:04:05 ")+format+"\n", args...)
	}
	logf("soak: %s (warm-up %s, a sample every %s); setting up a durable MariaDB, the dxtracker binary, an SMTP sink", o.duration, o.warmup, o.interval)
	e, err := harness.Setup(ctx, harness.Config{
		Durable: true, MinRecords: 100, Recipients: []string{"security@soak.example"}, Keep: o.keep, Verbose: o.verbose, Logf: logf,
	})
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	failed := false
	defer func() {
		if failed || o.keep {
			e.Cfg.Keep = true
			logf("work directory kept: %s (daemon log: %s, MariaDB datadir: %s)", e.Dir, e.LogPath(), e.Srv.DataDir())
		}
		e.Close()
	}()
	d, err := e.StartReady(ctx, 2*time.Minute)
	if err != nil {
		failed = true
		return err
	}
	logf("daemon pid %d, API on %s, MariaDB on port %d", d.PID(), e.Listen, e.Srv.Port())

	p, err := e.NewProducer(harness.ProducerConfig{IntakeRate: o.intakeRate, BeaconRate: o.beaconRate, NotifyEvery: o.notifyEvery})
	if err != nil {
		failed = true
		return err
	}
	l := &load{e: e, o: o, stop: make(chan struct{})}
	p.Start()
	l.start()
	began := time.Now()
	cpu0 := harness.CPUSeconds(d.PID())

	var samples []sample
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	take := func() error {
		s := sample{at: time.Since(began), rss: harness.ProcStatus(d.PID(), "VmRSS"),
			rssAnon: harness.ProcStatus(d.PID(), "RssAnon"), rssFile: harness.ProcStatus(d.PID(), "RssFile")}
		// Goroutines: the fewest of a burst of scrapes, so that the
		// requests and deliveries in flight at one instant do not count
		// (a leak raises the floor; traffic does not).
		for i := 0; i < burst; i++ {
			if i > 0 {
				time.Sleep(burstGap)
			}
			m, err := e.Metrics()
			if err != nil {
				return fmt.Errorf("scrape /metrics: %w", err)
			}
			g, ok := m["go_goroutines"]
			if !ok {
				return errors.New("/metrics has no go_goroutines (is the Go collector registered?)")
			}
			if i == 0 {
				s.goroutines, s.goInstant, s.heap, s.fds = g, g, m["go_memstats_heap_inuse_bytes"], m["process_open_fds"]
				s.heapHeld = m["go_memstats_heap_sys_bytes"] - m["go_memstats_heap_released_bytes"]
				s.goSys, s.stack = m["go_memstats_sys_bytes"], m["go_memstats_stack_sys_bytes"]
			}
			s.goroutines = min(s.goroutines, g)
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		s.backlog, _ = countQ(sctx, e.DB, `SELECT COUNT(*) FROM dxt_intake WHERE processed_at IS NULL`)
		s.events, _ = countQ(sctx, e.DB, `SELECT COUNT(*) FROM dxt_event`)
		cancel()
		samples = append(samples, s)
		phase := "warm-up"
		if s.at >= o.warmup {
			phase = "judged"
		}
		logf("t=%-6s RSS %-10s goroutines %-3.0f (instant %-3.0f) heap in use %-10s held %-10s fds %-3.0f backlog %-5d events %-7d api %d ok/%d err  [%s]",
			s.at.Round(time.Second), harness.MiB(s.rss), s.goroutines, s.goInstant, harness.MiB(int64(s.heap)), harness.MiB(int64(s.heapHeld)), s.fds, s.backlog, s.events,
			l.apiOK.Load(), l.apiErr.Load(), phase)
		return nil
	}
	var runErr error
	if err := take(); err != nil {
		runErr = err
	}
loop:
	for runErr == nil && time.Since(began) < o.duration {
		select {
		case <-ctx.Done():
			runErr = ctx.Err()
			break loop
		case <-tick.C:
		}
		if !d.Alive() {
			runErr = fmt.Errorf("the daemon exited during the soak: %v\n--- log tail ---\n%s", d.Err(), e.LogTail(4096))
			break
		}
		if err := take(); err != nil {
			runErr = err
		}
	}
	elapsed := time.Since(began)
	cpu := harness.CPUSeconds(d.PID()) - cpu0
	l.close()
	p.Pause()
	if runErr != nil {
		p.Resume()
		p.Close()
		failed = true
		return runErr
	}

	// The tracking log after the soak: exactly once.
	took, serr := e.Settle(ctx, 5*time.Minute)
	snap, err := e.Check(ctx, p)
	c := p.Counts()
	p.Resume()
	p.Close()
	if err != nil {
		failed = true
		return err
	}
	sched, _ := countQ(ctx, e.DB, `SELECT COUNT(*) FROM dxt_event WHERE type = 'scheduled_report'`)
	hwm := harness.ProcStatus(d.PID(), "VmHWM")

	var judged []sample
	for _, s := range samples {
		if s.at >= o.warmup {
			judged = append(judged, s)
		}
	}
	if len(judged) < 2 {
		failed = true
		return fmt.Errorf("only %d samples after the warm-up: run longer", len(judged))
	}
	rss := series(judged, func(s sample) float64 { return float64(s.rss) })
	anon := series(judged, func(s sample) float64 { return float64(s.rssAnon) })
	file := series(judged, func(s sample) float64 { return float64(s.rssFile) })
	gor := series(judged, func(s sample) float64 { return s.goroutines })
	goi := series(judged, func(s sample) float64 { return s.goInstant })
	heap := series(judged, func(s sample) float64 { return s.heap })
	held := series(judged, func(s sample) float64 { return s.heapHeld })
	goSys := series(judged, func(s sample) float64 { return s.goSys })
	stack := series(judged, func(s sample) float64 { return s.stack })
	fds := series(judged, func(s sample) float64 { return s.fds })
	rssFlat, gorFlat := rss.flat(o.tolerance), gor.flat(o.tolerance)
	if o.judge == "trend" {
		rssFlat, gorFlat = rss.trendFlat(o.tolerance), gor.trendFlat(o.tolerance)
	}

	w := out
	fmt.Fprintf(w, "\nsoak: %s, %d CPUs, %s of load (warm-up %s, %d samples judged, one every %s), daemon CPU %.2f cores on average, VmHWM %s\n",
		runtime.Version(), runtime.NumCPU(), elapsed.Round(time.Second), o.warmup, len(judged), o.interval, cpu/elapsed.Seconds(), harness.MiB(hwm))
	fmt.Fprintf(w, "load: %.0f exports/s (every %d-th notifies), %.0f beacons/s, %.0f Vtiger saves/s + logins + a cron delivery every 30s, %.0f API reads/s\n\n",
		o.intakeRate, o.notifyEvery, o.beaconRate, o.binlogRate, o.apiRate)
	fmt.Fprintf(w, "%-26s %12s %12s %12s %12s %8s %12s %12s %8s  %s\n", "after warm-up", "min", "max", "first", "last", "max/min",
		"med 1st 1/4", "med last 1/4", "trend", fmt.Sprintf("flat within %.0f %% (%s)", o.tolerance*100, o.judge))
	mibf := func(v float64) string { return harness.MiB(int64(v)) }
	num := func(v float64) string { return fmt.Sprintf("%.0f", v) }
	rss.print(w, "RSS (VmRSS)", mibf, yesNo(rssFlat))
	anon.print(w, "  RssAnon (info)", mibf, "")
	file.print(w, "  RssFile (info)", mibf, "")
	gor.print(w, "goroutines (floor)", num, yesNo(gorFlat))
	goi.print(w, "goroutines (instant, info)", num, "")
	heap.print(w, "heap in use (info)", mibf, "")
	held.print(w, "heap held from OS (info)", mibf, "")
	stack.print(w, "stacks (info)", mibf, "")
	goSys.print(w, "Go runtime sys (info)", mibf, "")
	fds.print(w, "open fds (info)", num, "")
	fmt.Fprintf(w, "\nwork done: %d intake rows (%d exports acknowledged, %d copies), %d beacons answered 204, %d Vtiger saves, %d logins, %d scheduled-report events,\n",
		snap.Intake, c.IntakeAcked, snap.IntakeCopy, c.Beacon204, l.saves.Load(), l.logins.Load(), sched)
	fmt.Fprintf(w, "  %d API reads answered 200 (%d failed), %d events, %d mails (outbox %s); caught up %s after the load stopped\n",
		l.apiOK.Load(), l.apiErr.Load(), snap.Events, snap.SinkMessages, snap.StateLine(), took.Round(time.Millisecond))
	var problems []string
	if serr != nil {
		problems = append(problems, "did not catch up: "+serr.Error())
	}
	problems = append(problems, snap.Violations()...)
	if l.apiErr.Load() > 0 {
		fmt.Fprintf(w, "  API errors seen: %s\n", l.lastAPIErr())
	}
	if !rssFlat {
		problems = append(problems, fmt.Sprintf("RSS not flat (%s): %s to %s after the warm-up, quarter medians %s then %s",
			o.judge, harness.MiB(int64(rss.min)), harness.MiB(int64(rss.max)), harness.MiB(int64(rss.q1)), harness.MiB(int64(rss.q4))))
	}
	if !gorFlat {
		problems = append(problems, fmt.Sprintf("goroutines not flat (%s): %.0f to %.0f after the warm-up, quarter medians %.0f then %.0f",
			o.judge, gor.min, gor.max, gor.q1, gor.q4))
	}
	if len(problems) == 0 {
		fmt.Fprintln(w, "\nresult: PASS: RSS and goroutines flat after the warm-up; the tracking log is exactly once")
		return nil
	}
	failed = true
	fmt.Fprintln(w, "\nresult: FAIL")
	for _, pr := range problems {
		fmt.Fprintln(w, "  -", pr)
	}
	return fmt.Errorf("%d problems", len(problems))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

// stats of one series after the warm-up; q1 and q4 are the medians of its
// first and last quarter (the trend, insensitive to single spikes).
type stats struct{ min, max, first, last, q1, q4 float64 }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func series(ss []sample, f func(sample) float64) stats {
	vals := make([]float64, len(ss))
	for i, s := range ss {
		vals[i] = f(s)
	}
	st := stats{first: vals[0], last: vals[len(vals)-1], min: slices.Min(vals), max: slices.Max(vals)}
	q := max(len(vals)/4, 1)
	st.q1, st.q4 = median(vals[:q]), median(vals[len(vals)-q:])
	return st
}

// flat (strict): every sample within the band, max <= (1+tol) x min.
func (s stats) flat(tol float64) bool { return s.min > 0 && s.max <= (1+tol)*s.min }

// trendFlat: the last quarter's median within tol of the first quarter's.
func (s stats) trendFlat(tol float64) bool {
	return s.q1 > 0 && s.q4 <= (1+tol)*s.q1 && s.q4 >= (1-tol)*s.q1
}

func (s stats) print(w io.Writer, name string, f func(float64) string, verdict string) {
	ratio, trend := 0.0, 0.0
	if s.min > 0 {
		ratio = s.max / s.min
	}
	if s.q1 > 0 {
		trend = s.q4 / s.q1
	}
	fmt.Fprintf(w, "%-26s %12s %12s %12s %12s %8.3f %12s %12s %8.3f  %s\n", name, f(s.min), f(s.max), f(s.first), f(s.last), ratio,
		f(s.q1), f(s.q4), trend, verdict)
}

func countQ(ctx context.Context, db *sql.DB, q string) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, q).Scan(&n)
	return n, err
}

// load is the traffic beyond the producer's: Vtiger writes and API reads.
type load struct {
	e    *harness.Env
	o    options
	stop chan struct{}
	wg   sync.WaitGroup

	saves, logins, apiOK, apiErr atomic.Int64
	mu                           sync.Mutex
	lastErr                      string
}

func (l *load) start() {
	if l.o.binlogRate > 0 {
		l.every(l.o.binlogRate, l.save)
	}
	l.every(0.5, l.login)
	l.every(1.0/15, l.cron) // two updates per delivery: one every 30s
	if l.o.apiRate > 0 {
		l.every(l.o.apiRate, l.apiRead)
	}
}

func (l *load) close() {
	close(l.stop)
	l.wg.Wait()
}

func (l *load) every(rate float64, f func(ctx context.Context, n int64)) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		t := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer t.Stop()
		var n int64
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
			}
			n++
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			f(ctx, n)
			cancel()
		}
	}()
}

func (l *load) fail(err error) {
	l.mu.Lock()
	l.lastErr = err.Error()
	l.mu.Unlock()
}

func (l *load) lastAPIErr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastErr
}

// save is what Vtiger writes when a user saves a contact.
func (l *load) save(ctx context.Context, n int64) {
	id := 2 + rand.IntN(50) // the seed's contacts
	tx, err := l.e.DB.BeginTx(ctx, nil)
	if err != nil {
		return
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if _, err := tx.ExecContext(ctx, `UPDATE vtiger_crmentity SET modifiedtime = UTC_TIMESTAMP(), modifiedby = 1, version = version + 1 WHERE crmid = ?`, id); err != nil {
		return
	}
	if _, err := tx.ExecContext(ctx, `UPDATE vtiger_contactdetails SET phone = ? WHERE contactid = ?`, fmt.Sprintf("+49 30 %07d", n), id); err != nil {
		return
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO vtiger_modtracker_basic (id, crmid, module, whodid, changedon, status) VALUES (?, ?, 'Contacts', 1, UTC_TIMESTAMP(), 0)`,
		1_000_000+n, id); err != nil {
		return
	}
	if tx.Commit() == nil {
		l.saves.Add(1)
	}
}

func (l *load) login(ctx context.Context, n int64) {
	user := []string{"jsmith", "mjones", "admin"}[n%3]
	if _, err := l.e.DB.ExecContext(ctx, `INSERT INTO vtiger_loginhistory (user_name, user_ip, logout_time, login_time, status) VALUES (?, ?, NULL, UTC_TIMESTAMP(), 'Signed in')`,
		user, fmt.Sprintf("10.0.%d.%d", n%4, 1+n%200)); err == nil {
		l.logins.Add(1)
	}
}

// cron alternates the two updates of a scheduled report: back to a due
// time (an edit, not a delivery), then on to tomorrow (what the cron does
// after mailing: a delivery).
func (l *load) cron(ctx context.Context, n int64) {
	q := `UPDATE vtiger_schedulereports SET next_trigger_time = DATE_SUB(UTC_TIMESTAMP(), INTERVAL 1 MINUTE) WHERE reportid = 26`
	if n%2 == 0 {
		q = `UPDATE vtiger_schedulereports SET next_trigger_time = DATE_ADD(UTC_TIMESTAMP(), INTERVAL 1 DAY) WHERE reportid = 26`
	}
	_, _ = l.e.DB.ExecContext(ctx, q)
}

var apiClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2}}

// apiRead does one of the administrator's reads.
func (l *load) apiRead(ctx context.Context, n int64) {
	paths := []string{
		"/api/v1/events?limit=50",
		"/api/v1/events?type=copy&limit=20",
		"/api/v1/events?user=jsmith&min_records=100&limit=20",
		"/api/v1/stats?group_by=user",
		"/api/v1/stats?group_by=type",
		"/api/v1/scheduled-reports",
		"",
	}
	path := paths[n%int64(len(paths))]
	if path == "" {
		// One event and its copied text.
		var body struct {
			Events []struct {
				ID         uint64 `json:"id"`
				HasContent bool   `json:"has_content"`
			} `json:"events"`
		}
		if err := l.get(ctx, "/api/v1/events?type=copy&limit=5", &body); err != nil || len(body.Events) == 0 {
			return
		}
		ev := body.Events[rand.IntN(len(body.Events))]
		if err := l.get(ctx, fmt.Sprintf("/api/v1/events/%d", ev.ID), nil); err != nil {
			return
		}
		if ev.HasContent {
			_ = l.get(ctx, fmt.Sprintf("/api/v1/events/%d/content", ev.ID), nil)
		}
		return
	}
	_ = l.get(ctx, path, nil)
}

func (l *load) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+l.e.Listen+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+l.e.APIToken)
	res, err := apiClient.Do(req)
	if err != nil {
		l.apiErr.Add(1)
		l.fail(err)
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		l.apiErr.Add(1)
		err = fmt.Errorf("GET %s: %d %s", path, res.StatusCode, bytes.TrimSpace(b[:min(len(b), 200)]))
		l.fail(err)
		return err
	}
	l.apiOK.Add(1)
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

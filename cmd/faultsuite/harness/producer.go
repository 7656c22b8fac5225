package harness

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dxtracker/dxtracker/beacon"
)

// ProducerConfig sets the steady stream.
type ProducerConfig struct {
	IntakeRate  float64 // intake rows (list-view exports) per second
	BeaconRate  float64 // copy beacons per second (over BeaconConns clients)
	BeaconConns int     // concurrent beacon clients (default 2)
	NotifyEvery int     // every n-th export has MinRecords+ records (notifies); 0 = none
	TextBytes   int     // copied text per beacon (at least ~40)
}

// Producer writes intake rows the way the probe does (one INSERT, autocommit)
// and posts copy beacons the way tracker.js does, and remembers what the
// database acknowledged (acked seqs) and what the daemon answered 204.
type Producer struct {
	e   *Env
	cfg ProducerConfig
	db  *sql.DB

	gate sync.RWMutex // Pause takes it for writing: no operation in flight

	mu          sync.Mutex
	acked       map[int64]bool // export seqs whose INSERT returned OK
	ambiguous   int            // INSERTs that failed (may or may not have committed)
	accepted    map[int64]bool // beacon ts answered 204
	beaconCodes map[int]int
	beaconErrs  int
	refusals    map[string]int // "status: error message" of answers other than 204

	seq   atomic.Int64
	ts    atomic.Int64
	stop  chan struct{}
	wg    sync.WaitGroup
	tsMin int64
}

// NewProducer prepares a producer; Start runs it.
func (e *Env) NewProducer(cfg ProducerConfig) (*Producer, error) {
	if cfg.BeaconConns <= 0 {
		cfg.BeaconConns = 2
	}
	if cfg.TextBytes < 40 {
		cfg.TextBytes = 40
	}
	db, err := sql.Open("mysql", e.DSN+"&timeout=3s&readTimeout=20s&writeTimeout=20s")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	db.SetConnMaxIdleTime(20 * time.Second)
	p := &Producer{e: e, cfg: cfg, db: db, acked: map[int64]bool{}, accepted: map[int64]bool{},
		beaconCodes: map[int]int{}, refusals: map[string]int{}, stop: make(chan struct{})}
	// Beacon ts: milliseconds that look like now, unique per beacon.
	p.tsMin = time.Now().UnixMilli()
	p.ts.Store(p.tsMin)
	return p, nil
}

// Start begins the stream.
func (p *Producer) Start() {
	if p.cfg.IntakeRate > 0 {
		p.wg.Add(1)
		go p.intakeLoop()
	}
	if p.cfg.BeaconRate > 0 {
		for i := 0; i < p.cfg.BeaconConns; i++ {
			p.wg.Add(1)
			go p.beaconLoop(i)
		}
	}
}

// Close stops the stream for good.
func (p *Producer) Close() {
	close(p.stop)
	p.wg.Wait()
	p.db.Close()
}

func (p *Producer) stopped() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// Pause waits for the operations in flight and holds new ones until Resume.
func (p *Producer) Pause() { p.gate.Lock() }

// Resume lets the stream go on.
func (p *Producer) Resume() { p.gate.Unlock() }

func (p *Producer) every(rate float64) *time.Ticker {
	return time.NewTicker(time.Duration(float64(time.Second) / rate))
}

func (p *Producer) intakeLoop() {
	defer p.wg.Done()
	t := p.every(p.cfg.IntakeRate)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.gate.RLock()
		if !p.stopped() {
			p.writeIntake()
		}
		p.gate.RUnlock()
	}
}

// writeIntake inserts one list-view export; every NotifyEvery-th carries
// enough records to notify.
func (p *Producer) writeIntake() {
	n := p.seq.Add(1)
	records := 3
	if p.cfg.NotifyEvery > 0 && n%int64(p.cfg.NotifyEvery) == 0 {
		records = max(p.e.Cfg.MinRecords, 1) * 5
	}
	user := p.e.Cfg.Users[int(n)%len(p.e.Cfg.Users)]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := p.db.ExecContext(ctx, `INSERT INTO dxt_intake (kind, occurred_at, user_id, module, record_count, client_ip, user_agent, details)
VALUES ('listview_export', UTC_TIMESTAMP(6), ?, 'Contacts', ?, '192.0.2.10', 'faultsuite', ?)`,
		user, records, fmt.Sprintf(`{"mode":"ExportAllData","faultsuite_seq":%d}`, n))
	p.mu.Lock()
	if err != nil {
		p.ambiguous++
	} else {
		p.acked[n] = true
	}
	p.mu.Unlock()
}

func (p *Producer) beaconLoop(i int) {
	defer p.wg.Done()
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2, DisableCompression: true}}
	defer client.CloseIdleConnections()
	t := p.every(p.cfg.BeaconRate / float64(p.cfg.BeaconConns))
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.gate.RLock()
		if !p.stopped() {
			p.postBeacon(client, i)
		}
		p.gate.RUnlock()
	}
}

// postBeacon sends one copy beacon with a text and ts of its own (so the
// 2-second coalescing of identical copies never merges two of them).
func (p *Producer) postBeacon(client *http.Client, i int) {
	ts := p.ts.Add(1)
	tok := p.e.Tokens[int(ts)%len(p.e.Tokens)]
	text := fmt.Sprintf("faultsuite copy %d by client %d ", ts, i)
	for len(text) < p.cfg.TextBytes {
		text += "lorem ipsum "
	}
	body, _ := json.Marshal(map[string]any{"token": tok, "kind": "copy",
		"url": "https://crm.example.com/index.php?module=Contacts&view=List", "module": "Contacts", "view": "List",
		"record": nil, "chars": len(text), "rows": 1, "text": text, "ts": ts})
	res, err := client.Post("http://"+p.e.Listen+beacon.Path, "application/json", bytes.NewReader(body))
	if err != nil {
		p.mu.Lock()
		p.beaconErrs++
		p.mu.Unlock()
		time.Sleep(20 * time.Millisecond) // the daemon is down: do not spin
		return
	}
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	res.Body.Close()
	p.mu.Lock()
	p.beaconCodes[res.StatusCode]++
	if res.StatusCode == http.StatusNoContent {
		p.accepted[ts] = true
	} else if len(p.refusals) < 20 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(msg, &e)
		d := p.e.Daemon()
		phase := "daemon up"
		if d != nil && time.Since(d.Started) < 3*time.Second {
			phase = fmt.Sprintf("daemon started %s before", time.Since(d.Started).Round(time.Millisecond))
		}
		p.refusals[fmt.Sprintf("%d %q (%s)", res.StatusCode, e.Error, phase)]++
	}
	p.mu.Unlock()
}

// Counts is what the producer did so far.
type Counts struct {
	IntakeAcked, IntakeFailed int
	Beacon204, BeaconOther    int
	BeaconErrors              int
	BeaconCodes               map[int]int
	Refusals                  map[string]int // answers other than 204: "status "message" (when)"
}

// Counts returns the producer's tallies.
func (p *Producer) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := Counts{IntakeAcked: len(p.acked), IntakeFailed: p.ambiguous, Beacon204: len(p.accepted), BeaconErrors: p.beaconErrs,
		BeaconCodes: map[int]int{}, Refusals: map[string]int{}}
	for k, v := range p.refusals {
		c.Refusals[k] = v
	}
	for k, v := range p.beaconCodes {
		c.BeaconCodes[k] = v
		if k != http.StatusNoContent {
			c.BeaconOther += v
		}
	}
	return c
}

func (p *Producer) ackedSet() map[int64]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[int64]bool, len(p.acked))
	for k := range p.acked {
		out[k] = true
	}
	return out
}

func (p *Producer) acceptedSet() map[int64]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[int64]bool, len(p.accepted))
	for k := range p.accepted {
		out[k] = true
	}
	return out
}

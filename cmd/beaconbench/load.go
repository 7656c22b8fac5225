package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dxtracker/dxtracker/beacon"
	"github.com/dxtracker/dxtracker/internal/procstat"
)

type loadSpec struct {
	addr      string
	clients   int
	tokens    []string
	textBytes int
	warmup    time.Duration
	duration  time.Duration
	pid       int // process whose RSS is sampled
	dbPID     int // MariaDB, for its CPU time
	sources   int // client source addresses 127.0.0.1..N (0 or 1: one)
}

// loadResult is what one measured run saw.
type loadResult struct {
	Seconds     float64
	Sent        int64 // requests completed in the window
	Accepted    int64 // 204
	Status      map[int]int64
	Errors      int64 // transport errors
	Dropped     int64 // open loop: not sent, every client was busy
	Target      float64
	P50, P90    time.Duration
	P99         time.Duration
	P999        time.Duration
	Max         time.Duration
	PeakRSS     int64 // sampled from /proc/<pid>/status during the window
	IdleRSS     int64
	RSSStart    int64
	RSSEnd      int64
	RSSQuarters [4]int64 // peak RSS in each quarter of the window
	// CPU seconds used in the window by the server, MariaDB and this
	// load generator.
	CPUServer, CPUDB, CPULoad float64
}

type cpuMark struct{ server, db, load float64 }

func markCPU(s loadSpec) cpuMark {
	return cpuMark{procstat.CPUSeconds(s.pid), procstat.CPUSeconds(s.dbPID), procstat.CPUSeconds(os.Getpid())}
}

func (r *loadResult) cpuSince(s loadSpec, m cpuMark) {
	now := markCPU(s)
	r.CPUServer, r.CPUDB, r.CPULoad = now.server-m.server, now.db-m.db, now.load-m.load
}

func (r loadResult) rate() float64 { return float64(r.Accepted) / r.Seconds }

// requester sends beacons over one keep-alive connection.
type requester struct {
	client *http.Client
	url    string
	tokens []string
	text   []byte
	id     int
	seq    int
	buf    bytes.Buffer
}

func newRequester(s loadSpec, id int) *requester {
	tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
	if s.sources > 1 {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+id%s.sources))}}
		tr.DialContext = d.DialContext
	}
	text := bytes.Repeat([]byte("x"), max(s.textBytes, 24))
	return &requester{client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, url: "http://" + s.addr + beacon.Path,
		tokens: s.tokens, text: text, id: id}
}

// body is a tracker.js beacon with a text unique to this request (so the
// ingest never merges two of them as a double copy).
func (q *requester) body() []byte {
	q.seq++
	tag := strconv.Itoa(q.id) + "-" + strconv.Itoa(q.seq) + " "
	copy(q.text, tag)
	b := &q.buf
	b.Reset()
	b.WriteString(`{"token":"`)
	b.WriteString(q.tokens[(q.id+q.seq)%len(q.tokens)])
	b.WriteString(`","kind":"copy","url":"https://crm.example.com/index.php?module=Contacts&view=List&page=2","module":"Contacts","view":"List","record":null,"chars":`)
	b.WriteString(strconv.Itoa(len(q.text)))
	b.WriteString(`,"rows":3,"text":"`)
	b.Write(q.text)
	b.WriteString(`","ts":`)
	b.WriteString(strconv.FormatInt(time.Now().UnixMilli(), 10))
	b.WriteString(`}`)
	return b.Bytes()
}

func (q *requester) send() (int, time.Duration, error) {
	start := time.Now()
	res, err := q.client.Post(q.url, "application/json", bytes.NewReader(q.body()))
	if err != nil {
		return 0, time.Since(start), err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, time.Since(start), nil
}

// tally collects the answers of one client in the measured window.
type tally struct {
	lat    []time.Duration
	status map[int]int64
	errors int64
}

func newTally() *tally { return &tally{status: map[int]int64{}, lat: make([]time.Duration, 0, 1<<14)} }

func (t *tally) add(code int, d time.Duration, err error) {
	if err != nil {
		t.errors++
		return
	}
	t.status[code]++
	t.lat = append(t.lat, d)
}

// rssSampler records the RSS of pid every 20 ms until stopped.
type rssSampler struct {
	samples []int64
	stop    chan struct{}
	done    chan struct{}
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			s.samples = append(s.samples, procstat.Status(pid, "VmRSS"))
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// finish stops sampling and returns the peak and the peak of each quarter
// of the window (a growing series would show a leak; a flat one does not).
func (s *rssSampler) finish() (peak int64, quarters [4]int64) {
	close(s.stop)
	<-s.done
	for i, v := range s.samples {
		peak = max(peak, v)
		q := i * 4 / len(s.samples)
		quarters[q] = max(quarters[q], v)
	}
	return peak, quarters
}

// closedLoop: every client sends its next beacon when the last is answered.
func closedLoop(ctx context.Context, s loadSpec) (loadResult, error) {
	const (
		warm = iota
		measure
		stop
	)
	var phase atomic.Int32
	tallies := make([]*tally, s.clients)
	var wg sync.WaitGroup
	for i := 0; i < s.clients; i++ {
		tallies[i] = newTally()
		q := newRequester(s, i)
		wg.Add(1)
		go func(t *tally) {
			defer wg.Done()
			for ctx.Err() == nil {
				p := phase.Load()
				if p == stop {
					return
				}
				code, d, err := q.send()
				if p == measure && phase.Load() == measure {
					t.add(code, d, err)
				}
				if err != nil {
					time.Sleep(10 * time.Millisecond)
				}
			}
		}(tallies[i])
	}
	if s.warmup > 0 {
		sleepCtx(ctx, s.warmup)
	}
	r := loadResult{RSSStart: procstat.Status(s.pid, "VmRSS")}
	rss := sampleRSS(s.pid)
	cpu := markCPU(s)
	phase.Store(measure)
	start := time.Now()
	sleepCtx(ctx, s.duration)
	phase.Store(stop)
	r.Seconds = time.Since(start).Seconds()
	r.cpuSince(s, cpu)
	r.PeakRSS, r.RSSQuarters = rss.finish()
	r.RSSEnd = procstat.Status(s.pid, "VmRSS")
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return r, err
	}
	r.merge(tallies)
	return r, nil
}

// openLoop sends rate beacons per second whatever the answers; a beacon
// finding every client busy is counted as dropped.
func openLoop(ctx context.Context, s loadSpec, rate float64) (loadResult, error) {
	jobs := make(chan struct{}, s.clients)
	tallies := make([]*tally, s.clients)
	var wg sync.WaitGroup
	for i := 0; i < s.clients; i++ {
		tallies[i] = newTally()
		q := newRequester(s, i)
		wg.Add(1)
		go func(t *tally) {
			defer wg.Done()
			for range jobs {
				t.add(q.send())
			}
		}(tallies[i])
	}
	r := loadResult{Target: rate, RSSStart: procstat.Status(s.pid, "VmRSS")}
	rss := sampleRSS(s.pid)
	cpu := markCPU(s)
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	sent := 0.0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case now := <-tick.C:
			el := now.Sub(start)
			if el >= s.duration {
				break loop
			}
			for due := rate * el.Seconds(); sent < due; sent++ {
				select {
				case jobs <- struct{}{}:
				default:
					r.Dropped++
				}
			}
		}
	}
	tick.Stop()
	close(jobs)
	wg.Wait()
	r.Seconds = time.Since(start).Seconds()
	r.cpuSince(s, cpu)
	r.PeakRSS, r.RSSQuarters = rss.finish()
	r.RSSEnd = procstat.Status(s.pid, "VmRSS")
	if err := ctx.Err(); err != nil {
		return r, err
	}
	r.merge(tallies)
	return r, nil
}

func (r *loadResult) merge(ts []*tally) {
	r.Status = map[int]int64{}
	var lat []time.Duration
	for _, t := range ts {
		for k, v := range t.status {
			r.Status[k] += v
			r.Sent += v
		}
		r.Errors += t.errors
		lat = append(lat, t.lat...)
	}
	r.Accepted = r.Status[http.StatusNoContent]
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	r.P50, r.P90, r.P99, r.P999, r.Max = q(0.50), q(0.90), q(0.99), q(0.999), lat[len(lat)-1]
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func statusLine(m map[int]int64) string {
	codes := make([]int, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	out := ""
	for i, c := range codes {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%d:%d", c, m[c])
	}
	return out
}

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/dxtracker/dxtracker/binlog"
)

// streamResult is one reading of the fill range.
type streamResult struct {
	Name         string    `json:"name"`
	Events       uint64    `json:"events"` // binlog events in the range, as the raw reader counted them
	RowEvents    uint64    `json:"row_events"`
	Bytes        int64     `json:"bytes"`
	Seconds      float64   `json:"seconds"` // the fastest run
	RunSeconds   []float64 `json:"run_seconds"`
	EventsPerS   float64   `json:"events_per_s"`
	MiBPerS      float64   `json:"mib_per_s"`
	RatioToRaw   float64   `json:"ratio_to_raw"`
	BenchCPU     float64   `json:"bench_cpu_s"`              // this process, user+sys
	ServerCPU    float64   `json:"server_cpu_s"`             // mariadbd, user+sys
	EventsPerCPU float64   `json:"events_per_cpu_s"`         // events / (bench + server CPU): robust to a busy machine
	Delivered    uint64    `json:"rows_delivered,omitempty"` // canal: watched rows handed to the handler
	Batches      uint64    `json:"batches,omitempty"`        // follower: ApplyBatch commits
	Created      int64     `json:"events_created,omitempty"`
	Expected     int64     `json:"events_expected,omitempty"`
}

// finish fills the rates from the raw reader's event count and the range size.
func (r *streamResult) finish(raw streamResult, bytes int64) {
	r.Events, r.RowEvents, r.Bytes = raw.Events, raw.RowEvents, bytes
	r.EventsPerS = float64(r.Events) / r.Seconds
	r.MiBPerS = mib(bytes) / r.Seconds
	r.RatioToRaw = raw.Seconds / r.Seconds
	if cpu := r.BenchCPU + r.ServerCPU; cpu > 0 {
		r.EventsPerCPU = float64(r.Events) / cpu
	}
}

// runRaw reads the range with a bare BinlogSyncer whose RowsEventDecodeFunc
// decodes nothing: the stream's own limit. With followerSettings it uses
// the syncer settings binlog/stream.go uses (heartbeat, rows event headers
// decoded) and still
// does nothing with the events: what go-mysql costs the follower before its
// own work starts.
func runRaw(ctx context.Context, e *env, start, end binlog.Position, followerSettings bool) (streamResult, error) {
	res := streamResult{Name: "raw"}
	cfg := replication.BinlogSyncerConfig{
		ServerID: rawServerID, Flavor: mysql.MariaDBFlavor, Host: "127.0.0.1", Port: uint16(e.srv.Port()),
		User: "root", Logger: quietSlog(), DisableRetrySync: true,
		RowsEventDecodeFunc: func(*replication.RowsEvent, []byte) error { return nil },
	}
	if followerSettings {
		res.Name = "raw+cfg"
		// As binlog/stream.go sets it: heartbeat, no per-packet read
		// deadline (the follower has its own watchdog), no checksum check.
		cfg.HeartbeatPeriod = binlog.DefaultHeartbeatPeriod
		cfg.TimestampStringLocation = time.UTC
		cfg.RowsEventDecodeFunc = func(re *replication.RowsEvent, data []byte) error {
			_, err := re.DecodeHeader(data)
			return err
		}
	}
	cpu := e.cpuNow()
	began := time.Now()
	syncer := replication.NewBinlogSyncer(cfg)
	defer syncer.Close()
	stream, err := syncer.StartSync(mysql.Position{Name: start.File, Pos: start.Pos})
	if err != nil {
		return res, err
	}
	file := start.File
	for {
		ev, err := stream.GetEvent(ctx)
		if err != nil {
			return res, err
		}
		res.Events++
		switch e := ev.Event.(type) {
		case *replication.RotateEvent:
			file = string(e.NextLogName)
			continue
		case *replication.FormatDescriptionEvent, *replication.HeartbeatEvent:
			continue
		case *replication.RowsEvent:
			res.RowEvents++
		}
		if file == end.File && ev.Header.LogPos >= end.Pos {
			break
		}
	}
	res.Seconds = time.Since(began).Seconds()
	res.BenchCPU, res.ServerCPU = e.cpuSince(cpu)
	e.log.Info().Str("reader", res.Name).Uint64("events", res.Events).Uint64("row_events", res.RowEvents).
		Float64("seconds", res.Seconds).Msg("raw stream done")
	return res, nil
}

// quietSlog drops go-mysql's info lines.
func quietSlog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// cpuSample is CPU time used so far by this process and by mariadbd.
type cpuSample struct{ self, server time.Duration }

func (e *env) cpuNow() cpuSample {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	self := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpuSample{self: self, server: serverCPU(e.srv.DataDir())}
}

func (e *env) cpuSince(s cpuSample) (self, server float64) {
	n := e.cpuNow()
	return (n.self - s.self).Seconds(), (n.server - s.server).Seconds()
}

// serverCPU reads mariadbd's utime+stime from /proc (0 when unreadable).
func serverCPU(dataDir string) time.Duration {
	b, err := os.ReadFile(filepath.Join(dataDir, "mysqld.pid"))
	if err != nil {
		return 0
	}
	f, err := os.Open("/proc/" + strings.TrimSpace(string(b)) + "/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	stat, err := io.ReadAll(f)
	if err != nil {
		return 0
	}
	// Fields after the ")" that ends the command name; utime and stime are
	// fields 14 and 15 of the whole line, in clock ticks (100 per second).
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(fields[11], 10, 64)
	st, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * (time.Second / 100)
}

// reached reports whether p is at or past end.
func reached(p, end binlog.Position) bool { return !p.IsZero() && p.Compare(end) >= 0 }

func formatRate(perS float64) string {
	switch {
	case perS >= 1e6:
		return fmt.Sprintf("%.2fM", perS/1e6)
	case perS >= 1e3:
		return fmt.Sprintf("%.1fk", perS/1e3)
	}
	return fmt.Sprintf("%.0f", perS)
}

package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/canal"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/ingest"
)

// canalHandler counts the rows canal hands over and signals when canal's
// synced position reaches the end of the range.
type canalHandler struct {
	canal.DummyEventHandler
	end     binlog.Position
	rows    atomic.Uint64
	reached atomic.Bool
	once    sync.Once
	done    chan struct{}
}

func (h *canalHandler) OnRow(e *canal.RowsEvent) error {
	if h.reached.Load() {
		return nil // past the range: the follower's own writes
	}
	n := len(e.Rows)
	if e.Action == canal.UpdateAction {
		n /= 2
	}
	h.rows.Add(uint64(n))
	return nil
}

func (h *canalHandler) OnPosSynced(hdr *replication.EventHeader, pos mysql.Position, _ mysql.GTIDSet, _ bool) error {
	if hdr != nil && reached(binlog.Position{File: pos.Name, Pos: pos.Pos}, h.end) {
		h.once.Do(func() {
			h.reached.Store(true)
			close(h.done)
		})
	}
	return nil
}

func (h *canalHandler) String() string { return "dxtbench" }

// runCanal reads the range with go-mysql's canal filtered to the watched
// tables, as a generic CDC library would be used for the same job.
func runCanal(ctx context.Context, e *env, start, end binlog.Position) (streamResult, error) {
	res := streamResult{Name: "canal"}
	names := make([]string, len(ingest.WatchedTables))
	for i, t := range ingest.WatchedTables {
		names[i] = regexp.QuoteMeta(t)
	}
	cfg := canal.NewDefaultConfig()
	cfg.Addr, cfg.User, cfg.Password = e.addr, "root", ""
	cfg.ServerID, cfg.Flavor = canalServerID, mysql.MariaDBFlavor
	cfg.IncludeTableRegex = []string{regexp.QuoteMeta(e.schema) + `\.(` + strings.Join(names, "|") + `)`}
	cfg.DiscardNoMetaRowEvent = true
	cfg.Dump.ExecutionPath = ""
	cfg.DisableRetrySync = true
	cfg.Logger = quietSlog()

	h := &canalHandler{end: end, done: make(chan struct{})}
	cpu := e.cpuNow()
	began := time.Now()
	c, err := canal.NewCanal(cfg)
	if err != nil {
		return res, err
	}
	c.SetEventHandler(h)
	errc := make(chan error, 1)
	go func() { errc <- c.RunFrom(mysql.Position{Name: start.File, Pos: start.Pos}) }()
	select {
	case <-h.done:
	case err := <-errc:
		c.Close()
		return res, fmt.Errorf("canal stopped before the end of the range: %v", err)
	case <-ctx.Done():
		c.Close()
		<-errc
		return res, ctx.Err()
	}
	res.Seconds = time.Since(began).Seconds()
	res.BenchCPU, res.ServerCPU = e.cpuSince(cpu)
	c.Close()
	if err := <-errc; err != nil {
		e.log.Debug().Err(err).Msg("canal returned after Close")
	}
	res.Delivered = h.rows.Load()
	e.log.Info().Uint64("rows", res.Delivered).Float64("seconds", res.Seconds).Msg("canal done")
	return res, nil
}

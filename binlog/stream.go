package binlog

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

type gomysqlError = mysql.MyError

// item is what the reader hands the applier: a committed transaction with
// watched changes, or only a new resume point. Commits without watched
// changes do not become items of their own: the reader folds them into
// the next item (see reader.emit).
type item struct {
	txn      *Txn
	end      Position
	progress bool // moved by work on non-quiet tables, DDL or a rotation
	flush    bool // deliver without waiting (rotation)
	// held is the part of the session's byte budget this item holds; the
	// applier releases it once the item's batch is applied.
	held   int64
	budget *byteBudget
	// idle alone (no other field set) says the reader has read everything
	// the server sent: the applier should not hold a batch for more.
	idle bool
}

type readResult struct {
	progressed bool
	err        error
}

func (f *Follower) syncerConfig(q *eventQueue, dial client.Dialer) replication.BinlogSyncerConfig {
	host, port := splitAddr(f.cfg.Addr)
	return replication.BinlogSyncerConfig{
		ServerID:                f.cfg.ServerID,
		Flavor:                  f.flavor,
		Host:                    host,
		Port:                    port,
		User:                    f.cfg.User,
		Password:                f.cfg.Password,
		Localhost:               "dxtracker",
		TimestampStringLocation: time.UTC,
		HeartbeatPeriod:         f.cfg.HeartbeatPeriod,
		// No ReadTimeout: go-mysql would reset the socket's read deadline
		// twice per event, which costs more CPU than parsing the event.
		// A dead stream is detected by the reader instead (no event,
		// heartbeats included, for Config.ReadTimeout), and connecting is
		// bounded by a deadline the dialer sets (streamDialer).
		Dialer: dial,
		// Reconnects are ours: from the Handler's accepted position, with
		// backoff tied to ctx.
		DisableRetrySync:     true,
		MaxReconnectAttempts: 1,
		// No CRC32 check of every event, as canal does: it costs about 12%
		// of the read path and guards against nothing TCP's checksum does
		// not already catch on the way; corruption of the binlog file on
		// the server is the server's to detect (master_verify_checksum).
		VerifyChecksum: false,
		DiscardGTIDSet: true, // tracked here, see gtidTracker
		// Events go to q, bounded in bytes, instead of go-mysql's channel.
		SynchronousEventHandler: q,
		EventCacheCount:         1, // the unused channel
		Logger:                  f.slog,
		RowsEventDecodeFunc:     f.decodeRows,
	}
}

func splitAddr(addr string) (string, uint16) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 3306
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return host, 3306
	}
	return host, uint16(port)
}

// decodeRows is go-mysql's RowsEventDecodeFunc. It runs in go-mysql's
// network goroutine, before the event reaches the reader: it decodes the
// rows event header, which resolves the table id to the TableMapEvent that
// preceded it in the same transaction (go-mysql's parser keeps that map per
// stream), and decodes the row images only for watched tables. Other rows
// events reach the reader with Table set and Rows nil.
func (f *Follower) decodeRows(re *replication.RowsEvent, data []byte) error {
	pos, err := re.DecodeHeader(data)
	if err != nil {
		return err
	}
	if re.Table == nil {
		return nil
	}
	if _, kind := f.tableKind(re.Table.Schema, re.Table.Table); kind != tableWatched {
		return nil
	}
	if err := re.DecodeData(pos, data); err != nil {
		return err
	}
	n := len(re.Rows)
	if re.ColumnBitmap2 != nil { // UPDATE: before and after image per row
		n /= 2
	}
	f.rowsDecoded.Add(uint64(n))
	return nil
}

// streamDialer dials the replication connection with a deadline on its
// reads and writes until streaming starts. go-mysql runs without a
// ReadTimeout here, and a server that accepts connections but never
// answers must not hang StartSync, nor the KILL connection of Close (which
// keeps its deadline). It counts the bytes read on the stream connection,
// so that the watchdog can tell a slow large event from a silent stream.
type streamDialer struct {
	timeout time.Duration
	read    atomic.Uint64 // bytes read on the stream connection

	mu     sync.Mutex
	stream net.Conn // the first connection: BinlogSyncer dials it in StartSync
}

// countingConn counts what it reads into n: one atomic add per read of
// the socket (go-mysql reads through a 64 KiB buffer), not per event.
type countingConn struct {
	net.Conn
	n *atomic.Uint64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(uint64(n))
	return n, err
}

func (d *streamDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if err := c.SetDeadline(time.Now().Add(d.timeout)); err != nil {
		c.Close()
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stream != nil {
		return c, nil
	}
	d.stream = c
	return countingConn{Conn: c, n: &d.read}, nil
}

// streaming lifts the stream connection's deadline: from now on the
// reader's watchdog watches it.
func (d *streamDialer) streaming() error {
	d.mu.Lock()
	c := d.stream
	d.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.SetDeadline(time.Time{})
}

// read runs one replication connection from `from` until ctx ends or the
// stream breaks or goes silent, sending assembled items to out. Every
// send blocks until the applier takes the item: the applier receives
// until out is closed, and an item dropped at shutdown could let a later
// End skip its transaction.
func (f *Follower) read(ctx context.Context, from Position, out chan<- item, budget *byteBudget) readResult {
	q := newEventQueue(queueMaxEvents, queueMaxBytes)
	dialer := &streamDialer{timeout: f.cfg.ReadTimeout}
	syncer := replication.NewBinlogSyncer(f.syncerConfig(q, dialer.dial))
	wctx, stopWatch := context.WithCancel(ctx)
	defer func() {
		stopWatch()
		q.close()      // first: go-mysql's goroutine may wait for room, and Close waits for it
		syncer.Close() // also KILLs the dump connection on the server
	}()
	stream, err := syncer.StartSync(mysql.Position{Name: from.File, Pos: from.Pos})
	if err != nil {
		return readResult{err: fmt.Errorf("binlog: open stream at %s: %w", from, classify(err))}
	}
	if err := dialer.streaming(); err != nil {
		return readResult{err: fmt.Errorf("binlog: open stream at %s: %w", from, err)}
	}
	f.connID.Store(syncer.LastConnectionID())
	defer f.connected.Store(false)
	defer f.caughtUp.Store(false)
	go func() {
		// With a SynchronousEventHandler, GetEvent only reports the
		// stream's end; the events go to q.
		_, err := stream.GetEvent(wctx)
		q.fail(err)
	}()

	a, err := newAssembler(f, from)
	if err != nil {
		f.log.Warn().Err(err).Str("gtid", from.GTID).Msg("binlog: start GTID unreadable; GTID text fills in from the stream")
	}
	r := &reader{f: f, a: a, out: out, budget: budget, emitGap: max(f.cfg.IdleFlush/4, time.Millisecond), received: &dialer.read}
	return r.run(ctx, q)
}

// reader is the reading side of one session.
type reader struct {
	f      *Follower
	a      *assembler
	out    chan<- item
	budget *byteBudget
	// rawSince counts the raw bytes read since the last transaction was
	// handed over: that transaction's weight in the budget.
	rawSince int64
	emitGap  time.Duration // least time between items that only move the position
	// received counts the bytes read from the server, events or not yet.
	received *atomic.Uint64

	lastEmit time.Time
	busy     bool // items sent since the last idle item
}

// idleAfter is how long the queue stays empty before the reader tells the
// applier it is idle. Shorter gaps happen while a backlog streams in.
const idleAfter = 2 * time.Millisecond

// run takes events from q until ctx ends, the stream ends or nothing,
// heartbeats included, arrived for Config.ReadTimeout, which makes a
// silent stream (a network partition, a frozen server) dead. Waiting for
// room in the queue or for the applier never counts as silence: the
// silence clock starts when the reader last found events, and bytes of an
// event still on its way (a large row on a slow link) restart it.
//
// Position-only progress (commits without watched changes) is handed to
// the applier in one item: with the next transaction that has watched
// changes or rotation, on a heartbeat, at the end, and otherwise at most
// every emitGap while it includes progress on non-quiet tables.
func (r *reader) run(ctx context.Context, q *eventQueue) readResult {
	f, a := r.f, r.a
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var (
		buf       []*replication.BinlogEvent
		lastSeen  = time.Now()
		lastTS    uint32
		lastBytes = r.received.Load()
	)
	for {
		if ctx.Err() != nil {
			return r.finish(ctx.Err())
		}
		evs, err := q.take(buf)
		if len(evs) == 0 {
			if err != nil {
				return r.finish(fmt.Errorf("binlog: stream after %s: %w", a.cur, classify(err)))
			}
			// Caught up with the network: wait for events, the
			// watchdog or the next due hand-over of progress.
			now := time.Now()
			wait := lastSeen.Add(f.cfg.ReadTimeout).Sub(now)
			if wait <= 0 {
				if n := r.received.Load(); n != lastBytes {
					lastBytes, lastSeen = n, now
					continue
				}
				return r.finish(fmt.Errorf("binlog: stream after %s: no event for %s (server heartbeat every %s); "+
					"the connection is considered dead", a.cur, f.cfg.ReadTimeout, f.cfg.HeartbeatPeriod))
			}
			if a.pendingProgress {
				due := r.lastEmit.Add(r.emitGap).Sub(now)
				if due <= 0 {
					r.emitPending(now)
					continue
				}
				wait = min(wait, due)
			}
			if r.busy {
				if now.Sub(lastSeen) >= idleAfter {
					r.out <- item{idle: true}
					r.busy = false
					continue
				}
				wait = min(wait, lastSeen.Add(idleAfter).Sub(now))
			}
			timer.Reset(wait)
			select {
			case <-q.ready:
			case <-timer.C:
			case <-ctx.Done():
			}
			continue
		}

		var nbytes uint64
		for _, ev := range evs {
			nbytes += uint64(len(ev.RawData))
			r.rawSince += int64(len(ev.RawData))
			if err := a.handle(ctx, ev); err != nil {
				return r.finish(err)
			}
			for _, it := range a.ready {
				if it.txn != nil {
					it.held, it.budget = r.budget.acquire(ctx, r.rawSince), r.budget
					r.rawSince = 0
				}
				r.out <- it
				r.busy = true
			}
			clear(a.ready)
			a.ready = a.ready[:0]
		}
		f.events.Add(uint64(len(evs)))
		f.bytes.Add(nbytes)
		f.mu.Lock()
		f.readPos = a.cur
		f.mu.Unlock()
		if !f.connected.Load() {
			f.connected.Store(true)
		}
		if a.lastTS != lastTS {
			lastTS = a.lastTS
			f.lastEventUnix.Store(int64(lastTS))
		}
		if f.caughtUp.Load() != a.caughtUp {
			f.caughtUp.Store(a.caughtUp)
		}
		clear(evs)
		buf = evs[:0]

		lastSeen, lastBytes = time.Now(), r.received.Load()
		switch {
		case a.heartbeat: // the server has nothing more: hand over all
			a.heartbeat = false
			r.emitPending(lastSeen)
		case a.pendingProgress && lastSeen.Sub(r.lastEmit) >= r.emitGap:
			r.emitPending(lastSeen)
		}
	}
}

// emitPending hands over the position read past the last item, if any.
func (r *reader) emitPending(now time.Time) {
	if it, ok := r.a.takePending(); ok {
		r.out <- it
		r.lastEmit, r.busy = now, true
	}
}

// finish hands over what was read and reports how the session ended.
func (r *reader) finish(err error) readResult {
	r.emitPending(time.Now())
	return readResult{progressed: r.a.progressed, err: err}
}

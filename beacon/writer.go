package beacon

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dxtracker/dxtracker/tracker"
)

var (
	errClosed = errors.New("beacon queue closed")
	errFull   = errors.New("beacon queue full")
	// errDrainTimeout fails beacons still queued when the drain time is up.
	errDrainTimeout = errors.New("shutdown: drain timeout reached before the beacon was stored")
	// errCommitUnknown: COMMIT failed, so whether the rows are stored is
	// unknown. Such a batch is never retried (it could be stored twice);
	// its beacons are answered 503, which is not an acknowledgement.
	errCommitUnknown = errors.New("commit outcome unknown")
)

// queue is the bounded hand-over between handlers and the writer. Submit
// never blocks: a full queue is the client's 429, not our memory.
type queue struct {
	mu     sync.RWMutex
	closed bool
	ch     chan *item
}

func (q *queue) submit(it *item) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return errClosed
	}
	select {
	case q.ch <- it:
		return nil
	default:
		return errFull
	}
}

// close stops submissions; the writer drains what is queued.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
}

func (q *queue) isClosed() bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return q.closed
}

// Limits of one statement: rows, and bytes of values (interpolated, so the
// packet may be about twice that; max_allowed_packet is 16 MiB or more).
const (
	rowsPerInsert  = 500
	bytesPerInsert = 1 << 20
	// maxBatchBytes stops a batch from growing past what a few statements
	// carry.
	maxBatchBytes = 4 << 20
	commitTimeout = 30 * time.Second
	statsInterval = time.Minute
)

// Run writes queued beacons until ctx ends, then stops accepting new ones
// (they get 503), writes everything already queued within the drain timeout
// and returns nil. Each transaction takes every beacon waiting at that
// moment (up to MaxBatch), so a burst costs few commits: group commit.
// Options.Writers transactions may be under way at once, so one waiting
// for its COMMIT (fsync) does not hold up the next batch.
func (s *Service) Run(ctx context.Context) error {
	// Closing the queue must not wait for a transaction under way.
	var drainDeadline atomic.Int64
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(statsInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				drainDeadline.Store(time.Now().Add(s.opts.DrainTimeout).UnixNano())
				s.log.Info().Int("queued", len(s.q.ch)+int(s.stats.writing.Load())).Msg("beacons: stopped accepting, draining the queue")
				s.q.close()
				return
			case <-tick.C:
				s.logRejections()
			case <-done:
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range s.opts.Writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.writeLoop(ctx, &drainDeadline)
		}()
	}
	wg.Wait()
	s.logRejections()
	s.log.Info().Msg("beacons: queue drained")
	return nil
}

// writeLoop takes batches off the queue and commits them until the queue is
// closed and empty.
func (s *Service) writeLoop(ctx context.Context, drainDeadline *atomic.Int64) {
	// The writes outlive ctx: a drain after SIGTERM is still writing.
	wctx := context.WithoutCancel(ctx)
	batch := make([]*item, 0, s.opts.MaxBatch)
	for {
		first, ok := <-s.q.ch
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		size := first.size
	fill:
		for len(batch) < s.opts.MaxBatch && size < maxBatchBytes {
			select {
			case it, ok := <-s.q.ch:
				if !ok {
					break fill
				}
				batch = append(batch, it)
				size += it.size
			default:
				break fill
			}
		}
		cctx, cancel := wctx, context.CancelFunc(func() {})
		if d := drainDeadline.Load(); d != 0 {
			deadline := time.Unix(0, d)
			if time.Now().After(deadline) {
				for _, it := range batch {
					s.finish(it, errDrainTimeout)
				}
				continue
			}
			cctx, cancel = context.WithDeadline(wctx, deadline)
		}
		s.stats.writing.Add(int64(len(batch)))
		s.commit(cctx, batch)
		s.stats.writing.Add(-int64(len(batch)))
		cancel()
	}
}

// commit stores the batch and tells every waiting handler the outcome.
func (s *Service) commit(ctx context.Context, batch []*item) {
	err := s.writeWithRetry(ctx, batch)
	var me *mysql.MySQLError
	if err != nil && len(batch) > 1 && errors.As(err, &me) && !errors.Is(err, errCommitUnknown) {
		// The server refused a statement: one odd beacon must not fail
		// the others, so each is tried on its own.
		s.log.Warn().Err(err).Int("beacons", len(batch)).Msg("beacon batch refused; storing its beacons one by one")
		for _, it := range batch {
			e := s.writeWithRetry(ctx, []*item{it})
			s.finish(it, e)
		}
		return
	}
	if err != nil {
		s.log.Error().Err(err).Int("beacons", len(batch)).Msg("beacons not stored; answered 503")
	}
	for _, it := range batch {
		s.finish(it, err)
	}
}

func (s *Service) finish(it *item, err error) {
	if err != nil {
		s.stats.storeFailed.Add(1)
	} else {
		s.stats.stored.Add(1)
	}
	it.done <- err
}

// writeWithRetry retries a transaction the server rolled back (deadlock,
// lock wait timeout) or that lost its connection before COMMIT.
func (s *Service) writeWithRetry(ctx context.Context, batch []*item) error {
	backoff := 20 * time.Millisecond
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := s.write(ctx, batch)
		s.stats.observeCommit(len(batch), time.Since(start), err)
		if err == nil || attempt == 3 || !retryable(err) {
			return err
		}
		time.Sleep(backoff)
		backoff *= 4
	}
}

func retryable(err error) bool {
	if errors.Is(err, errCommitUnknown) {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205 // deadlock, lock wait timeout
	}
	return false
}

const intakeColumns = `(kind, occurred_at, user_id, module, record_count, client_ip, user_agent, details, content_name, content_type, content_size, content_sha256)`

// write stores the batch in one transaction: multi-row INSERTs into
// dxt_intake, then the texts as dxt_intake_chunk rows, then COMMIT.
//
// A chunk row finds its intake row by the beacon's nonce (details starts
// with {"beacon_id":"<nonce>"), searched from a lower bound of its id: the
// auto-increment values of one INSERT are not necessarily consecutive, but
// they increase with the rows, so the i-th row of a statement whose first
// id is F has an id of at least F+i. Usually the first row looked at is the
// one; rows of other producers in between do not match the nonce. If none
// matched, the NULL id would fail the statement and the transaction: a
// chunk can never land on a foreign row.
func (s *Service) write(ctx context.Context, batch []*item) error {
	ctx, cancel := context.WithTimeout(ctx, commitTimeout)
	defer cancel()
	// READ COMMITTED: the chunk rows' subqueries read dxt_intake as a
	// consistent read; under REPEATABLE READ they would take shared
	// next-key locks and make concurrent producers' INSERTs wait.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit

	minID := make([]uint64, len(batch)) // lower bound of each beacon's id
	for start := 0; start < len(batch); {
		end, bytes := start, 0
		for end < len(batch) && end-start < rowsPerInsert && (end == start || bytes+batch[end].size-len(batch[end].text) < bytesPerInsert) {
			bytes += batch[end].size - len(batch[end].text)
			end++
		}
		var sb strings.Builder
		sb.WriteString(`INSERT INTO dxt_intake ` + intakeColumns + ` VALUES `)
		args := make([]any, 0, 12*(end-start))
		for i, it := range batch[start:end] {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(`(?,?,?,?,?,?,?,?,?,?,?,?)`)
			var name, ctype, sum any
			var size any
			if it.text != nil {
				name, ctype, size, sum = ContentName, ContentType, len(it.text), it.textSHA
			}
			args = append(args, it.kind, it.occurredAt, it.userID, it.module, it.recordCount, it.ip, it.userAgent,
				string(it.details), name, ctype, size, sum)
		}
		res, err := tx.ExecContext(ctx, sb.String(), args...)
		if err != nil {
			return fmt.Errorf("insert %d beacons into dxt_intake: %w", end-start, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("insert beacons: read id: %w", err)
		}
		for i := start; i < end; i++ {
			minID[i] = uint64(id) + uint64(i-start)
		}
		start = end
	}
	if err := insertChunks(ctx, tx, batch, minID); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %w", errCommitUnknown, err)
	}
	return nil
}

// chunkRow finds its intake row by nonce, from the lowest id it can have.
const chunkRow = `((SELECT id FROM dxt_intake WHERE id >= ? AND details LIKE ? ORDER BY id LIMIT 1),?,?)`

// insertChunks writes each beacon's text as chunks of at most 1 MiB, many
// rows per statement.
func insertChunks(ctx context.Context, tx *sql.Tx, batch []*item, minID []uint64) error {
	type chunk struct {
		it   int
		seq  int
		data []byte
	}
	var chunks []chunk
	for i, it := range batch {
		for seq, off := 0, 0; off < len(it.text); seq, off = seq+1, off+tracker.ChunkSize {
			chunks = append(chunks, chunk{i, seq, it.text[off:min(off+tracker.ChunkSize, len(it.text))]})
		}
	}
	for start := 0; start < len(chunks); {
		end, bytes := start, 0
		for end < len(chunks) && end-start < rowsPerInsert && (end == start || bytes+len(chunks[end].data) < bytesPerInsert) {
			bytes += len(chunks[end].data)
			end++
		}
		var sb strings.Builder
		sb.WriteString(`INSERT INTO dxt_intake_chunk (intake_id, seq, data) VALUES `)
		args := make([]any, 0, 4*(end-start))
		for i, c := range chunks[start:end] {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(chunkRow)
			args = append(args, minID[c.it], `{"beacon_id":"`+batch[c.it].nonce+`"%`, c.seq, c.data)
		}
		res, err := tx.ExecContext(ctx, sb.String(), args...)
		if err != nil {
			return fmt.Errorf("insert %d beacon text chunks: %w", end-start, err)
		}
		if n, err := res.RowsAffected(); err == nil && n != int64(end-start) {
			return fmt.Errorf("insert beacon text chunks: %d rows written of %d", n, end-start)
		}
		start = end
	}
	return nil
}

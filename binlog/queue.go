package binlog

import (
	"errors"
	"sync"

	"github.com/go-mysql-org/go-mysql/replication"
)

// Bounds of the events read from the server but not yet taken by the
// reader. Whichever is reached first makes go-mysql's network goroutine
// wait (and TCP push back on the server); an event larger than
// queueMaxBytes is still taken alone. Memory stays flat however far
// behind the stream is: at most ~queueMaxBytes of raw events plus their
// parsed headers.
const (
	queueMaxEvents = 8192
	queueMaxBytes  = 16 << 20
)

var errReaderGone = errors.New("binlog: reader stopped")

// eventQueue sits between go-mysql's network goroutine, which calls
// HandleEvent for every event (BinlogSyncerConfig.SynchronousEventHandler),
// and the reader, which takes everything queued at once. Unlike go-mysql's
// own event channel it is bounded in bytes, costs one lock per event on
// the network side and one per batch on the reader side, and tells the
// reader when it has caught up with the network (the queue is empty).
type eventQueue struct {
	maxEvents, maxBytes int

	mu      sync.Mutex
	evs     []*replication.BinlogEvent
	bytes   int
	err     error // the stream's end, reported after the events before it
	closed  bool  // the reader is gone: HandleEvent fails
	waiting bool  // the reader waits on ready
	full    bool  // HandleEvent waits on room

	ready chan struct{} // events or err arrived while the reader waited
	room  chan struct{} // room freed (or closed) while HandleEvent waited
}

var _ replication.EventHandler = (*eventQueue)(nil)

func newEventQueue(maxEvents, maxBytes int) *eventQueue {
	return &eventQueue{
		maxEvents: maxEvents, maxBytes: maxBytes,
		ready: make(chan struct{}, 1), room: make(chan struct{}, 1),
	}
}

// HandleEvent queues e; it waits while the queue is full. It runs in
// go-mysql's network goroutine.
func (q *eventQueue) HandleEvent(e *replication.BinlogEvent) error {
	q.mu.Lock()
	for !q.closed && len(q.evs) > 0 && (len(q.evs) >= q.maxEvents || q.bytes >= q.maxBytes) {
		q.full = true
		q.mu.Unlock()
		<-q.room
		q.mu.Lock()
	}
	if q.closed {
		q.mu.Unlock()
		return errReaderGone
	}
	q.evs = append(q.evs, e)
	q.bytes += len(e.RawData)
	wake := q.waiting
	q.waiting = false
	q.mu.Unlock()
	if wake {
		signal(q.ready)
	}
	return nil
}

// fail records the stream's end; the reader sees it once it has taken
// every event queued before it.
func (q *eventQueue) fail(err error) {
	if err == nil {
		err = errReaderGone
	}
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	wake := q.waiting
	q.waiting = false
	q.mu.Unlock()
	if wake {
		signal(q.ready)
	}
}

// take returns every queued event, reusing buf's array for the next ones.
// With nothing queued it returns the stream's error if there is one, else
// nothing: the caller then waits on q.ready (or a timer) and takes again.
func (q *eventQueue) take(buf []*replication.BinlogEvent) ([]*replication.BinlogEvent, error) {
	q.mu.Lock()
	if len(q.evs) == 0 {
		err := q.err
		q.waiting = err == nil
		q.mu.Unlock()
		return nil, err
	}
	evs := q.evs
	q.evs, q.bytes = buf[:0], 0
	wake := q.full
	q.full = false
	q.mu.Unlock()
	if wake {
		signal(q.room)
	}
	return evs, nil
}

// close makes HandleEvent fail from now on, including a call waiting for
// room, so that go-mysql's goroutine ends and BinlogSyncer.Close returns.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.evs, q.bytes = nil, 0
	wake := q.full
	q.full = false
	q.mu.Unlock()
	if wake {
		signal(q.room)
	}
}

// signal wakes the one goroutine that may wait on c, without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

package chain

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/ingest"
)

// Hook links the processor's events into the chain inside the processor's
// transaction. It keeps no state between transactions: the head is read
// (and locked) from dxt_chain_head in each, so a rollback, a restart, a
// takeover by another daemon or a retention purge in between needs no
// resynchronisation.
type Hook struct {
	db  *sql.DB
	log zerolog.Logger
	now func() time.Time

	links atomic.Uint64
}

// New returns a Hook on db.
func New(db *sql.DB, log zerolog.Logger) *Hook {
	return &Hook{db: db, log: log.With().Str("component", "chain").Logger(), now: time.Now}
}

// Start links the events that existed before the chain (an upgraded
// installation), once. Call it before the processor's Start, while
// holding the leadership.
func (h *Hook) Start(ctx context.Context) error {
	n, err := Adopt(ctx, h.db, 1000)
	if err != nil {
		return err
	}
	if n > 0 {
		h.log.Info().Int("events", n).Msg("linked the events older than the tamper-evidence chain")
	}
	return nil
}

// BeforeCommit appends a link for every created or merged event whose
// attested fields changed (all new ones). It must run after every other
// writer of the batch (the alerting hook records rule matches in details):
// use Options, which puts it last.
func (h *Hook) BeforeCommit(ctx context.Context, tx *sql.Tx, created []ingest.Created) error {
	ids := make([]uint64, 0, len(created))
	for _, c := range created {
		ids = append(ids, c.EventID)
	}
	n, err := record(ctx, tx, ids, modeIngest, h.now())
	if err != nil {
		return fmt.Errorf("tamper-evidence chain: %w", err)
	}
	h.links.Add(uint64(n))
	return nil
}

// Links is the number of links this hook appended (committed or not).
func (h *Hook) Links() uint64 { return h.links.Load() }

// Options returns o with the hook's BeforeCommit run after o's own (the
// alerting hook's), so the link attests the event as it commits.
// OnRollback needs nothing from the chain and is left as it is.
func (h *Hook) Options(o ingest.Options) ingest.Options {
	prev := o.BeforeCommit
	o.BeforeCommit = func(ctx context.Context, tx *sql.Tx, created []ingest.Created) error {
		if prev != nil {
			if err := prev(ctx, tx, created); err != nil {
				return err
			}
		}
		return h.BeforeCommit(ctx, tx, created)
	}
	return o
}

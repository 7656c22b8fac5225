// Package binlog follows a MySQL or MariaDB server's binary log as a
// replica and hands committed transactions on watched tables, in batches,
// to a Handler that persists them.
//
// # Pipeline
//
// Run opens one replication stream (go-mysql's BinlogSyncer, with its own
// retry off) per session. go-mysql's network goroutine reads and parses
// events into a queue bounded in events and bytes (so memory stays flat
// however far behind the stream is); a reader goroutine takes everything
// queued at once, turns events into transactions and sends them to a
// bounded channel. Commits that change no watched table do not go to the
// channel one by one: the reader folds them into one resume point, handed
// over with the next transaction, a rotation, a heartbeat, at the end of
// the session, or at most every IdleFlush/4 while it includes progress on
// non-quiet tables.
//
// The applier (Run's goroutine) takes the first item blocking, then what
// is already queued, up to Config.MaxBatchTxns transactions or a
// rotation, and calls Handler.ApplyBatch once: group commit. A stream that
// keeps up is never held: a lone transaction is applied at once. When the
// stream is behind (the batch's newest transaction is two seconds old or
// more) the applier waits up to 20 ms for more transactions, so a backlog
// goes in large batches, unless the reader says it has read everything.
// A failed ApplyBatch is retried, same batch, with backoff; nothing is
// ever skipped. When a stream breaks, the applier first applies everything
// the reader had fully read, then a new session starts from the position
// the Handler accepted last.
//
// go-mysql runs without a read timeout (it would reset the socket's
// deadline twice per event). A stream is dead when no event, heartbeats
// included, arrived for Config.ReadTimeout while the reader waited for
// one; connecting is bounded by the same timeout. Either way the session
// ends and Run reconnects with backoff. Event checksums are not verified
// (as in go-mysql's canal): TCP already checksums the way, and the CRC32
// of every event would cost about a tenth of the read path.
//
// Rows are decoded only for watched tables: go-mysql's RowsEventDecodeFunc
// decodes each rows event's header, which resolves its table id through
// the TableMapEvent that preceded it, and decodes the row images only when
// schema and table are watched (Status.RowsDecoded counts them).
//
// Column names come from the table map when the server logs them
// (binlog_row_metadata=FULL), else from information_schema.COLUMNS, loaded
// at start-up and reloaded after DDL naming a watched table or when a rows
// event's column count differs. Signedness of integers also comes from
// information_schema when the binlog lacks it.
//
// # Positions
//
// Positions are taken only at transaction boundaries (XID, COMMIT, a DDL
// statement) and rotations, from the header's end position of those
// events, so MariaDB 11.4's zero positions inside transactions do not
// matter. A synthetic rotate event naming the file being read is ignored;
// one naming another file (sent after a server restart or crash, when the
// old file has no rotate event) counts as a rotation. Each rotation ends a
// batch, so the checkpoint follows the server into the new file.
//
// Transactions that change no watched table only move Batch.End. Such
// progress is delivered as a change-less batch at most every
// Config.IdleFlush, and only when a transaction touched a table outside
// Config.QuietTables; the Handler's own checkpoint writes therefore do not
// trigger further batches.
//
// Delivery is at least once across process restarts (the Handler must be
// idempotent); within one Run, a batch the Handler accepted is never
// delivered again.
package binlog

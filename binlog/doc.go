// Package binlog follows a MySQL or MariaDB server's binary log as a
// replica and hands committed transactions on watched tables, in batches,
// to a Handler that persists them.
//
// # Pipeline
//
// Run opens one replication stream (go-mysql's BinlogSyncer, with its own
// retry off) per session. A reader goroutine turns events into
// transactions and sends them to a bounded channel; the applier (Run's
// goroutine) takes the first item blocking, drains what is already queued,
// up to Config.MaxBatchTxns transactions or a rotation, and calls
// Handler.ApplyBatch once: group commit, so a lone transaction is applied
// at once and a backlog goes in large batches. A failed ApplyBatch is
// retried, same batch, with backoff; nothing is ever skipped. When a stream
// breaks, the applier first applies everything the reader had fully read,
// then a new session starts from the position the Handler accepted last.
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

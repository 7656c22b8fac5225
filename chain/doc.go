// Package chain makes tampering with the tracking log (dxt_event) visible:
// an append-only hash chain that attests every event as the daemon wrote
// it, `dxtracker verify` that checks the database against it, and a daily
// anchor (the chain's head) sent out of the database by mail or webhook.
//
// # Ledger, not a column chain
//
// Events legitimately change after their insert: a probe capture or a
// binlog delivery is merged into a scheduled-report event (details,
// record_count, content, source), an identical copy bumps
// details.repeat_count, the rules write details.rules, the content cap
// clears content_id and writes details.content_purged, and the outbox
// worker sets notify_state/notified_at. A hash stored in the event row and
// chained to the previous row's would break on each. So the chain is a
// separate, append-only ledger:
//
//	dxt_chain(seq PK, event_id, version, op, at, fields, prev_hash, hash)
//	dxt_chain_head(id=1, seq, hash, adopt_upto)  -- the newest link
//	dxt_event.chain_seq, chain_hash              -- the event's newest link
//
// Every insert AND every legitimate change of an event appends a link
// (op insert, update; adopt for events older than the chain; purge when
// retention deletes one). A link's hash is
//
//	SHA-256("dxt-chain-v1\n" prev_hash "\n" seq "\n" event_id "\n" version "\n" op "\n" at "\n" fields)
//
// where fields is the canonical JSON of what the link attests (Fields):
// id, occurred_at, type, user_id, user_name, module, record_count, ip,
// user_agent, source, report_id, dedupe_key, created_at, the SHA-256 of
// the canonical details, and the content by what it is (sha256, size,
// name, media type, truncated), not by content_id. Excluded: notify_state
// and notified_at (delivery bookkeeping the outbox worker changes outside
// any event transaction) and the chain columns themselves. fields is kept
// in the link (a few hundred bytes; details only as a hash) so verify can
// say what was changed and what it was: "record_count: 5000 -> 3".
//
// Canonical details: the JSON value with keys sorted, no white space and
// numbers normalised, so MariaDB or MySQL rewriting the text (JSON_SET)
// does not change the digest; a text that is not JSON is hashed as text.
//
// details.rules IS attested. The rules are derived data, but they say why
// an event mattered and who was told; leaving them out would let an
// attacker erase a match unnoticed. The cost is an ordering rule: the
// chain hook must run after every other writer of the batch. Hook.Options
// wraps the processor options so that it does (it runs the existing
// BeforeCommit, the alerting hook's, first).
//
// # Writers and serialisation
//
// Links are written in the transaction of the change they attest: the
// processor's batch (Hook.BeforeCommit), and retention's batches
// (RecordPurge + Prune for the age purge, RecordChanges for the content
// cap). Two writers append to one chain, so each transaction first locks
// the head row (SELECT ... FOR UPDATE on dxt_chain_head), appends, moves
// the head, and commits; the lock is taken as the last step of each
// transaction, so it is held only until the commit. The head is read from
// the database in every transaction rather than cached: a rollback, a
// restart, a takeover by a standby daemon or a purge in between needs no
// resynchronisation, and OnRollback has nothing to drop.
//
// The processor's batch costs three statements whatever its size: one
// that locks the head (its SELECT ... FOR UPDATE is the first member of a
// UNION ALL) and reads the events with their content and newest link, one
// multi-row INSERT of the links, and one UPDATE that points the events at
// their links and moves the head. A server that refuses the locking UNION
// member gets the lock in a statement of its own.
//
// A link is appended only when the attested fields differ from the
// event's newest link, so a replayed batch, or a merge that changes
// nothing attested, appends nothing.
//
// # Retention
//
// An age purge deletes events (an id prefix once it is done) in batches.
// In each batch's transaction: a purge link per deleted event (fields
// {"purge_id":N}), then Prune deletes the links no remaining event needs:
// every link before the oldest newest-link of a remaining event, at most
// 2×batch per transaction, never past the newest link of an event that is
// gone without a purge link (that is evidence; verify keeps reporting it).
// The last deleted link's seq and hash are written to the batch's
// dxt_purge row (chain_seq, chain_hash): the stored chain then starts
// after that anchor, and verify starts there. The content cap's changes
// append update links in its batch's transaction, under the same lock.
//
// # Upgrades
//
// Schema version 5 records in dxt_chain_head.adopt_upto the highest event
// id at the time it ran. Hook.Start links those events once (op adopt, in
// id order); the daemon calls it before it processes anything. Any other
// event without a link is reported by verify as inserted outside the
// daemon; a later start never adopts it.
//
// # Verify
//
// Verify reads one consistent snapshot (REPEATABLE READ, read only) in
// chunks, never the whole table: (1) the links from the retention anchor
// (or the genesis, 64 zeros) to the head: seq without gaps, prev_hash,
// recomputed hash, insert links in increasing event id (an event inserted
// below a later one was inserted out of order), the head row equal to the
// last link, and the external anchors given with --anchor SEQ:HASH; (2)
// the events and the links merged by event id: each event must have links,
// its current fields must equal its newest link's, and an event whose
// newest link is not a purge must exist. The first problem is reported
// with its kind (changed, deleted, inserted, out_of_order, link, head,
// anchor), the event and the link.
//
// # What it proves, and the anchor
//
// The chain has no secret: an attacker with write access to the database
// who knows this algorithm can rewrite an event and recompute every later
// link and the head, and verify alone will not notice (except where the
// rewrite inserts an event out of order). That is what the daily anchor is
// for: Anchorer enqueues the head (seq and hash) once a day as an outbox
// row of kind "anchor" to every address of notify_admin_email and to
// notify_webhook_url, on the digest's schedule (digest_schedule,
// digest_timezone; 08:00 UTC by default) whether or not the digest itself
// is enabled. It is on by default whenever a recipient is set (there is
// nothing to configure for a property that only helps); dxt_config
// anchor_enabled = 0 turns it off. The message carries the command
// `dxtracker verify --anchor SEQ:HASH`: a chain rewritten after the
// anchor no longer has that hash at that seq. An anchor can be checked
// while its link is stored, i.e. until retention prunes it.
package chain

package tracker

import "slices"

// migration is one step of the tracker schema. Steps are append-only: a
// released step is never edited, a change is a new step. Every statement is
// idempotent on its own (IF NOT EXISTS) so a crash between a statement and
// the version row is healed by running migrate again.
type migration struct {
	version     int
	description string
	statements  []string
}

// The tracker tables live next to Vtiger's but never touch them: every name
// here starts with dxt_. utf8mb4 because copied text and file names carry
// any character a browser can hold.
const tableOptions = ` ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`

var migrations = []migration{
	{
		version:     1,
		description: "tracker tables: config, intake, content, events, checkpoint, schedule state, tokens, access log",
		statements: []string{
			`CREATE TABLE IF NOT EXISTS dxt_config (
  name       VARCHAR(64)  NOT NULL PRIMARY KEY,
  value      TEXT         NOT NULL,
  updated_at DATETIME(6)  NOT NULL
)` + tableOptions,
			// Contract §5 columns first; event_id and process_note are the
			// daemon's own bookkeeping (which event the row became, or why none).
			`CREATE TABLE IF NOT EXISTS dxt_intake (
  id             BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  kind           VARCHAR(32)  NOT NULL,
  occurred_at    DATETIME(6)  NOT NULL,
  user_id        INT          NULL,
  module         VARCHAR(100) NULL,
  record_count   INT          NULL,
  client_ip      VARCHAR(45)  NULL,
  user_agent     VARCHAR(512) NULL,
  details        TEXT         NULL,
  content_name   VARCHAR(255) NULL,
  content_type   VARCHAR(100) NULL,
  content_size   BIGINT       NULL,
  content_sha256 CHAR(64)     NULL,
  processed_at   DATETIME(6)  NULL,
  event_id       BIGINT UNSIGNED NULL,
  process_note   VARCHAR(255) NULL,
  KEY dxt_intake_pending (processed_at, id)
)` + tableOptions,
			`CREATE TABLE IF NOT EXISTS dxt_intake_chunk (
  intake_id BIGINT UNSIGNED NOT NULL,
  seq       INT             NOT NULL,
  data      MEDIUMBLOB      NOT NULL,
  PRIMARY KEY (intake_id, seq)
)` + tableOptions,
			`CREATE TABLE IF NOT EXISTS dxt_content (
  id           BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  name         VARCHAR(255) NULL,
  media_type   VARCHAR(100) NULL,
  size         BIGINT       NOT NULL,
  sha256       CHAR(64)     NOT NULL,
  stored_size  BIGINT       NOT NULL,
  compression  VARCHAR(16)  NOT NULL,
  chunk_count  INT          NOT NULL,
  truncated    TINYINT(1)   NOT NULL DEFAULT 0,
  created_at   DATETIME(6)  NOT NULL
)` + tableOptions,
			`CREATE TABLE IF NOT EXISTS dxt_content_chunk (
  content_id BIGINT UNSIGNED NOT NULL,
  seq        INT             NOT NULL,
  data       MEDIUMBLOB      NOT NULL,
  PRIMARY KEY (content_id, seq)
)` + tableOptions,
			// dedupe_key makes every producer idempotent: intake:<id>,
			// sched:<report>:<trigger time>, beacon:<...>. Indexes end in
			// (occurred_at, id) so every filter pages by keyset.
			`CREATE TABLE IF NOT EXISTS dxt_event (
  id           BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  occurred_at  DATETIME(6)  NOT NULL,
  type         VARCHAR(32)  NOT NULL,
  user_id      INT          NULL,
  user_name    VARCHAR(255) NULL,
  module       VARCHAR(100) NULL,
  record_count INT          NULL,
  ip           VARCHAR(45)  NULL,
  user_agent   VARCHAR(512) NULL,
  source       VARCHAR(64)  NOT NULL,
  details      LONGTEXT     NOT NULL,
  content_id   BIGINT UNSIGNED NULL,
  report_id    INT          NULL,
  dedupe_key   VARCHAR(191) NOT NULL,
  notify_state VARCHAR(16)  NOT NULL DEFAULT 'none',
  notified_at  DATETIME(6)  NULL,
  created_at   DATETIME(6)  NOT NULL,
  UNIQUE KEY dxt_event_dedupe (dedupe_key),
  KEY dxt_event_time (occurred_at, id),
  KEY dxt_event_user (user_name, occurred_at, id),
  KEY dxt_event_type (type, occurred_at, id),
  KEY dxt_event_module (module, occurred_at, id),
  KEY dxt_event_ip (ip, occurred_at, id),
  KEY dxt_event_report (report_id, occurred_at, id)
)` + tableOptions,
			`CREATE TABLE IF NOT EXISTS dxt_checkpoint (
  name       VARCHAR(64)     NOT NULL PRIMARY KEY,
  file       VARCHAR(255)    NOT NULL,
  pos        BIGINT UNSIGNED NOT NULL,
  gtid       TEXT            NULL,
  updated_at DATETIME(6)     NOT NULL
)` + tableOptions,
			// Last next_trigger_time seen per schedule, so deliveries missed
			// while the binlog was unavailable can be reconstructed.
			`CREATE TABLE IF NOT EXISTS dxt_schedule_state (
  report_id         INT         NOT NULL PRIMARY KEY,
  next_trigger_time DATETIME    NULL,
  updated_at        DATETIME(6) NOT NULL
)` + tableOptions,
			`CREATE TABLE IF NOT EXISTS dxt_api_token (
  id           BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  name         VARCHAR(100) NOT NULL,
  token_hash   CHAR(64)     NOT NULL,
  created_at   DATETIME(6)  NOT NULL,
  last_used_at DATETIME(6)  NULL,
  revoked_at   DATETIME(6)  NULL,
  UNIQUE KEY dxt_api_token_hash (token_hash)
)` + tableOptions,
			`CREATE TABLE IF NOT EXISTS dxt_access_log (
  id          BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  at          DATETIME(6)   NOT NULL,
  principal   VARCHAR(255)  NOT NULL,
  auth_method VARCHAR(16)   NOT NULL,
  action      VARCHAR(32)   NOT NULL,
  event_id    BIGINT UNSIGNED NULL,
  remote_ip   VARCHAR(45)   NULL,
  path        VARCHAR(1024) NOT NULL,
  status      INT           NOT NULL,
  KEY dxt_access_log_at (at),
  KEY dxt_access_log_event (event_id)
)` + tableOptions,
		},
	},
	{
		version:     2,
		description: "dxt_intake index (user_id, occurred_at) for copy coalescing and context-menu look-back",
		// MySQL has no ADD INDEX IF NOT EXISTS: the statement is chosen by
		// information_schema, so a rerun after a crash is a no-op. The four
		// statements run on one connection (session variable, prepared
		// statement).
		statements: slices.Concat(
			addIndexIfMissing("dxt_intake", "dxt_intake_user_time",
				`ALTER TABLE dxt_intake ADD INDEX dxt_intake_user_time (user_id, occurred_at)`),
		),
	},
	{
		version:     3,
		description: "rules, notification outbox, per-user indexes the rules look up",
		statements: slices.Concat(
			[]string{
				// A rule is data, not code: kind picks the evaluator, params
				// (JSON) its settings. notify = a match sends notifications.
				`CREATE TABLE IF NOT EXISTS dxt_rule (
  id          BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  name        VARCHAR(100) NOT NULL,
  kind        VARCHAR(32)  NOT NULL,
  enabled     TINYINT(1)   NOT NULL DEFAULT 1,
  severity    VARCHAR(16)  NOT NULL DEFAULT 'medium',
  notify      TINYINT(1)   NOT NULL DEFAULT 1,
  params      TEXT         NOT NULL,
  created_at  DATETIME(6)  NOT NULL,
  updated_at  DATETIME(6)  NOT NULL,
  updated_by  VARCHAR(255) NULL,
  UNIQUE KEY dxt_rule_name (name)
)` + tableOptions,
				// One row per notification to send (event x channel x recipient,
				// or a summary, digest or anchor), written in the transaction of
				// what caused it; dedupe_key makes every writer idempotent.
				`CREATE TABLE IF NOT EXISTS dxt_outbox (
  id              BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  dedupe_key      VARCHAR(191)  NOT NULL,
  kind            VARCHAR(16)   NOT NULL,
  channel         VARCHAR(16)   NOT NULL,
  recipient       VARCHAR(1024) NOT NULL,
  recipient_hash  CHAR(64)      NOT NULL,
  event_id        BIGINT UNSIGNED NULL,
  payload         LONGTEXT      NULL,
  state           VARCHAR(16)   NOT NULL DEFAULT 'pending',
  attempts        INT           NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(6)   NOT NULL,
  last_error      VARCHAR(1024) NULL,
  message_id      VARCHAR(255)  NULL,
  created_at      DATETIME(6)   NOT NULL,
  updated_at      DATETIME(6)   NOT NULL,
  sent_at         DATETIME(6)   NULL,
  UNIQUE KEY dxt_outbox_dedupe (dedupe_key),
  KEY dxt_outbox_due (state, next_attempt_at),
  KEY dxt_outbox_recipient (recipient_hash, sent_at),
  KEY dxt_outbox_event (event_id)
)` + tableOptions,
			},
			addIndexIfMissing("dxt_event", "dxt_event_user_module",
				`ALTER TABLE dxt_event ADD INDEX dxt_event_user_module (user_name, module, occurred_at), ADD INDEX dxt_event_user_ip (user_name, ip, occurred_at)`),
		),
	},
	{
		version:     4,
		description: "retention: dxt_purge audit, dxt_config.updated_by, dxt_event content index",
		statements: slices.Concat(
			[]string{
				// Who last set a key (API principal or Vtiger admin), so a purge
				// can say who configured it. MySQL 8 has no ADD COLUMN IF NOT
				// EXISTS: chosen by information_schema as in version 2.
			},
			addColumnIfMissing("dxt_config", "updated_by",
				`ALTER TABLE dxt_config ADD COLUMN updated_by VARCHAR(255) NULL`),
			[]string{
				// The content cap finds the events of a content by content_id;
				// the age purge checks that a content has no surviving event.
			},
			addIndexIfMissing("dxt_event", "dxt_event_content",
				`ALTER TABLE dxt_event ADD INDEX dxt_event_content (content_id)`),
			[]string{
				// One row per purge run. Counters are updated in the transaction
				// of each batch, so the row matches what is gone even after a
				// crash (status stays 'running' until the next purge marks it
				// failed). Every event with id <= max_event_id is gone after a
				// 'done' age purge; every event above it was kept. A content_cap
				// purge deletes no event: events_updated counts the events whose
				// content_id it cleared (details.content_purged says so), in the
				// id range min_event_id..max_event_id.
				`CREATE TABLE IF NOT EXISTS dxt_purge (
  id                    BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  started_at            DATETIME(6)  NOT NULL,
  finished_at           DATETIME(6)  NULL,
  kind                  VARCHAR(16)  NOT NULL,
  cutoff                DATETIME(6)  NULL,
  retention_days        INT          NULL,
  content_cap_bytes     BIGINT       NULL,
  configured_by         VARCHAR(255) NULL,
  configured_at         DATETIME(6)  NULL,
  min_event_id          BIGINT UNSIGNED NULL,
  max_event_id          BIGINT UNSIGNED NULL,
  min_occurred_at       DATETIME(6)  NULL,
  max_occurred_at       DATETIME(6)  NULL,
  events_deleted        BIGINT       NOT NULL DEFAULT 0,
  events_updated        BIGINT       NOT NULL DEFAULT 0,
  contents_deleted      BIGINT       NOT NULL DEFAULT 0,
  content_bytes_deleted BIGINT       NOT NULL DEFAULT 0,
  intake_rows_deleted   BIGINT       NOT NULL DEFAULT 0,
  outbox_rows_deleted   BIGINT       NOT NULL DEFAULT 0,
  batches               INT          NOT NULL DEFAULT 0,
  status                VARCHAR(16)  NOT NULL,
  error                 TEXT         NULL,
  KEY dxt_purge_started (started_at),
  KEY dxt_purge_status (status)
)` + tableOptions,
			},
		),
	},
	{
		version:     5,
		description: "tamper evidence: dxt_chain ledger, dxt_chain_head, dxt_event.chain_seq/chain_hash, dxt_purge chain anchor",
		statements: slices.Concat(
			[]string{
				// Append-only hash chain over the tracking log (package chain):
				// one link per insert, legitimate change and purge of an event,
				// hash = SHA-256 of the previous link's hash and this link.
				// fields is the canonical JSON the link attests (details and the
				// content enter by their SHA-256), so verify can name what changed.
				`CREATE TABLE IF NOT EXISTS dxt_chain (
  seq       BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  event_id  BIGINT UNSIGNED NOT NULL,
  version   INT UNSIGNED    NOT NULL,
  op        VARCHAR(8)      NOT NULL,
  at        DATETIME(6)     NOT NULL,
  fields    TEXT            NOT NULL,
  prev_hash CHAR(64)        NOT NULL,
  hash      CHAR(64)        NOT NULL,
  UNIQUE KEY dxt_chain_event (event_id, version)
)` + tableOptions,
				// The chain's head: one row, locked FOR UPDATE by every
				// transaction that appends a link (the processor, retention),
				// which serialises the writers. adopt_upto: the events that
				// existed when this version was applied, which the daemon links
				// once (op adopt); any other event without a link is a forgery.
				`CREATE TABLE IF NOT EXISTS dxt_chain_head (
  id         TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  seq        BIGINT UNSIGNED  NOT NULL,
  hash       CHAR(64)         NOT NULL,
  adopt_upto BIGINT UNSIGNED  NOT NULL,
  updated_at DATETIME(6)      NOT NULL
)` + tableOptions,
				`INSERT IGNORE INTO dxt_chain_head (id, seq, hash, adopt_upto, updated_at)
SELECT 1, 0, REPEAT('0', 64), COALESCE(MAX(id), 0), UTC_TIMESTAMP(6) FROM dxt_event`,
			},
			addColumnIfMissing("dxt_event", "chain_seq",
				`ALTER TABLE dxt_event ADD COLUMN chain_seq BIGINT UNSIGNED NULL, ADD COLUMN chain_hash CHAR(64) NULL, ADD INDEX dxt_event_chain (chain_seq)`),
			[]string{
				// A purge that deletes the links of purged events records the
				// last deleted link: the chain then starts after it.
			},
			addColumnIfMissing("dxt_purge", "chain_seq",
				`ALTER TABLE dxt_purge ADD COLUMN chain_seq BIGINT UNSIGNED NULL, ADD COLUMN chain_hash CHAR(64) NULL`),
		),
	},
	{
		version:     6,
		description: "API tokens may expire: dxt_api_token.expires_at",
		statements: slices.Concat(
			addColumnIfMissing("dxt_api_token", "expires_at",
				`ALTER TABLE dxt_api_token ADD COLUMN expires_at DATETIME(6) NULL AFTER created_at`),
		),
	},
}

// addIndexIfMissing runs ddl unless table already has the index name.
// MySQL has no ADD INDEX IF NOT EXISTS: the statement is chosen by
// information_schema, so a rerun after a crash is a no-op. The four
// statements run on one connection (session variable, prepared statement).
func addIndexIfMissing(table, name, ddl string) []string {
	return ddlUnless("statistics", "index_name", table, name, ddl)
}

// addColumnIfMissing runs ddl unless table already has the column name.
func addColumnIfMissing(table, name, ddl string) []string {
	return ddlUnless("columns", "column_name", table, name, ddl)
}

func ddlUnless(view, nameColumn, table, name, ddl string) []string {
	return []string{
		`SET @dxt_ddl = IF((SELECT COUNT(*) FROM information_schema.` + view + `
  WHERE table_schema = DATABASE() AND table_name = '` + table + `' AND ` + nameColumn + ` = '` + name + `') = 0,
  '` + ddl + `', 'DO 0')`,
		`PREPARE dxt_ddl FROM @dxt_ddl`,
		`EXECUTE dxt_ddl`,
		`DEALLOCATE PREPARE dxt_ddl`,
	}
}

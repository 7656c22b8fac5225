-- Least-privilege account for dxtracker (MariaDB 10.5+, 11.x; MySQL 8.0, 8.4).
--
-- Replace the placeholders and run as an administrator, e.g.:
--   sed -e 's/@VTIGER_DB@/vtiger/g' -e 's/@DXT_HOST@/localhost/g' \
--       -e "s/@DXT_PASSWORD@/$(openssl rand -hex 24)/g" grants.sql | mariadb
--   @VTIGER_DB@   the Vtiger database (the database in dxtracker's mysql_dsn)
--   @DXT_HOST@    where dxtracker connects from: localhost on the database
--                 host; an address or '10.0.0.%' for daemons elsewhere (HA)
--   @DXT_PASSWORD@ its password; put the same in /etc/dxtracker/mysql_dsn
--
-- Idempotent: run it again after every upgrade of dxtracker, since a new
-- version may read another Vtiger table or add a dxt_ table (its release
-- notes say so). An existing account keeps its password.
-- `dxtracker doctor` checks the result (see README.md next to this file).

CREATE USER IF NOT EXISTS 'dxtracker'@'@DXT_HOST@' IDENTIFIED BY '@DXT_PASSWORD@';

-- Reading the binary log as a replica (COM_BINLOG_DUMP) needs REPLICATION
-- SLAVE; SHOW MASTER STATUS / SHOW BINARY LOGS need REPLICATION CLIENT.
-- MariaDB >= 10.5 calls them REPLICATION REPLICA and BINLOG MONITOR and
-- accepts these old names as aliases; MySQL 8 knows only these. Nothing
-- else on *.*: no SUPER, no FILE, no PROCESS.
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'dxtracker'@'@DXT_HOST@';
-- Optional, MariaDB >= 10.5.2 only: lets `dxtracker doctor` list the other
-- replicas to catch a server_id clash (without it doctor only warns).
-- GRANT REPLICATION MASTER ADMIN ON *.* TO 'dxtracker'@'@DXT_HOST@';

-- The Vtiger tables dxtracker reads, read-only: users and login sessions
-- (who, from where), modules, reports and their schedules, and what resolves
-- a scheduled report's recipients (roles, groups, the company's domains).
-- No grant on the CRM's data (vtiger_crmentity, contacts, ...).
GRANT SELECT ON `@VTIGER_DB@`.`vtiger_users`               TO 'dxtracker'@'@DXT_HOST@';
GRANT SELECT ON `@VTIGER_DB@`.`vtiger_loginhistory`        TO 'dxtracker'@'@DXT_HOST@';
GRANT SELECT ON `@VTIGER_DB@`.`vtiger_tab`                 TO 'dxtracker'@'@DXT_HOST@';
GRANT SELECT ON `@VTIGER_DB@`.`vtiger_report`              TO 'dxtracker'@'@DXT_HOST@';
GRANT SELECT ON `@VTIGER_DB@`.`vtiger_reportmodules`       TO 'dxtracker'@'@DXT_HOST@';
GRANT SELECT ON `@VTIGER_DB@`.`vtiger_schedulereports`     TO 'dxtracker'@'@DXT_HOST@';
GRANT SELECT ON `@VTIGER_DB@`.`vtiger_role`                TO 'dxtracker'@'@DXT_HOST@';
GRANT SELECT ON `@VTIGER_DB@`.`vtiger_user2role`           TO 'dxtracker'@'@DXT_HOST@';
GRANT SELECT ON `@VTIGER_DB@`.`vtiger_users2group`         TO 'dxtracker'@'@DXT_HOST@';
GRANT SELECT ON `@VTIGER_DB@`.`vtiger_group2grouprel`      TO 'dxtracker'@'@DXT_HOST@';
GRANT SELECT ON `@VTIGER_DB@`.`vtiger_group2role`          TO 'dxtracker'@'@DXT_HOST@';
GRANT SELECT ON `@VTIGER_DB@`.`vtiger_group2rs`            TO 'dxtracker'@'@DXT_HOST@';
GRANT SELECT ON `@VTIGER_DB@`.`vtiger_organizationdetails` TO 'dxtracker'@'@DXT_HOST@';

-- The tracker's own tables: everything (dxtracker creates and migrates
-- them). MySQL and MariaDB take no wildcard in a table name, so each is
-- named; a grant that includes CREATE may name a table that does not exist
-- yet, so this runs before the first `dxtracker migrate`.
GRANT ALL PRIVILEGES ON `@VTIGER_DB@`.`dxt_schema_version` TO 'dxtracker'@'@DXT_HOST@';
GRANT ALL PRIVILEGES ON `@VTIGER_DB@`.`dxt_config`         TO 'dxtracker'@'@DXT_HOST@';
GRANT ALL PRIVILEGES ON `@VTIGER_DB@`.`dxt_intake`         TO 'dxtracker'@'@DXT_HOST@';
GRANT ALL PRIVILEGES ON `@VTIGER_DB@`.`dxt_intake_chunk`   TO 'dxtracker'@'@DXT_HOST@';
GRANT ALL PRIVILEGES ON `@VTIGER_DB@`.`dxt_content`        TO 'dxtracker'@'@DXT_HOST@';
GRANT ALL PRIVILEGES ON `@VTIGER_DB@`.`dxt_content_chunk`  TO 'dxtracker'@'@DXT_HOST@';
GRANT ALL PRIVILEGES ON `@VTIGER_DB@`.`dxt_event`          TO 'dxtracker'@'@DXT_HOST@';
GRANT ALL PRIVILEGES ON `@VTIGER_DB@`.`dxt_checkpoint`     TO 'dxtracker'@'@DXT_HOST@';
GRANT ALL PRIVILEGES ON `@VTIGER_DB@`.`dxt_schedule_state` TO 'dxtracker'@'@DXT_HOST@';
GRANT ALL PRIVILEGES ON `@VTIGER_DB@`.`dxt_api_token`      TO 'dxtracker'@'@DXT_HOST@';
GRANT ALL PRIVILEGES ON `@VTIGER_DB@`.`dxt_access_log`     TO 'dxtracker'@'@DXT_HOST@';
GRANT ALL PRIVILEGES ON `@VTIGER_DB@`.`dxt_rule`           TO 'dxtracker'@'@DXT_HOST@';
GRANT ALL PRIVILEGES ON `@VTIGER_DB@`.`dxt_outbox`         TO 'dxtracker'@'@DXT_HOST@';
GRANT ALL PRIVILEGES ON `@VTIGER_DB@`.`dxt_purge`          TO 'dxtracker'@'@DXT_HOST@';
GRANT ALL PRIVILEGES ON `@VTIGER_DB@`.`dxt_chain`          TO 'dxtracker'@'@DXT_HOST@';
GRANT ALL PRIVILEGES ON `@VTIGER_DB@`.`dxt_chain_head`     TO 'dxtracker'@'@DXT_HOST@';

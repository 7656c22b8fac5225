<?php
require_once __DIR__ . '/Log.php';

/**
 * The extension's own short database connection, made from Vtiger's
 * $dbconfig (config.inc.php).
 *
 * Why not Vtiger's $adb (PearDatabase/ADOdb): its transaction state,
 * error handling (dieOnError can print and die) and query log are Vtiger's.
 * The probe must write its intake row in a transaction of its own, at the
 * end of a request in which Vtiger may have left a transaction open or an
 * error pending, and must never print, die or leave a trace in Vtiger's
 * connection. A separate connection keeps both sides untouched. (Report
 * counts are the exception: they run through Vtiger's own report code,
 * which needs Vtiger's connection for its temporary tables.)
 *
 * mysqli's report mode is process-wide and Vtiger depends on its own, so it
 * is switched off only around this extension's calls (withReportOff) and
 * restored afterwards.
 */
final class Dxt_Db
{
    /** Seconds to wait for the TCP connect and the handshake. */
    const CONNECT_TIMEOUT = 2;
    /** Seconds to wait for any one server answer (a 1 MiB chunk insert included). */
    const READ_TIMEOUT = 30;

    /**
     * Connects with $dbconfig's db_server, db_port (':3306' or '3306', or a
     * ':/path/to.sock' socket), db_username, db_password, db_name. utf8mb4.
     * Returns null, after logging why, when the database cannot be reached.
     */
    public static function connect(array $dbconfig): ?mysqli
    {
        if (!extension_loaded('mysqli')) {
            Dxt_Log::once('db.nomysqli', 'PHP extension mysqli is not loaded; the probe records nothing');
            return null;
        }
        $target = self::target($dbconfig);
        return self::withReportOff(function () use ($target) {
            $db = mysqli_init();
            if (!$db) {
                Dxt_Log::error('mysqli_init failed');
                return null;
            }
            $db->options(MYSQLI_OPT_CONNECT_TIMEOUT, self::CONNECT_TIMEOUT);
            if (defined('MYSQLI_OPT_READ_TIMEOUT')) {
                $db->options(MYSQLI_OPT_READ_TIMEOUT, self::READ_TIMEOUT);
            }
            $ok = @$db->real_connect($target['host'], $target['user'], $target['password'], $target['database'], $target['port'], $target['socket']);
            if (!$ok) {
                Dxt_Log::error(sprintf('cannot connect to the Vtiger database %s: (%d) %s',
                    $target['where'], $db->connect_errno ? $db->connect_errno : 0, $db->connect_error ? $db->connect_error : 'unknown error'));
                return null;
            }
            if (!@$db->set_charset('utf8mb4') && !@$db->set_charset('utf8')) {
                Dxt_Log::error('cannot set the connection character set: ' . $db->error);
                @$db->close();
                return null;
            }
            return $db;
        }, null);
    }

    /**
     * Host, port, socket and a printable place (no password) from Vtiger's
     * $dbconfig. Public for tests.
     */
    public static function target(array $dbconfig): array
    {
        $host = isset($dbconfig['db_server']) ? trim((string) $dbconfig['db_server']) : '';
        $portRaw = isset($dbconfig['db_port']) ? trim((string) $dbconfig['db_port']) : '';
        $port = 0;
        $socket = null;

        // Vtiger joins db_server and db_port for ADOdb, so "host:port" and
        // "host:/socket" in db_server work there too.
        if ($host !== '' && $host[0] !== '[' && substr_count($host, ':') === 1) {
            list($h, $rest) = explode(':', $host, 2);
            $host = $h;
            if ($portRaw === '') {
                $portRaw = $rest;
            }
        } elseif ($host !== '' && $host[0] === '[') {
            // [IPv6]:port
            $end = strpos($host, ']');
            if ($end !== false) {
                $rest = substr($host, $end + 1);
                $host = substr($host, 1, $end - 1);
                if ($portRaw === '' && strlen($rest) > 1 && $rest[0] === ':') {
                    $portRaw = substr($rest, 1);
                }
            }
        }
        $portRaw = ltrim($portRaw, ':');
        if ($portRaw !== '') {
            if (ctype_digit($portRaw)) {
                $port = (int) $portRaw;
            } elseif ($portRaw[0] === '/') {
                $socket = $portRaw;
            }
        }
        if ($host === '') {
            $host = 'localhost';
        }
        $where = $host . ($socket !== null ? ':' . $socket : ($port ? ':' . $port : ''));
        $database = isset($dbconfig['db_name']) ? (string) $dbconfig['db_name'] : '';
        if ($database !== '') {
            $where .= '/' . $database;
        }
        return array(
            'host' => $host,
            'port' => $port ? $port : 3306,
            'socket' => $socket,
            'user' => isset($dbconfig['db_username']) ? (string) $dbconfig['db_username'] : '',
            'password' => isset($dbconfig['db_password']) ? (string) $dbconfig['db_password'] : '',
            'database' => $database,
            'where' => $where,
        );
    }

    /**
     * Runs $fn with mysqli's report mode off (errors are return values,
     * never exceptions) and restores the mode Vtiger had.
     *
     * @param callable $fn
     * @param mixed $fallback returned when $fn throws anyway
     * @return mixed
     */
    public static function withReportOff($fn, $fallback = null)
    {
        $driver = new mysqli_driver();
        $previous = $driver->report_mode;
        mysqli_report(MYSQLI_REPORT_OFF);
        try {
            return $fn();
        } catch (Throwable $e) {
            Dxt_Log::error('database: ' . Dxt_Log::describe($e));
            return $fallback;
        } finally {
            mysqli_report($previous);
        }
    }

    /**
     * Runs a SELECT with string parameters through a prepared statement and
     * returns all rows as associative arrays, or null on error (logged).
     * Column values come back as strings or null.
     */
    public static function select(mysqli $db, string $sql, array $params = array()): ?array
    {
        return self::withReportOff(function () use ($db, $sql, $params) {
            $stmt = @$db->prepare($sql);
            if (!$stmt) {
                Dxt_Log::error('query failed: ' . $db->error);
                return null;
            }
            if ($params) {
                $values = array_values($params);
                $types = str_repeat('s', count($values));
                $refs = array($types);
                foreach ($values as $i => $v) {
                    $values[$i] = $v === null ? null : (string) $v;
                    $refs[] = &$values[$i];
                }
                call_user_func_array(array($stmt, 'bind_param'), $refs);
            }
            if (!@$stmt->execute()) {
                Dxt_Log::error('query failed: ' . $stmt->error);
                $stmt->close();
                return null;
            }
            $meta = $stmt->result_metadata();
            if (!$meta) {
                $stmt->close();
                return array();
            }
            // bind_result works without mysqlnd's get_result().
            $names = array();
            $row = array();
            $bind = array();
            foreach ($meta->fetch_fields() as $f) {
                $names[] = $f->name;
                $row[$f->name] = null;
                $bind[] = &$row[$f->name];
            }
            $meta->free();
            call_user_func_array(array($stmt, 'bind_result'), $bind);
            $out = array();
            while (($r = $stmt->fetch()) === true) {
                $copy = array();
                foreach ($names as $n) {
                    $copy[$n] = $row[$n] === null ? null : (string) $row[$n];
                }
                $out[] = $copy;
            }
            $failed = $r === false;
            $err = $stmt->error;
            $stmt->close();
            if ($failed) {
                Dxt_Log::error('query failed while reading rows: ' . $err);
                return null;
            }
            return $out;
        }, null);
    }
}

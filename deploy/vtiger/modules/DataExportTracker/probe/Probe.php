<?php
/**
 * Starts the probe for a request that bootstrap.php recognised as an export
 * or a cron run: reads dxt_config once, and if the take-out is tracked hands
 * over to the path's capture code (WebExport.php, ScheduledReports.php).
 *
 * Fail open: if the database or dxt_config cannot be read, the request runs
 * without the probe (no output buffer, nothing registered) and the reason is
 * in PHP's error log.
 */
$dxtLib = dirname(__DIR__) . '/lib/';
require_once $dxtLib . 'Log.php';
require_once $dxtLib . 'Db.php';
require_once $dxtLib . 'Config.php';
require_once $dxtLib . 'ClientIp.php';
require_once $dxtLib . 'CsvCounter.php';
require_once $dxtLib . 'Capture.php';
require_once $dxtLib . 'IntakeWriter.php';
unset($dxtLib);
require_once __DIR__ . '/VtigerBridge.php';
require_once __DIR__ . '/WebExport.php';
require_once __DIR__ . '/ScheduledReports.php';

final class Dxt_Probe
{
    /** Written into details.probe so the daemon can tell probe versions apart. */
    const VERSION = '1';

    /**
     * @param string $kind listview_export, report_export or scheduled_report
     * @param array|null $dbconfig Vtiger's $dbconfig
     */
    public static function start(string $kind, ?array $dbconfig): void
    {
        Dxt_Log::quietly('probe start', function () use ($kind, $dbconfig) {
            if ($dbconfig === null) {
                Dxt_Log::once('probe.nodbconfig', 'Vtiger\'s $dbconfig is not visible where config_override.php includes the probe; nothing is tracked');
                return;
            }
            $started = microtime(true);
            $db = Dxt_Db::connect($dbconfig);
            if ($db === null) {
                return; // logged by connect
            }
            try {
                $config = Dxt_Config::load($db);
                if (!$config->tracks($kind)) {
                    return;
                }
                if ($kind === 'scheduled_report') {
                    Dxt_ScheduledReportProbe::start($db, $dbconfig, $config, $started);
                } else {
                    Dxt_WebExportProbe::start($kind, $dbconfig, $config, $started,
                        isset($_REQUEST) && is_array($_REQUEST) ? $_REQUEST : array(), $_SERVER);
                }
            } finally {
                @$db->close();
            }
        });
    }

    /**
     * The Vtiger user of this request: the session's (as Vtiger's WebUI
     * reads it: AUTHUSERID, else authenticated_user_id, only for this
     * installation's application key), else the global $current_user (the
     * cron sets it to the active administrator).
     */
    public static function currentUserId(): ?int
    {
        if (isset($_SESSION) && is_array($_SESSION)) {
            $key = isset($GLOBALS['application_unique_key']) ? $GLOBALS['application_unique_key'] : null;
            $sessionKey = isset($_SESSION['app_unique_key']) ? $_SESSION['app_unique_key'] : null;
            if ($key === null || $sessionKey === null || (string) $key === (string) $sessionKey) {
                foreach (array('AUTHUSERID', 'authenticated_user_id') as $k) {
                    if (isset($_SESSION[$k]) && is_scalar($_SESSION[$k]) && preg_match('/^\d+$/', (string) $_SESSION[$k]) && (int) $_SESSION[$k] > 0) {
                        return (int) $_SESSION[$k];
                    }
                }
            }
        }
        $user = isset($GLOBALS['current_user']) ? $GLOBALS['current_user'] : null;
        if (is_object($user) && isset($user->id) && is_scalar($user->id) && preg_match('/^\d+$/', (string) $user->id) && (int) $user->id > 0) {
            return (int) $user->id;
        }
        return null;
    }

    /** Vtiger's root folder (the probe lives in modules/DataExportTracker/probe). */
    public static function vtigerRoot(): string
    {
        return dirname(__DIR__, 3);
    }

    /**
     * A request parameter for details: strings clipped to $max characters,
     * JSON text (as Vtiger decodes it: starting with [ or {) decoded when it
     * is small, anything else null.
     *
     * @param mixed $v
     * @return mixed
     */
    public static function param($v, int $max = 2048)
    {
        if ($v === null) {
            return null;
        }
        if (is_array($v)) {
            $json = json_encode($v, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE | JSON_PARTIAL_OUTPUT_ON_ERROR);
            return is_string($json) && strlen($json) <= $max ? $v : Dxt_IntakeWriter::clip((string) $json, $max);
        }
        if (!is_scalar($v)) {
            return null;
        }
        $s = (string) $v;
        if ($s !== '' && ($s[0] === '[' || $s[0] === '{') && strlen($s) <= $max) {
            $d = json_decode($s, true);
            if (is_array($d)) {
                return $d;
            }
        }
        return Dxt_IntakeWriter::clip($s, $max);
    }

    /**
     * How many ids a selected_ids / excluded_ids parameter names: an int for
     * a JSON list (or a comma list), 'all' for Vtiger's "all records", null
     * when empty.
     *
     * @param mixed $v
     * @return int|string|null
     */
    public static function idCount($v)
    {
        if ($v === null || $v === '' || $v === array()) {
            return null;
        }
        if (is_array($v)) {
            return count($v);
        }
        if (!is_scalar($v)) {
            return null;
        }
        $s = trim((string) $v);
        if ($s === 'all' || $s === '"all"') {
            return 'all';
        }
        if ($s !== '' && $s[0] === '[') {
            $d = json_decode($s, true);
            return is_array($d) ? count($d) : null;
        }
        $parts = preg_split('/[,;]/', $s, -1, PREG_SPLIT_NO_EMPTY);
        return is_array($parts) ? count($parts) : null;
    }

    /**
     * The value of the last response header $name (case-insensitive) among
     * "Name: value" lines, or null.
     *
     * @param string[] $headers
     */
    public static function header(array $headers, string $name): ?string
    {
        $found = null;
        $prefix = strtolower($name) . ':';
        $len = strlen($prefix);
        foreach ($headers as $h) {
            if (strtolower(substr($h, 0, $len)) === $prefix) {
                $found = trim(substr($h, $len));
            }
        }
        return $found;
    }

    /**
     * The file name in a Content-Disposition value: filename*= (RFC 5987)
     * first, else filename= quoted or bare. Null when there is none.
     */
    public static function dispositionFileName(?string $cd): ?string
    {
        if ($cd === null || $cd === '') {
            return null;
        }
        if (preg_match('/filename\*\s*=\s*([^;]+)/i', $cd, $m)) {
            $v = trim($m[1]);
            $parts = explode("'", $v, 3);
            if (count($parts) === 3) {
                $name = rawurldecode($parts[2]);
                if (strtolower($parts[0]) !== 'utf-8' && function_exists('mb_convert_encoding')) {
                    $conv = @mb_convert_encoding($name, 'UTF-8', $parts[0]);
                    if (is_string($conv)) {
                        $name = $conv;
                    }
                }
                if ($name !== '') {
                    return $name;
                }
            }
        }
        if (preg_match('/filename\s*=\s*"((?:[^"\\\\]|\\\\.)*)"/i', $cd, $m)) {
            $v = (string) preg_replace('/\\\\(.)/', '$1', $m[1]);
            return $v === '' ? null : $v;
        }
        if (preg_match('/filename\s*=\s*([^;]*)/i', $cd, $m)) {
            $v = trim($m[1]);
            return $v === '' ? null : $v;
        }
        return null;
    }
}

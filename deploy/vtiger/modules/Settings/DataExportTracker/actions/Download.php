<?php
/**
 * GET index.php?module=DataExportTracker&parent=Settings&action=Download&event=<id>
 *
 * Streams the file or copied text captured with one tracking-log event,
 * byte for byte as the user received it, under its original name
 * (Content-Disposition). Administrators only (the Settings permission
 * check, again below). Every download is recorded in dxt_access_log BEFORE
 * the first byte (principal = the Vtiger user name, auth_method 'vtiger');
 * a download that cannot be recorded does not happen, and one that breaks
 * off or fails the SHA-256 check at the end has its row's status set to 500.
 *
 * Memory stays at about one 1 MiB chunk whatever the size: Dxt_ContentStream
 * reads the chunks one at a time and inflates them as they go, and the
 * output buffers Vtiger opened (csrf-magic) are closed first.
 */
require_once dirname(__DIR__, 3) . '/DataExportTracker/lib/Db.php';
require_once dirname(__DIR__, 3) . '/DataExportTracker/lib/Config.php';
require_once dirname(__DIR__, 3) . '/DataExportTracker/lib/ClientIp.php';
require_once dirname(__DIR__, 3) . '/DataExportTracker/lib/Log.php';
require_once dirname(__DIR__, 3) . '/DataExportTracker/lib/EventRepository.php';

class Settings_DataExportTracker_Download_Action extends Settings_Vtiger_Basic_Action
{
    public function checkPermission(Vtiger_Request $request)
    {
        parent::checkPermission($request);
        $user = Users_Record_Model::getCurrentUserModel();
        // An administrator made Inactive keeps a session Vtiger still honours.
        if (!$user || !$user->isAdminUser() || (string) $user->get('status') !== 'Active') {
            throw new AppException(vtranslate('LBL_PERMISSION_DENIED', 'Vtiger'));
        }
        return true;
    }

    /** A GET link from the log: Vtiger's referer check; it changes nothing but the access log. */
    public function validateRequest(Vtiger_Request $request)
    {
        return $request->validateReadAccess();
    }

    public function process(Vtiger_Request $request)
    {
        $raw = (string) $request->get('event');
        $eventId = ctype_digit($raw) ? (int) $raw : 0;
        $user = Users_Record_Model::getCurrentUserModel();
        global $dbconfig;
        $db = is_array($dbconfig) ? Dxt_Db::connect($dbconfig) : null;
        if (!$db) {
            self::fail(503, vtranslate('LBL_DB_UNAVAILABLE', $request->getModule(false)));
            return;
        }
        try {
            $config = Dxt_Config::load($db);
            $principal = $user ? (string) $user->get('user_name') : '';
            self::download($db, $eventId, array(
                'principal' => $principal !== '' ? $principal : 'user#' . ($user ? $user->getId() : '?'),
                'remote_ip' => Dxt_ClientIp::from($_SERVER, $config->trustedProxies()),
                'path' => isset($_SERVER['REQUEST_URI']) ? (string) $_SERVER['REQUEST_URI'] : '',
            ));
        } catch (Throwable $e) {
            Dxt_Log::error('download of event ' . $eventId . ': ' . Dxt_Log::describe($e));
            if (!headers_sent()) {
                self::fail(500, vtranslate('LBL_DOWNLOAD_FAILED', $request->getModule(false)));
            }
        }
        $db->close();
    }

    /**
     * Logs and streams event $eventId's content; $who has principal,
     * remote_ip and path. Framework-free apart from the headers it sends,
     * so tests can run it. Returns the HTTP status it answered with.
     */
    public static function download(mysqli $db, int $eventId, array $who, ?callable $write = null): int
    {
        $repo = new Dxt_EventRepository($db);
        $entry = $who + array('auth_method' => 'vtiger', 'action' => 'content_download', 'event_id' => $eventId ?: null);
        $content = $eventId > 0 ? $repo->openContent($eventId) : null;
        if ($content === null) {
            $entry['status'] = 404;
            $repo->logAccess($entry);
            if ($write === null) {
                self::fail(404, 'This event has no captured content.');
            }
            return 404;
        }
        $entry['status'] = 200;
        $logId = $repo->logAccess($entry); // throws if it cannot be written: no download then

        if ($write === null) {
            while (ob_get_level() > 0 && @ob_end_clean()) {
                // Vtiger's csrf-magic buffer would hold the whole file in memory
            }
        }
        if (!headers_sent()) {
            header('Content-Type: ' . $content->contentType());
            header('Content-Disposition: ' . Dxt_ContentStream::contentDisposition($content->downloadName()));
            header('Content-Length: ' . $content->size);
            header('X-Content-SHA256: ' . $content->sha256);
            if ($content->truncated) {
                header('X-Content-Truncated: true');
            }
            header('Cache-Control: no-store, private');
            header('X-Content-Type-Options: nosniff');
            header("Content-Security-Policy: default-src 'none'; sandbox");
        }
        if (function_exists('set_time_limit')) {
            @set_time_limit(0);
        }
        $ok = $content->send($write);
        if (!$ok) {
            Dxt_Log::error(sprintf('download of event %d: %s', $eventId, $content->error));
            $repo->setAccessStatus($logId, 500);
            return 500;
        }
        return 200;
    }

    private static function fail(int $status, string $message): void
    {
        if (headers_sent()) {
            return;
        }
        while (ob_get_level() > 0 && @ob_end_clean()) {
            // drop buffered output
        }
        http_response_code($status);
        header('Content-Type: text/plain; charset=utf-8');
        header('Cache-Control: no-store');
        echo $message, "\n";
    }
}

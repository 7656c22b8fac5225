<?php
/**
 * index.php?module=DataExportTracker&action=Relay (POST)
 *
 * Accepts tracker.js's copy beacon (CONTRACTS §6) where no reverse proxy
 * can put the daemon's beacon endpoint on Vtiger's origin (beacon_url =
 * 'relay' on the Settings page), and writes it as an intake row for the
 * daemon (Dxt_RelayWriter: a `copy` row with the text, or a `contextmenu`
 * hint). Answers 204 when accepted (also with copy tracking off, which
 * writes nothing), 400 for a malformed beacon, 401 without a logged-in
 * user, 413 over 128 KiB, 403 for a cross-site JSON post.
 *
 * Two request forms are accepted:
 * - a form post (what tracker.js sends): beacon=<JSON> and Vtiger's CSRF
 *   token __vtrftk, which Vtiger's csrf-magic demands of every POST to
 *   index.php before any action runs; checked again here with
 *   validateWriteAccess (POST, referer, CSRF);
 * - a JSON body, for front controllers without csrf-magic: accepted only
 *   from the same origin (Origin, else Referer, must name this host).
 *
 * The user is the one of the Vtiger session, never a field of the beacon.
 */
require_once dirname(__DIR__) . '/lib/Db.php';
require_once dirname(__DIR__) . '/lib/Config.php';
require_once dirname(__DIR__) . '/lib/Log.php';
require_once dirname(__DIR__) . '/lib/RelayWriter.php';

class DataExportTracker_Relay_Action extends Vtiger_Action_Controller
{
    /** As BeaconToken: no login redirect for a background post; 401 without a user. */
    public function loginRequired()
    {
        return false;
    }

    public function requiresPermission(Vtiger_Request $request)
    {
        return array();
    }

    public function checkPermission(Vtiger_Request $request)
    {
        return true;
    }

    public function validateRequest(Vtiger_Request $request)
    {
        if (isset($_POST['beacon'])) {
            return $request->validateWriteAccess();
        }
        if (!isset($_SERVER['REQUEST_METHOD']) || $_SERVER['REQUEST_METHOD'] !== 'POST') {
            throw new Exception('Invalid request');
        }
        if (!self::sameOrigin($_SERVER)) {
            self::answer(403, 'cross-site beacon refused');
            exit;
        }
        return true;
    }

    /**
     * Whether the request comes from a page of this host: the Origin header
     * or, without one, the Referer must have this Host. Public for tests.
     */
    public static function sameOrigin(array $server): bool
    {
        $host = isset($server['HTTP_HOST']) ? strtolower((string) $server['HTTP_HOST']) : '';
        $from = '';
        if (isset($server['HTTP_ORIGIN']) && $server['HTTP_ORIGIN'] !== '') {
            $from = (string) $server['HTTP_ORIGIN'];
        } elseif (isset($server['HTTP_REFERER'])) {
            $from = (string) $server['HTTP_REFERER'];
        }
        if ($host === '' || $from === '' || $from === 'null') {
            return false;
        }
        $p = parse_url($from);
        if (!is_array($p) || !isset($p['host'])) {
            return false;
        }
        $origin = strtolower($p['host']) . (isset($p['port']) ? ':' . $p['port'] : '');
        $https = !empty($server['HTTPS']) && strtolower((string) $server['HTTPS']) !== 'off';
        $defaultPort = $https ? ':443' : ':80';
        return $origin === $host || $origin === $host . $defaultPort || $origin . $defaultPort === $host;
    }

    public function process(Vtiger_Request $request)
    {
        $user = Users_Record_Model::getCurrentUserModel();
        $userId = $user ? (int) $user->getId() : 0;
        global $dbconfig;
        $db = null;
        try {
            if ($userId < 1) {
                throw new Dxt_RelayException(401, 'not logged in');
            }
            $body = self::readBody($request);
            $beacon = Dxt_RelayWriter::parseBody($body);
            $db = is_array($dbconfig) ? Dxt_Db::connect($dbconfig) : null;
            if (!$db) {
                throw new RuntimeException('database unavailable');
            }
            Dxt_RelayWriter::write($db, $userId, $beacon, $_SERVER, Dxt_Config::load($db));
            self::answer(204, null);
        } catch (Dxt_RelayException $e) {
            self::answer($e->getCode(), $e->getMessage());
        } catch (Throwable $e) {
            Dxt_Log::error('relay: ' . Dxt_Log::describe($e));
            self::answer(500, 'beacon not stored');
        }
        if ($db) {
            $db->close();
        }
        return false;
    }

    /** The beacon JSON: the form field, else the raw body (at most 128 KiB + 1 read). */
    private static function readBody(Vtiger_Request $request): string
    {
        $length = isset($_SERVER['CONTENT_LENGTH']) ? (int) $_SERVER['CONTENT_LENGTH'] : 0;
        if (isset($_POST['beacon'])) {
            // Raw, not $request->get(): Vtiger's getter runs HTML purifier over
            // values and would change the copied text.
            $raw = $_POST['beacon'];
            if (!is_string($raw)) {
                throw new Dxt_RelayException(400, 'beacon is not a string');
            }
            return $raw;
        }
        if ($length > Dxt_RelayWriter::MAX_BODY) {
            throw new Dxt_RelayException(413, 'beacon larger than 128 KiB');
        }
        $in = fopen('php://input', 'rb');
        $body = $in ? stream_get_contents($in, Dxt_RelayWriter::MAX_BODY + 1) : '';
        if ($in) {
            fclose($in);
        }
        return (string) $body;
    }

    private static function answer(int $status, ?string $error): void
    {
        while (ob_get_level() > 0 && @ob_end_clean()) {
            // drop csrf-magic's buffer: the answer is a status (and JSON)
        }
        http_response_code($status);
        header('Cache-Control: no-store');
        if ($error !== null) {
            header('Content-Type: application/json; charset=utf-8');
            echo json_encode(array('error' => $error));
        }
    }
}

<?php
/**
 * index.php?module=DataExportTracker&action=BeaconToken
 *
 * Gives the logged-in user's tracker.js what it needs to send copy beacons
 * (CONTRACTS §6), as plain JSON:
 *
 *     {"enabled": true, "token": "v1.<user>.<expiry>.<hmac>", "expires": 1733343200,
 *      "beacon_url": "/dxtracker/api/v1/beacons", "relay": false, "max_chars": 65536}
 *
 * The token names the user of the Vtiger session, never one from the
 * request, so nobody can get a token for somebody else. Any logged-in user
 * may ask: every user's copies are tracked. When copy tracking is off (or
 * the tracker tables cannot be read) the answer has enabled false and no
 * token, and tracker.js adds no listeners.
 */
require_once dirname(__DIR__) . '/lib/Db.php';
require_once dirname(__DIR__) . '/lib/Config.php';
require_once dirname(__DIR__) . '/lib/Log.php';
require_once dirname(__DIR__) . '/lib/Token.php';

class DataExportTracker_BeaconToken_Action extends Vtiger_Action_Controller
{
    /**
     * No Vtiger login redirect: when a session has expired, tracker.js's
     * background request must not become the page Vtiger sends the user to
     * after the next login (checkLogin stores the request as return_params).
     * process() answers 401 without a user instead.
     */
    public function loginRequired()
    {
        return false;
    }

    /** Logged in is enough: no module permission is needed to be tracked. */
    public function requiresPermission(Vtiger_Request $request)
    {
        return array();
    }

    public function checkPermission(Vtiger_Request $request)
    {
        return true;
    }

    /** A GET that changes nothing: Vtiger's referer check, no CSRF token. */
    public function validateRequest(Vtiger_Request $request)
    {
        return $request->validateReadAccess();
    }

    public function process(Vtiger_Request $request)
    {
        $user = Users_Record_Model::getCurrentUserModel();
        $userId = $user ? (int) $user->getId() : 0;
        $relayUrl = 'index.php?module=DataExportTracker&action=Relay';
        $now = time();
        $answer = null;
        global $dbconfig;
        $db = $userId > 0 && is_array($dbconfig) ? Dxt_Db::connect($dbconfig) : null;
        try {
            $config = $db ? Dxt_Config::load($db) : Dxt_Config::unavailable();
            $answer = Dxt_Token::clientConfig($config, $userId, $now, $relayUrl);
        } catch (Throwable $e) {
            Dxt_Log::error('BeaconToken: ' . Dxt_Log::describe($e));
            $answer = Dxt_Token::clientConfig(Dxt_Config::unavailable(), 0, $now, $relayUrl);
        }
        if ($db) {
            $db->close();
        }
        while (ob_get_level() > 0 && @ob_end_clean()) {
            // Vtiger's csrf-magic buffers output; this answer is JSON only.
        }
        if ($userId < 1) {
            http_response_code(401);
        }
        header('Content-Type: application/json; charset=utf-8');
        header('Cache-Control: no-store, private');
        header('X-Content-Type-Options: nosniff');
        echo json_encode($answer, JSON_UNESCAPED_SLASHES);
        return false;
    }
}

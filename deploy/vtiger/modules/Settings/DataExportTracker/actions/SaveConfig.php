<?php
/**
 * POST index.php?module=DataExportTracker&parent=Settings&action=SaveConfig
 *
 * Saves the Configuration tab: validates every value the way the daemon
 * does (Dxt_Settings mirrors tracker/settings.go) and writes them to
 * dxt_config in one transaction; nothing is written if any value is wrong.
 * The daemon sees the UPDATE in the binlog and applies it at once.
 *
 * Administrators only (Settings_Vtiger_Index_View::checkPermission, via
 * Settings_Vtiger_Basic_Action), POST with Vtiger's CSRF token
 * (validateWriteAccess: method, referer, __vtrftk).
 *
 * A form post is answered with a redirect: to the page with saved=1, or
 * back to the edit form with the errors and the values typed (kept in the
 * session for that one page view). An AJAX post (X-Requested-With) gets
 * JSON shaped like Vtiger's responses: {"success": true, "result":
 * {"saved": {...}}} or {"success": false, "error": {"message", "fields"}}.
 */
require_once dirname(__DIR__, 3) . '/DataExportTracker/lib/Db.php';
require_once dirname(__DIR__, 3) . '/DataExportTracker/lib/Log.php';
require_once dirname(__DIR__, 3) . '/DataExportTracker/lib/Settings.php';

class Settings_DataExportTracker_SaveConfig_Action extends Settings_Vtiger_Basic_Action
{
    /** Switches: an unticked checkbox sends nothing, which means off. */
    const SWITCHES = array('track_listview_export', 'track_report_export', 'track_scheduled_reports', 'track_copy');

    /** Every field of the form. */
    const FIELDS = array('track_listview_export', 'track_report_export', 'track_scheduled_reports', 'track_copy',
        'notify_admin_email', 'notify_min_records', 'retention_days', 'company_domains', 'beacon_url');

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

    public function validateRequest(Vtiger_Request $request)
    {
        return $request->validateWriteAccess();
    }

    public function process(Vtiger_Request $request)
    {
        $values = self::formValues($_POST);
        $qualified = $request->getModule(false);
        $errors = array();
        $saved = array();
        global $dbconfig;
        $db = is_array($dbconfig) ? Dxt_Db::connect($dbconfig) : null;
        if (!$db) {
            $errors['_'] = vtranslate('LBL_DB_UNAVAILABLE', $qualified);
        } else {
            try {
                $saved = Dxt_Settings::save($db, $values);
            } catch (Dxt_SettingsValidationException $e) {
                $errors = $e->getErrors();
            } catch (Throwable $e) {
                Dxt_Log::error('save settings: ' . Dxt_Log::describe($e));
                $errors['_'] = vtranslate('LBL_SAVE_FAILED', $qualified);
            }
            $db->close();
        }

        if ($request->isAjax() || (isset($_SERVER['HTTP_X_REQUESTED_WITH']) && $_SERVER['HTTP_X_REQUESTED_WITH'] === 'XMLHttpRequest')) {
            while (ob_get_level() > 0 && @ob_end_clean()) {
                // csrf-magic's buffer: this answer is JSON only
            }
            if (!headers_sent()) {
                header('Content-Type: application/json; charset=utf-8');
                header('Cache-Control: no-store');
            }
            echo json_encode($errors
                ? array('success' => false, 'error' => array('message' => implode('; ', $errors), 'fields' => $errors))
                : array('success' => true, 'result' => array('saved' => $saved)), JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
            return;
        }
        $base = 'index.php?module=DataExportTracker&parent=Settings&view=Index&tab=config';
        if ($errors) {
            $_SESSION['dxt_settings_form'] = array('values' => $values, 'errors' => $errors);
        }
        if (!headers_sent()) {
            header('Location: ' . $base . ($errors ? '&edit=1' : '&saved=1'), true, 303);
        }
    }

    /**
     * The settings from a posted form: the known fields only, raw (not
     * through Vtiger's HTML purifier, which would rewrite a value like
     * "a&b"). The whole Configuration form (marked by dxt_form=1) counts an
     * absent switch as off; a partial post leaves what it does not name.
     * Public for tests.
     */
    public static function formValues(array $post): array
    {
        $whole = isset($post['dxt_form']) && $post['dxt_form'] === '1';
        $out = array();
        foreach (self::FIELDS as $name) {
            if (array_key_exists($name, $post) && is_string($post[$name])) {
                $out[$name] = $post[$name];
            } elseif ($whole && in_array($name, self::SWITCHES, true) && !array_key_exists($name, $post)) {
                $out[$name] = '0';
            }
        }
        return $out;
    }
}

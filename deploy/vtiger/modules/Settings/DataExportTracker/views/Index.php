<?php
/**
 * CRM Settings > Data Export Tracker
 * (index.php?module=DataExportTracker&parent=Settings&view=Index).
 *
 * Three tabs:
 * - Configuration (tab=config, edit=1 to edit): the dxt_config switches and
 *   values, saved by Settings_DataExportTracker_SaveConfig_Action;
 * - Tracking Logs (tab=logs): dxt_event newest first, filtered by user,
 *   type, module and a day range in the administrator's time zone, paged by
 *   keyset (after/before cursors; no counting, no OFFSET);
 * - Scheduled Reports (tab=schedules): every schedule with its recipients,
 *   external ones highlighted, format, next run and recent deliveries.
 *
 * Administrators only: Settings_Vtiger_Index_View::checkPermission already
 * throws for anybody else (Vtiger then shows its permission-denied page);
 * checkPermission below says so again, so this page does not depend on a
 * parent class keeping that check.
 *
 * The work is done by the framework-independent classes in
 * modules/DataExportTracker/lib; this class only reads the request, the
 * user's preferences and hands the results to the templates.
 */
require_once dirname(__DIR__, 3) . '/DataExportTracker/lib/Db.php';
require_once dirname(__DIR__, 3) . '/DataExportTracker/lib/Config.php';
require_once dirname(__DIR__, 3) . '/DataExportTracker/lib/Log.php';
require_once dirname(__DIR__, 3) . '/DataExportTracker/lib/Settings.php';
require_once dirname(__DIR__, 3) . '/DataExportTracker/lib/EventRepository.php';

class Settings_DataExportTracker_Index_View extends Settings_Vtiger_Index_View
{
    const TABS = array('config', 'logs', 'schedules');

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

    public function process(Vtiger_Request $request)
    {
        $qualified = $request->getModule(false);
        $viewer = $this->getViewer($request);
        $tab = (string) $request->get('tab');
        if (!in_array($tab, self::TABS, true)) {
            $tab = 'config';
        }
        $user = Users_Record_Model::getCurrentUserModel();
        $base = 'index.php?module=DataExportTracker&parent=Settings&view=Index';

        $viewer->assign('QUALIFIED_MODULE', $qualified);
        $viewer->assign('TAB', $tab);
        $viewer->assign('TAB_URLS', array(
            'config' => $base . '&tab=config',
            'logs' => $base . '&tab=logs',
            'schedules' => $base . '&tab=schedules',
        ));
        $viewer->assign('DXT_ERROR', '');

        global $dbconfig;
        $db = is_array($dbconfig) ? Dxt_Db::connect($dbconfig) : null;
        if (!$db) {
            $viewer->assign('DXT_ERROR', vtranslate('LBL_DB_UNAVAILABLE', $qualified));
            $viewer->view('Index.tpl', $qualified);
            return;
        }
        try {
            if ($tab === 'config') {
                $this->configTab($request, $viewer, $db, $qualified);
            } elseif ($tab === 'logs') {
                $this->logsTab($request, $viewer, $db, $user, $base);
            } else {
                $this->schedulesTab($viewer, $db, $user);
            }
        } catch (Throwable $e) {
            Dxt_Log::error('settings page: ' . Dxt_Log::describe($e));
            $viewer->assign('DXT_ERROR', vtranslate('LBL_READ_FAILED', $qualified) . ' ' . $e->getMessage());
        }
        $db->close();
        $viewer->view('Index.tpl', $qualified);
    }

    private function configTab(Vtiger_Request $request, $viewer, mysqli $db, string $qualified): void
    {
        $values = Dxt_Settings::load($db);
        $errors = array();
        // A save that failed validation comes back here with what was typed.
        if (isset($_SESSION['dxt_settings_form']) && is_array($_SESSION['dxt_settings_form'])) {
            $form = $_SESSION['dxt_settings_form'];
            unset($_SESSION['dxt_settings_form']);
            $values = array_merge($values, isset($form['values']) ? (array) $form['values'] : array());
            $errors = isset($form['errors']) ? (array) $form['errors'] : array();
        }
        $edit = $request->get('edit') === '1' || $errors;
        $viewer->assign('EDIT_MODE', (bool) $edit);
        $viewer->assign('SETTINGS', $values);
        $viewer->assign('FIELD_ERRORS', $errors);
        $viewer->assign('SAVED', $request->get('saved') === '1');
        $viewer->assign('BOOL_FIELDS', array(
            'track_listview_export' => 'LBL_TRACK_LISTVIEW_EXPORT',
            'track_report_export' => 'LBL_TRACK_REPORT_EXPORT',
            'track_scheduled_reports' => 'LBL_TRACK_SCHEDULED_REPORTS',
            'track_copy' => 'LBL_TRACK_COPY',
            'notify_attach_content' => 'LBL_NOTIFY_ATTACH_CONTENT',
            'digest_enabled' => 'LBL_DIGEST_ENABLED',
            'anchor_enabled' => 'LBL_ANCHOR_ENABLED',
        ));
        $viewer->assign('TEXT_FIELDS', array(
            'notify_admin_email' => array('LBL_NOTIFY_ADMIN_EMAIL', 'LBL_NOTIFY_ADMIN_EMAIL_HINT', 'text'),
            'notify_min_records' => array('LBL_NOTIFY_MIN_RECORDS', 'LBL_NOTIFY_MIN_RECORDS_HINT', 'number'),
            'retention_days' => array('LBL_RETENTION_DAYS', 'LBL_RETENTION_DAYS_HINT', 'number'),
            'company_domains' => array('LBL_COMPANY_DOMAINS', 'LBL_COMPANY_DOMAINS_HINT', 'text'),
            'beacon_url' => array('LBL_BEACON_URL', 'LBL_BEACON_URL_HINT', 'text'),
            'notify_language' => array('LBL_NOTIFY_LANGUAGE', 'LBL_NOTIFY_LANGUAGE_HINT', 'text'),
            'notify_max_per_minute' => array('LBL_NOTIFY_MAX_PER_MINUTE', 'LBL_NOTIFY_MAX_PER_MINUTE_HINT', 'number'),
            'notify_webhook_url' => array('LBL_NOTIFY_WEBHOOK_URL', 'LBL_NOTIFY_WEBHOOK_URL_HINT', 'text'),
            'digest_schedule' => array('LBL_DIGEST_SCHEDULE', 'LBL_DIGEST_SCHEDULE_HINT', 'text'),
            'digest_timezone' => array('LBL_DIGEST_TIMEZONE', 'LBL_DIGEST_TIMEZONE_HINT', 'text'),
            'retention_schedule' => array('LBL_RETENTION_SCHEDULE', 'LBL_RETENTION_SCHEDULE_HINT', 'text'),
            'retention_timezone' => array('LBL_RETENTION_TIMEZONE', 'LBL_RETENTION_TIMEZONE_HINT', 'text'),
            'retention_batch' => array('LBL_RETENTION_BATCH', 'LBL_RETENTION_BATCH_HINT', 'number'),
            'content_max_mb' => array('LBL_CONTENT_MAX_MB', 'LBL_CONTENT_MAX_MB_HINT', 'number'),
        ));
        $viewer->assign('SAVE_URL', 'index.php?module=DataExportTracker&parent=Settings&action=SaveConfig');
        $viewer->assign('EDIT_URL', 'index.php?module=DataExportTracker&parent=Settings&view=Index&tab=config&edit=1');
        $viewer->assign('CANCEL_URL', 'index.php?module=DataExportTracker&parent=Settings&view=Index&tab=config');
    }

    private function logsTab(Vtiger_Request $request, $viewer, mysqli $db, $user, string $base): void
    {
        $prefs = self::userPrefs($user);
        $filter = array(
            'user' => (string) $request->get('dxt_user'),
            'type' => (string) $request->get('dxt_type'),
            'module' => (string) $request->get('dxt_module'),
            'from_day' => (string) $request->get('dxt_from'),
            'to_day' => (string) $request->get('dxt_to'),
        );
        $repo = new Dxt_EventRepository($db);
        $query = array('user' => $filter['user'], 'type' => $filter['type'], 'module' => $filter['module']);
        $problem = '';
        try {
            $range = Dxt_EventRepository::dayRangeToUtc($filter['from_day'], $filter['to_day'], $prefs['tz']);
            $query['from'] = $range['from'];
            $query['to'] = $range['to'];
        } catch (InvalidArgumentException $e) {
            $problem = $e->getMessage();
        }
        $after = (string) $request->get('after');
        $before = (string) $request->get('before');
        if ($after !== '') {
            $query['after'] = $after;
        } elseif ($before !== '') {
            $query['before'] = $before;
        }
        $query['limit'] = Dxt_EventRepository::DEFAULT_LIMIT;
        try {
            $page = $repo->listEvents($query);
        } catch (InvalidArgumentException $e) {
            // A stale or edited cursor: show the first page instead.
            $problem = $e->getMessage();
            unset($query['after'], $query['before']);
            $page = $repo->listEvents($query);
        }
        $rows = array();
        foreach ($page['events'] as $ev) {
            $rows[] = array(
                'id' => $ev['id'],
                'when' => Dxt_EventRepository::formatUserDateTime($ev['occurred_at'], $prefs['tz'], $prefs['date_format'], $prefs['hour_format']),
                'user' => (string) $ev['user_name'],
                'type' => $ev['type'],
                'module' => (string) $ev['module'],
                'record_count' => $ev['record_count'],
                'ip' => (string) $ev['ip'],
                'source' => $ev['source'],
                'has_content' => $ev['has_content'],
                'content_name' => (string) $ev['content_name'],
                'download_url' => $ev['has_content']
                    ? 'index.php?module=DataExportTracker&parent=Settings&action=Download&event=' . $ev['id'] : '',
                'report_name' => isset($ev['details']['report_name']) && is_string($ev['details']['report_name']) ? $ev['details']['report_name'] : '',
                'page' => self::pageOf($ev),
            );
        }
        $keep = array('tab' => 'logs', 'dxt_user' => $filter['user'], 'dxt_type' => $filter['type'],
            'dxt_module' => $filter['module'], 'dxt_from' => $filter['from_day'], 'dxt_to' => $filter['to_day']);
        $keep = array_filter($keep, 'strlen');
        $viewer->assign('EVENTS', $rows);
        $viewer->assign('FILTER', $filter);
        $viewer->assign('FILTER_PROBLEM', $problem);
        $viewer->assign('CHOICES', $repo->filterChoices());
        $viewer->assign('OLDER_URL', $page['older'] !== null ? $base . '&' . http_build_query($keep + array('after' => $page['older'])) : '');
        $viewer->assign('NEWER_URL', $page['newer'] !== null ? $base . '&' . http_build_query($keep + array('before' => $page['newer'])) : '');
        $viewer->assign('NEWEST_URL', $page['newer'] !== null ? $base . '&' . http_build_query($keep) : '');
        $viewer->assign('CLEAR_URL', $base . '&tab=logs');
        $viewer->assign('USER_TZ', $prefs['tz']);
    }

    private function schedulesTab($viewer, mysqli $db, $user): void
    {
        $prefs = self::userPrefs($user);
        $config = Dxt_Config::load($db);
        $repo = new Dxt_EventRepository($db);
        $domains = Dxt_Settings::splitList((string) $config->get('company_domains', ''));
        $schedules = $repo->scheduledReports($domains, 5);
        foreach ($schedules as &$s) {
            $s['schedule']['month_days_text'] = implode(', ', $s['schedule']['month_days']);
            $s['schedule']['annual_dates_text'] = implode(', ', $s['schedule']['annual_dates']);
            $s['next_run'] = $s['next_trigger_unix'] !== null
                ? Dxt_EventRepository::formatUserUnixTime($s['next_trigger_unix'], $prefs['tz'], $prefs['date_format'], $prefs['hour_format']) : '';
            foreach ($s['recent'] as &$ev) {
                $ev['when'] = Dxt_EventRepository::formatUserDateTime($ev['occurred_at'], $prefs['tz'], $prefs['date_format'], $prefs['hour_format']);
                $ev['download_url'] = $ev['has_content']
                    ? 'index.php?module=DataExportTracker&parent=Settings&action=Download&event=' . $ev['id'] : '';
            }
            unset($ev);
        }
        unset($s);
        $viewer->assign('SCHEDULES', $schedules);
        $viewer->assign('COMPANY_DOMAINS_TEXT', implode(', ', $repo->companyDomains($domains)));
        $viewer->assign('USER_TZ', $prefs['tz']);
    }

    /** Module/view/record of a copy event, for the log's "where" hint. */
    private static function pageOf(array $ev): string
    {
        $d = $ev['details'];
        $parts = array();
        foreach (array('view', 'record') as $k) {
            if (isset($d[$k]) && is_scalar($d[$k]) && (string) $d[$k] !== '') {
                $parts[] = (string) $d[$k];
            }
        }
        return implode(' ', $parts);
    }

    /** The administrator's time zone, date format and hour format. */
    public static function userPrefs($user): array
    {
        global $default_timezone;
        $tz = $user ? (string) $user->get('time_zone') : '';
        if ($tz === '') {
            $tz = !empty($default_timezone) ? (string) $default_timezone : date_default_timezone_get();
        }
        $dateFormat = $user ? (string) $user->get('date_format') : '';
        $hourFormat = $user ? (string) $user->get('hour_format') : '';
        return array(
            'tz' => $tz,
            'date_format' => $dateFormat !== '' ? $dateFormat : 'yyyy-mm-dd',
            'hour_format' => $hourFormat === '12' ? '12' : '24',
        );
    }

    public function getPageTitle(Vtiger_Request $request)
    {
        return vtranslate('LBL_DATA_EXPORT_TRACKER', $request->getModule(false));
    }

    public function getHeaderCss(Vtiger_Request $request)
    {
        $css = parent::getHeaderCss($request);
        $mine = $this->checkAndConvertCssStyles(array(
            '~layouts/' . Vtiger_Viewer::getDefaultLayoutName() . '/modules/Settings/DataExportTracker/resources/DataExportTracker.css',
        ));
        return array_merge($css, $mine);
    }
}

<?php
/**
 * The Vtiger side of the Settings page and actions, run against stand-ins
 * of the Vtiger classes they extend (SettingsVtigerStubs.php) and the real
 * test database: administrators only, CSRF checks requested, the form
 * saved, downloads streamed and logged, and the templates rendered by
 * Smarty 4 (when installed: Debian smarty4) in English and Japanese.
 */
require_once __DIR__ . '/SettingsVtigerStubs.php';
$dxtExt = dirname(__DIR__) . '/modules';
require_once $dxtExt . '/Settings/DataExportTracker/views/Index.php';
require_once $dxtExt . '/Settings/DataExportTracker/actions/SaveConfig.php';
require_once $dxtExt . '/Settings/DataExportTracker/actions/Download.php';
require_once $dxtExt . '/Settings/DataExportTracker/models/Module.php';
require_once $dxtExt . '/DataExportTracker/actions/BeaconToken.php';
require_once $dxtExt . '/DataExportTracker/actions/Relay.php';
require_once __DIR__ . '/RepositoryTest.php';

function dxt_page_request(array $v): Vtiger_Request
{
    return new Vtiger_Request($v + array('module' => 'DataExportTracker', 'parent' => 'Settings'));
}

function testSettingsPageAndActionsAreForAdministratorsOnly()
{
    $handlers = array(
        new Settings_DataExportTracker_Index_View(),
        new Settings_DataExportTracker_SaveConfig_Action(),
        new Settings_DataExportTracker_Download_Action(),
    );
    dxt_stub_login('jsmith');
    foreach ($handlers as $h) {
        try {
            $h->checkPermission(dxt_page_request(array()));
            Dxt_Assert::fail(get_class($h) . ' let a non-admin in');
        } catch (AppException $e) {
            Dxt_Assert::contains('LBL_PERMISSION_DENIED', $e->getMessage(), get_class($h));
        }
    }
    dxt_stub_login('admin');
    foreach ($handlers as $h) {
        Dxt_Assert::true($h->checkPermission(dxt_page_request(array())), get_class($h) . ' for an admin');
    }
    // Every logged-in user gets a beacon token and may relay.
    dxt_stub_login('jsmith');
    Dxt_Assert::true((new DataExportTracker_BeaconToken_Action())->checkPermission(dxt_page_request(array())), 'token for any user');
    Dxt_Assert::true((new DataExportTracker_Relay_Action())->checkPermission(dxt_page_request(array())), 'relay for any user');
    // No login redirect from the background requests (an expired session
    // must not send the user to the token URL after the next login).
    Dxt_Assert::false((new DataExportTracker_BeaconToken_Action())->loginRequired(), 'token: answers 401 itself');
    Dxt_Assert::false((new DataExportTracker_Relay_Action())->loginRequired(), 'relay: answers 401 itself');
}

function testSettingsActionsAskVtigerForTheRightRequestChecks()
{
    $cases = array(
        array(new Settings_DataExportTracker_SaveConfig_Action(), 'validateWriteAccess'),  // POST + referer + CSRF
        array(new Settings_DataExportTracker_Download_Action(), 'validateReadAccess'),     // a GET link
        array(new DataExportTracker_BeaconToken_Action(), 'validateReadAccess'),
    );
    foreach ($cases as $c) {
        Dxt_StubLog::$calls = array();
        $c[0]->validateRequest(dxt_page_request(array()));
        Dxt_Assert::same(array($c[1]), Dxt_StubLog::$calls, get_class($c[0]));
    }
    $_POST = array('beacon' => '{}');
    Dxt_StubLog::$calls = array();
    (new DataExportTracker_Relay_Action())->validateRequest(dxt_page_request(array()));
    Dxt_Assert::same(array('validateWriteAccess'), Dxt_StubLog::$calls, 'relay form post: Vtiger CSRF check');
    $_POST = array();
}

function testSettingsSaveConfigSavesTheWholeFormAndBouncesErrorsBack()
{
    Dxt_TestDb::reset();
    dxt_stub_login('admin');
    $_SESSION = array();
    // Track Copy unticked: only its hidden 0 arrives.
    $_POST = array('dxt_form' => '1', 'track_listview_export' => '1', 'track_report_export' => '1', 'track_scheduled_reports' => '0',
        'track_copy' => '0', 'notify_admin_email' => 'sec@example.com, ciso@example.com', 'notify_min_records' => '10',
        'retention_days' => '30', 'company_domains' => 'example.com', 'beacon_url' => '');
    (new Settings_DataExportTracker_SaveConfig_Action())->process(dxt_page_request(array('action' => 'SaveConfig')));
    $db = Dxt_Db::connect(Dxt_TestDb::dbconfig());
    $v = Dxt_Settings::load($db);
    Dxt_Assert::same(array('0', '0', 'sec@example.com,ciso@example.com', '10', '30'),
        array($v['track_copy'], $v['track_scheduled_reports'], $v['notify_admin_email'], $v['notify_min_records'], $v['retention_days']), 'saved');
    Dxt_Assert::false(isset($_SESSION['dxt_settings_form']), 'no errors kept');

    $_POST = array('dxt_form' => '1', 'track_copy' => '1', 'notify_admin_email' => 'not an address', 'retention_days' => '0');
    (new Settings_DataExportTracker_SaveConfig_Action())->process(dxt_page_request(array('action' => 'SaveConfig')));
    Dxt_Assert::same(array('notify_admin_email', 'retention_days'), array_keys($_SESSION['dxt_settings_form']['errors']), 'errors for the form');
    Dxt_Assert::same('not an address', $_SESSION['dxt_settings_form']['values']['notify_admin_email'], 'typed value kept');
    $after = Dxt_Settings::load($db);
    Dxt_Assert::same($v, $after, 'nothing written');

    Dxt_Assert::same(array('track_copy' => '1'), Settings_DataExportTracker_SaveConfig_Action::formValues(array('track_copy' => '1', 'x' => 'y')),
        'a partial post changes only what it names');
    Dxt_Assert::same('0', Settings_DataExportTracker_SaveConfig_Action::formValues(array('dxt_form' => '1'))['track_copy'],
        'the whole form without a ticked box: off');
    $_POST = array();
    $_SESSION = array();
    $db->close();
    Dxt_TestDb::reset();
}

function testSettingsDownloadStreamsTheFileAndRecordsWhoTookIt()
{
    dxt_repo_clean();
    $bytes = "\xEF\xBB\xBFFirst Name,Last Name\r\n\"Ada\",\"Lovelace\"\r\n";
    $eid = dxt_repo_event(array('content_id' => dxt_repo_content($bytes, 'Lab Contacts Export Report.csv', 'text/csv')));
    $db = Dxt_Db::connect(Dxt_TestDb::dbconfig());
    $who = array('principal' => 'admin', 'remote_ip' => '192.0.2.1', 'path' => '/index.php?module=DataExportTracker&parent=Settings&action=Download&event=' . $eid);
    $got = '';
    $logRowsAtFirstByte = null;
    $status = Settings_DataExportTracker_Download_Action::download($db, $eid, $who, function ($piece) use (&$got, &$logRowsAtFirstByte) {
        if ($logRowsAtFirstByte === null) {
            $logRowsAtFirstByte = (int) Dxt_TestDb::db()->query('SELECT COUNT(*) FROM dxt_access_log')->fetch_row()[0];
        }
        $got .= $piece;
    });
    Dxt_Assert::same(200, $status, 'status');
    Dxt_Assert::sameBytes($bytes, $got, 'original bytes, BOM included');
    Dxt_Assert::same(1, $logRowsAtFirstByte, 'logged before the first byte');
    $row = Dxt_TestDb::db()->query('SELECT * FROM dxt_access_log')->fetch_assoc();
    Dxt_Assert::same(array('admin', 'vtiger', 'content_download', (string) $eid, '200'),
        array($row['principal'], $row['auth_method'], $row['action'], $row['event_id'], $row['status']), 'access log');

    $none = dxt_repo_event(array());
    Dxt_Assert::same(404, Settings_DataExportTracker_Download_Action::download($db, $none, $who, function ($p) {
        Dxt_Assert::fail('nothing may be sent');
    }), 'no content');
    Dxt_Assert::same('404', Dxt_TestDb::db()->query("SELECT status FROM dxt_access_log WHERE event_id = $none")->fetch_row()[0], 'refused download logged');
    $db->close();
    dxt_repo_clean();
}

function testSettingsRelayAcceptsJsonOnlyFromItsOwnOrigin()
{
    $ok = array(
        array('HTTP_HOST' => 'crm.example.com', 'HTTP_ORIGIN' => 'https://crm.example.com'),
        array('HTTP_HOST' => 'crm.example.com:8443', 'HTTP_ORIGIN' => 'https://crm.example.com:8443'),
        array('HTTP_HOST' => 'crm.example.com', 'HTTP_REFERER' => 'https://crm.example.com/index.php?module=Contacts&view=List'),
        array('HTTP_HOST' => 'crm.example.com', 'HTTPS' => 'on', 'HTTP_ORIGIN' => 'https://crm.example.com:443'),
    );
    foreach ($ok as $s) {
        Dxt_Assert::true(DataExportTracker_Relay_Action::sameOrigin($s), json_encode($s));
    }
    $bad = array(
        array('HTTP_HOST' => 'crm.example.com', 'HTTP_ORIGIN' => 'https://evil.example'),
        array('HTTP_HOST' => 'crm.example.com', 'HTTP_ORIGIN' => 'null'),
        array('HTTP_HOST' => 'crm.example.com', 'HTTP_REFERER' => 'https://crm.example.com.evil.example/'),
        array('HTTP_HOST' => 'crm.example.com'),
        array('HTTP_ORIGIN' => 'https://crm.example.com'),
    );
    foreach ($bad as $s) {
        Dxt_Assert::false(DataExportTracker_Relay_Action::sameOrigin($s), json_encode($s));
    }
}

/** Renders the page for one tab as the admin and returns the HTML ('' without Smarty). */
function dxt_page_render(string $tab, array $extra = array(), string $lang = 'en_us', array $prefs = array()): string
{
    $viewer = dxt_stub_smarty();
    if ($viewer === null) {
        return '';
    }
    Dxt_StubLang::$language = $lang;
    Settings_Vtiger_Index_View::$viewer = $viewer;
    dxt_stub_login('admin', $prefs);
    $level = error_reporting(E_ALL); // templates must render without a notice
    try {
        (new Settings_DataExportTracker_Index_View())->process(dxt_page_request(array('view' => 'Index', 'tab' => $tab) + $extra));
    } finally {
        error_reporting($level);
        Dxt_StubLang::$language = 'en_us';
    }
    return $viewer->rendered;
}

function testSettingsPageRendersEveryTabWithItsData()
{
    if (dxt_stub_smarty() === null) {
        fwrite(STDERR, "    skipped: Smarty is not installed (apt-get install smarty4)\n");
        return;
    }
    Dxt_TestDb::reset();
    dxt_repo_clean();
    $cid = dxt_repo_content("a,b\n", 'Contacts.csv', 'text/csv');
    $eid = dxt_repo_event(array('occurred_at' => '2026-12-03 15:30:00', 'user_name' => '<b>mallory</b>', 'content_id' => $cid, 'record_count' => 1234));
    dxt_repo_event(array('occurred_at' => '2026-12-03 16:00:00', 'type' => 'copy', 'user_name' => 'jsmith', 'record_count' => null,
        'details' => '{"view":"Detail","record":"42"}'));

    $html = dxt_page_render('config');
    foreach (array('Track Listview Export', 'Track Report Export', 'Track Scheduled Reports', 'Track Copy (Ctrl+C / Right Click)',
        'not 100% reliable', 'Notify Admin Email', 'Empty (log only, no e-mail)', 'Minimum records to notify', 'Retention days', 'tab=config&edit=1') as $s) {
        Dxt_Assert::contains($s, $html, 'config tab');
    }
    $form = dxt_page_render('config', array('edit' => '1'));
    Dxt_Assert::contains('action="index.php?module=DataExportTracker&parent=Settings&action=SaveConfig"', $form, 'form posts to SaveConfig');
    Dxt_Assert::contains('method="post"', $form, 'POST form (csrf-magic adds __vtrftk to it)');
    Dxt_Assert::contains('<input type="hidden" name="track_copy" value="0" /><input type="checkbox" id="dxt_track_copy" name="track_copy" value="1" checked="checked" />', $form, 'switch');
    Dxt_Assert::contains('name="retention_days" data-rule="retention_days" type="number" min="1" max="36500" value="365"', $form, 'number field');

    $logs = dxt_page_render('logs', array(), 'en_us', array('time_zone' => 'Asia/Tokyo', 'date_format' => 'dd-mm-yyyy', 'hour_format' => '12'));
    Dxt_Assert::contains('04-12-2026 12:30:00 AM', $logs, 'time in the admin\'s zone and format');
    Dxt_Assert::contains('&lt;b&gt;mallory&lt;/b&gt;', $logs, 'user name escaped');
    Dxt_Assert::notContains('<b>mallory</b>', $logs, 'no markup from the data');
    Dxt_Assert::contains('action=Download&event=' . $eid, $logs, 'download link');
    Dxt_Assert::contains('1234', $logs, 'record count');
    Dxt_Assert::contains('List View Export', $logs, 'type label');
    Dxt_Assert::contains('Detail 42', $logs, 'copy page hint');
    Dxt_Assert::contains('Asia/Tokyo', $logs, 'zone named');
    $filtered = dxt_page_render('logs', array('dxt_user' => 'jsmith'));
    Dxt_Assert::notContains('action=Download&event=' . $eid, $filtered, 'filtered by user');
    Dxt_Assert::contains('<option value="jsmith" selected="selected">jsmith</option>', $filtered, 'filter kept');

    $sched = dxt_page_render('schedules');
    foreach (array('Lab Contacts Export Report', 'Daily', 'at 19:24', 'CSV', 'reports@example.com', 'jsmith@example.com', 'example.com') as $s) {
        Dxt_Assert::contains($s, $sched, 'schedules tab');
    }
    Dxt_Assert::notContains('label-danger', $sched, 'no external recipient in the seed');

    $ja = dxt_page_render('config', array(), 'ja_jp');
    Dxt_Assert::contains('コピーを追跡（Ctrl+C / 右クリック）', $ja, 'Japanese labels');
    Dxt_Assert::contains('追跡ログ', $ja, 'Japanese tabs');
    dxt_repo_clean();
}

function testSettingsLanguageFilesHaveEveryLabelInEnglishAndJapanese()
{
    $root = dirname(__DIR__);
    $used = array();
    $sources = array_merge(glob($root . '/layouts/v7/modules/Settings/DataExportTracker/*.tpl'),
        glob($root . '/modules/Settings/DataExportTracker/*/*.php'));
    foreach ($sources as $f) {
        preg_match_all('/\b(LBL_[A-Z0-9_]+)\b/', file_get_contents($f), $m);
        $used = array_merge($used, $m[1]);
    }
    // Labels built from data in the templates.
    foreach (array('listview_export', 'report_export', 'scheduled_report', 'copy') as $t) {
        $used[] = 'LBL_TYPE_' . $t;
    }
    foreach (range(0, 5) as $i) {
        $used[] = 'LBL_SCHEDULE_' . $i;
    }
    foreach (range(1, 7) as $i) {
        $used[] = 'LBL_WEEKDAY_' . $i;
    }
    $used = array_diff(array_unique($used), array('LBL_PERMISSION_DENIED', 'LBL_TYPE_', 'LBL_SCHEDULE_', 'LBL_WEEKDAY_'));
    $en = $ja = array();
    foreach (array('en' => 'en_us', 'ja' => 'ja_jp') as $k => $lang) {
        $languageStrings = array();
        include $root . '/languages/' . $lang . '/Settings/DataExportTracker.php';
        $$k = $languageStrings;
    }
    foreach ($used as $label) {
        Dxt_Assert::true(isset($en[$label]), 'en_us lacks ' . $label);
        Dxt_Assert::true(isset($ja[$label]), 'ja_jp lacks ' . $label);
    }
    Dxt_Assert::same(array(), array_values(array_diff(array_keys($en), array_keys($ja))), 'same keys in both');
    $untranslated = array();
    foreach ($ja as $k => $v) {
        if (!preg_match('/[\x{3040}-\x{30ff}\x{4e00}-\x{9fff}]/u', $v)) {
            $untranslated[] = $k;
        }
    }
    Dxt_Assert::same(array(), $untranslated, 'every Japanese label is Japanese');
}

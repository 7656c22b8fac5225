<?php
/** The probe's entry: which requests are exports, and the helpers it reads responses with. */

require_once dirname(__DIR__) . '/modules/DataExportTracker/probe/bootstrap.php';
require_once dirname(__DIR__) . '/modules/DataExportTracker/probe/Probe.php';

function testRouteRecognisesExportsOnly()
{
    $web = array('SCRIPT_FILENAME' => '/var/www/vtiger/index.php', 'SCRIPT_NAME' => '/index.php');
    Dxt_Assert::same('listview_export', dxt_probe_route(array('module' => 'Contacts', 'action' => 'ExportData', 'mode' => 'ExportAllData'), $web), 'list view');
    Dxt_Assert::same('listview_export', dxt_probe_route(array('module' => 'Users', 'action' => 'ExportData'), $web), 'any module');
    foreach (array('GetCSV', 'GetXLS', 'GetPrintReport') as $mode) {
        Dxt_Assert::same('report_export', dxt_probe_route(array('module' => 'Reports', 'view' => 'ExportReport', 'mode' => $mode, 'record' => '26'), $web), $mode);
    }
    Dxt_Assert::same(null, dxt_probe_route(array('module' => 'Reports', 'view' => 'ExportReport', 'mode' => 'GetPDF'), $web), 'other mode');
    Dxt_Assert::same(null, dxt_probe_route(array('module' => 'Reports', 'view' => 'ExportReport', 'mode' => 'GetCSV', 'action' => 'Save'), $web), 'an action wins over the view');
    Dxt_Assert::same(null, dxt_probe_route(array('module' => 'Contacts', 'view' => 'Export'), $web), 'the export dialog');
    Dxt_Assert::same(null, dxt_probe_route(array('module' => 'Contacts', 'view' => 'List'), $web), 'list view');
    Dxt_Assert::same(null, dxt_probe_route(array('action' => array('ExportData')), $web), 'array parameter');
    Dxt_Assert::same(null, dxt_probe_route(array('action' => 'ExportData'), array('SCRIPT_FILENAME' => '/var/www/vtiger/webservice.php')), 'other script');
    Dxt_Assert::same('scheduled_report', dxt_probe_route(array(), array('SCRIPT_FILENAME' => 'vtigercron.php')), 'cron, relative');
    Dxt_Assert::same('scheduled_report', dxt_probe_route(array(), array('SCRIPT_FILENAME' => '/var/www/vtiger/vtigercron.php')), 'cron, absolute');
    Dxt_Assert::same(null, dxt_probe_route(array(), array()), 'nothing known');
}

function testRouteDecidesInMicroseconds()
{
    $req = array('module' => 'Contacts', 'view' => 'List', 'viewname' => '7');
    $srv = array('SCRIPT_FILENAME' => '/var/www/vtiger/index.php');
    $n = 100000;
    $t = microtime(true);
    for ($i = 0; $i < $n; $i++) {
        dxt_probe_route($req, $srv);
    }
    $per = (microtime(true) - $t) / $n * 1e6;
    Dxt_Assert::true($per < 20, sprintf('%.2f µs per ordinary request', $per));
}

function testResponseHelpers()
{
    Dxt_Assert::same('Contacts.csv', Dxt_Probe::dispositionFileName('attachment;filename=Contacts.csv'), 'bare');
    Dxt_Assert::same('Lab Contacts Export Report.csv', Dxt_Probe::dispositionFileName('attachment; filename="Lab Contacts Export Report.csv"'), 'quoted');
    Dxt_Assert::same('a"b.csv', Dxt_Probe::dispositionFileName('attachment; filename="a\\"b.csv"'), 'escaped quote');
    Dxt_Assert::same("r\xc3\xa9sum\xc3\xa9.csv", Dxt_Probe::dispositionFileName("attachment; filename=\"x.csv\"; filename*=UTF-8''r%C3%A9sum%C3%A9.csv"), 'RFC 5987 first');
    Dxt_Assert::same(null, Dxt_Probe::dispositionFileName('inline'), 'none');
    Dxt_Assert::same(null, Dxt_Probe::dispositionFileName(null), 'no header');
    $h = array('Content-Type: text/html', 'content-disposition: attachment;filename=A.csv', 'Content-Type:text/csv');
    Dxt_Assert::same('text/csv', Dxt_Probe::header($h, 'Content-Type'), 'last one, any case');
    Dxt_Assert::same('attachment;filename=A.csv', Dxt_Probe::header($h, 'Content-Disposition'), 'case-insensitive');
    Dxt_Assert::same(null, Dxt_Probe::header($h, 'Content-Length'), 'absent');
    Dxt_Assert::same(3, Dxt_Probe::idCount('["1","2","3"]'), 'JSON list');
    Dxt_Assert::same('all', Dxt_Probe::idCount('all'), 'all');
    Dxt_Assert::same(null, Dxt_Probe::idCount(''), 'empty');
    Dxt_Assert::same(2, Dxt_Probe::idCount('4,5'), 'comma list');
    Dxt_Assert::same(array(array()), Dxt_Probe::param('[[]]'), 'JSON decoded');
    Dxt_Assert::same('[[bad', Dxt_Probe::param('[[bad'), 'bad JSON kept as text');
    Dxt_Assert::same(10, mb_strlen((string) Dxt_Probe::param(str_repeat('é', 50), 10)), 'clipped');
}

function testCurrentUserFromSessionThenGlobal()
{
    $saved = array(isset($_SESSION) ? $_SESSION : null, isset($GLOBALS['current_user']) ? $GLOBALS['current_user'] : null, isset($GLOBALS['application_unique_key']) ? $GLOBALS['application_unique_key'] : null);
    try {
        $GLOBALS['application_unique_key'] = 'k1';
        $_SESSION = array('authenticated_user_id' => '5', 'app_unique_key' => 'k1');
        Dxt_Assert::same(5, Dxt_Probe::currentUserId(), 'session');
        $_SESSION = array('AUTHUSERID' => '6', 'authenticated_user_id' => '5', 'app_unique_key' => 'k1');
        Dxt_Assert::same(6, Dxt_Probe::currentUserId(), 'AUTHUSERID first, as Vtiger reads it');
        $_SESSION = array('authenticated_user_id' => '5', 'app_unique_key' => 'other-install');
        $GLOBALS['current_user'] = null;
        Dxt_Assert::same(null, Dxt_Probe::currentUserId(), 'another installation\'s session');
        $_SESSION = array();
        $GLOBALS['current_user'] = (object) array('id' => '1');
        Dxt_Assert::same(1, Dxt_Probe::currentUserId(), 'cron: $current_user');
    } finally {
        $_SESSION = $saved[0];
        $GLOBALS['current_user'] = $saved[1];
        $GLOBALS['application_unique_key'] = $saved[2];
    }
}

<?php
/** The probe on report exports (Reports, view=ExportReport), through the stand-in Vtiger. */

function probe_rep_server(): Dxt_TestServer
{
    Dxt_TestDb::reset();
    $s = Dxt_TestHarness::server(true);
    $s->clearLog();
    return $s;
}

function testReportCsvIsRecordedWithReportNameFormatAndRows()
{
    $s = probe_rep_server();
    $r = Dxt_ProbeRequests::report($s, 'GetCSV');
    Dxt_Assert::same(200, $r->status, 'status');
    Dxt_Assert::same("\xEF\xBB\xBF", substr($r->body, 0, 3), 'BOM');
    // Vtiger's quirk, passed through untouched: 5 bytes more declared than sent.
    Dxt_Assert::same(strlen($r->body) + 5, (int) $r->header('Content-Length'), 'declared Content-Length');
    $sample = Dxt_TestHarness::sample('report-export-26.csv');
    if ($sample !== null) {
        Dxt_Assert::sameBytes($sample, $r->body, 'the real Vtiger 8 bytes');
    }

    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same('report_export', $row['kind'], 'kind');
    Dxt_Assert::same('1', $row['user_id'], 'user');
    Dxt_Assert::same('Contacts', $row['module'], 'primary module of the report');
    Dxt_Assert::same('50', $row['record_count'], 'CSV data rows');
    Dxt_Assert::same('Lab Contacts Export Report.csv', $row['content_name'], 'file name');
    Dxt_Assert::same('text/csv; charset=UTF-8', $row['content_type'], 'type');
    Dxt_Assert::same((string) strlen($r->body), $row['content_size'], 'size of what was sent, not what was declared');
    Dxt_Assert::same(hash('sha256', $r->body), $row['content_sha256'], 'sha256');
    Dxt_Assert::sameBytes($r->body, Dxt_TestDb::content((int) $row['id']), 'content');
    $d = json_decode($row['details'], true);
    Dxt_Assert::same(26, $d['report_id'], 'report id');
    Dxt_Assert::same('Lab Contacts Export Report', $d['report_name'], 'report name');
    Dxt_Assert::same('CSV', $d['format'], 'format');
    Dxt_Assert::same('GetCSV', $d['mode'], 'mode');
    Dxt_Assert::same('csv_rows', $d['record_count_source'], 'count source');
    Dxt_ProbeRequests::assertQuietLog($s, 'report CSV');
}

function testReportXlsCountsWithVtigerCountQueryWhenVtigerClassesExist()
{
    $s = probe_rep_server();
    $r = Dxt_ProbeRequests::report($s, 'GetXLS', array('X-Harness-Classes' => '1'));
    Dxt_Assert::notContains('noise printed', $r->body, 'Vtiger code run by the probe printed nothing into the response');
    $sample = Dxt_TestHarness::sample('report-export-26.xls');
    if ($sample !== null) {
        Dxt_Assert::sameBytes($sample, $r->body, 'the real Vtiger 8 bytes');
    }
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same('50', $row['record_count'], 'count query');
    Dxt_Assert::same('Lab Contacts Export Report.xls', $row['content_name'], 'file name');
    Dxt_Assert::same('application/x-msexcel', $row['content_type'], 'type');
    Dxt_Assert::same(hash('sha256', $r->body), $row['content_sha256'], 'sha256');
    $d = json_decode($row['details'], true);
    Dxt_Assert::same('XLS', $d['format'], 'format');
    Dxt_Assert::same('vtiger_count_query', $d['record_count_source'], 'count source');
    Dxt_Assert::contains('harness notice from the report code', $s->log(), 'Vtiger\'s notices went to the log');

    // The run-time filter of the export narrows the count the same way.
    Dxt_TestDb::reset();
    Dxt_ProbeRequests::report($s, 'GetXLS', array('X-Harness-Classes' => '1'), 26, array('advanced_filter' => '{"lastname_prefix":"Smith1"}'));
    $row = Dxt_TestDb::onlyIntake();
    $expected = Dxt_TestDb::db()->query("SELECT COUNT(*) FROM vtiger_contactdetails c JOIN vtiger_crmentity e ON e.crmid = c.contactid WHERE e.deleted = 0 AND c.lastname LIKE 'Smith1%'")->fetch_row()[0];
    Dxt_Assert::same((string) $expected, $row['record_count'], 'filtered count');
    Dxt_Assert::same(array('lastname_prefix' => 'Smith1'), json_decode($row['details'], true)['advanced_filter'], 'filter in details');
}

function testReportXlsWithoutVtigerClassesLeavesCountNullAndSaysWhy()
{
    $s = probe_rep_server();
    $r = Dxt_ProbeRequests::report($s, 'GetXLS');
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same(null, $row['record_count'], 'no count');
    Dxt_Assert::same(hash('sha256', $r->body), $row['content_sha256'], 'file still captured');
    $d = json_decode($row['details'], true);
    Dxt_Assert::same(null, $d['record_count_source'], 'no source');
    Dxt_Assert::contains('report classes are not loaded', $d['record_count_note'], 'reason');
}

function testPrintViewIsRecordedAsTheHtmlTheUserGot()
{
    $s = probe_rep_server();
    $r = Dxt_ProbeRequests::report($s, 'GetPrintReport', array('X-Harness-Classes' => '1'));
    Dxt_Assert::contains('csrfMagicToken = "sid:harness"', $r->body, 'csrf-magic rewrote the page');
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same('report_export', $row['kind'], 'kind');
    Dxt_Assert::same('50', $row['record_count'], 'count query');
    Dxt_Assert::same('Lab Contacts Export Report.html', $row['content_name'], 'name');
    Dxt_Assert::same('text/html; charset=UTF-8', $row['content_type'], 'PHP\'s default type');
    Dxt_Assert::sameBytes($r->body, Dxt_TestDb::content((int) $row['id']), 'the page as sent, csrf rewrite included');
    Dxt_Assert::same('PRINT', json_decode($row['details'], true)['format'], 'format');
}

function testDeniedReportExportsAreNotRecorded()
{
    $s = probe_rep_server();
    foreach (array('GetPrintReport', 'GetCSV', 'GetXLS') as $mode) {
        $r = Dxt_ProbeRequests::report($s, $mode, array('X-Harness-Deny' => '1'));
        Dxt_Assert::contains('denied.gif', $r->body, $mode . ': denied page');
    }
    Dxt_Assert::same(array(), Dxt_TestDb::intakes(), 'nothing recorded');
    Dxt_ProbeRequests::assertQuietLog($s, 'denied');
}

function testReportToggleOffRecordsNothing()
{
    $s = probe_rep_server();
    Dxt_TestDb::setConfig('track_report_export', '0');
    Dxt_ProbeRequests::report($s, 'GetCSV');
    Dxt_ProbeRequests::report($s, 'GetPrintReport');
    Dxt_Assert::same(array(), Dxt_TestDb::intakes(), 'nothing recorded');
    // The other paths keep their own toggles.
    Dxt_ProbeRequests::listview($s);
    Dxt_Assert::same('listview_export', Dxt_TestDb::onlyIntake()['kind'], 'list view still tracked');
}

<?php
/** The probe on list-view exports (action=ExportData), through the stand-in Vtiger. */

function probe_lv_server(): Dxt_TestServer
{
    Dxt_TestDb::reset();
    $s = Dxt_TestHarness::server(true);
    $s->clearLog();
    return $s;
}

function probe_assert_recent(string $occurredAt): void
{
    Dxt_Assert::same(1, preg_match('/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/', $occurredAt), 'occurred_at with microseconds: ' . $occurredAt);
    $t = strtotime(substr($occurredAt, 0, 19) . ' UTC');
    Dxt_Assert::true(abs(time() - $t) < 120, 'occurred_at is now in UTC: ' . $occurredAt);
}

function testListviewExportIsRecordedWithUserModuleCountAndFile()
{
    $s = probe_lv_server();
    $r = Dxt_ProbeRequests::listview($s, array('User-Agent' => 'Mozilla/5.0 (X11; Linux) Firefox/133.0'));
    Dxt_Assert::same(200, $r->status, 'status');
    Dxt_Assert::sameBytes(Dxt_ProbeRequests::listviewSample(), $r->body, 'served file');

    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same('listview_export', $row['kind'], 'kind');
    probe_assert_recent($row['occurred_at']);
    Dxt_Assert::same('5', $row['user_id'], 'session user');
    Dxt_Assert::same('Contacts', $row['module'], 'module');
    Dxt_Assert::same('50', $row['record_count'], 'data rows');
    Dxt_Assert::same('127.0.0.1', $row['client_ip'], 'client IP');
    Dxt_Assert::same('Mozilla/5.0 (X11; Linux) Firefox/133.0', $row['user_agent'], 'user agent');
    Dxt_Assert::same('Contacts.csv', $row['content_name'], 'file name from Content-Disposition');
    Dxt_Assert::same('text/csv;charset=UTF-8', $row['content_type'], 'content type');
    Dxt_Assert::same((string) strlen($r->body), $row['content_size'], 'size');
    Dxt_Assert::same(hash('sha256', $r->body), $row['content_sha256'], 'sha256 of the served bytes');
    Dxt_Assert::sameBytes($r->body, Dxt_TestDb::content((int) $row['id']), 'chunk bytes = served bytes');
    Dxt_Assert::same(null, $row['processed_at'], 'left for the daemon');

    $d = json_decode($row['details'], true);
    Dxt_Assert::same('ExportAllData', $d['mode'], 'mode');
    Dxt_Assert::same('7', $d['viewname'], 'viewname');
    Dxt_Assert::same('Contacts', $d['source_module'], 'source module');
    Dxt_Assert::same(array(array()), $d['search_params'], 'search params decoded');
    Dxt_Assert::same('csv_rows', $d['record_count_source'], 'count source');
    Dxt_Assert::same(200, $d['http_status'], 'status');
    Dxt_Assert::same(true, $d['content_captured'], 'captured');
    Dxt_Assert::false(isset($d['selected_ids_count']), 'no selection');
    Dxt_Assert::false(isset($d['truncated']), 'not truncated');
    Dxt_ProbeRequests::assertQuietLog($s, 'listview');
}

function testListviewSelectedRecordsAndSearchAreInDetails()
{
    $s = probe_lv_server();
    Dxt_ProbeRequests::listview($s, array('X-Harness-User' => '6'), array(
        'mode' => 'ExportSelectedRecords',
        'selected_ids' => '["12","13","14"]',
        'excluded_ids' => '',
        'search_params' => '[[["lastname","c","Smith"]]]',
        'search_key' => 'lastname', 'operator' => 'c', 'search_value' => 'Smith',
        'orderby' => 'lastname', 'sortorder' => 'ASC',
    ));
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same('6', $row['user_id'], 'user');
    $d = json_decode($row['details'], true);
    Dxt_Assert::same('ExportSelectedRecords', $d['mode'], 'mode');
    Dxt_Assert::same(3, $d['selected_ids_count'], 'selected ids');
    Dxt_Assert::same(array(array(array('lastname', 'c', 'Smith'))), $d['search_params'], 'search params');
    Dxt_Assert::same('Smith', $d['search_value'], 'search value');
    Dxt_Assert::same('ASC', $d['sortorder'], 'sort order');

    Dxt_TestDb::reset();
    Dxt_ProbeRequests::listview($s, array(), array('mode' => 'ExportSelectedRecords', 'selected_ids' => 'all', 'excluded_ids' => '["3","4"]'));
    $d = json_decode(Dxt_TestDb::onlyIntake()['details'], true);
    Dxt_Assert::same('all', $d['selected_ids_count'], 'all records');
    Dxt_Assert::same(2, $d['excluded_ids_count'], 'excluded ids');

    Dxt_TestDb::reset();
    Dxt_ProbeRequests::listview($s, array(), array('mode' => 'ExportCurrentPage', 'page' => '3', 'module' => 'Leads', 'source_module' => 'Leads'));
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same('Leads', $row['module'], 'module of the export');
    Dxt_Assert::same('Leads.csv', $row['content_name'], 'file name');
    Dxt_Assert::same('3', json_decode($row['details'], true)['page'], 'page');
}

function testBigExportIsChunkedInMiBAndHashedOverEveryByte()
{
    $s = probe_lv_server();
    $r = Dxt_ProbeRequests::listview($s, array('X-Harness-Rows' => '12000'));
    Dxt_Assert::true(strlen($r->body) > 2 * 1048576, 'more than 2 MiB served: ' . strlen($r->body));
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same('12000', $row['record_count'], 'rows (quoted newlines inside fields not counted)');
    Dxt_Assert::same(hash('sha256', $r->body), $row['content_sha256'], 'sha256');
    $sizes = Dxt_TestDb::chunkSizes((int) $row['id']);
    Dxt_Assert::same(range(0, count($sizes) - 1), array_keys($sizes), 'seq from 0 without gaps');
    foreach ($sizes as $seq => $n) {
        Dxt_Assert::true($n <= 1048576 && $n > 0, 'chunk ' . $seq . ' of ' . $n . ' bytes');
    }
    Dxt_Assert::same(strlen($r->body), array_sum($sizes), 'all bytes');
    Dxt_Assert::sameBytes($r->body, Dxt_TestDb::content((int) $row['id']), 'content');
}

function testExportLargerThanCaptureLimitKeepsPrefixAndFlagsTruncation()
{
    $s = probe_lv_server();
    Dxt_TestDb::setConfig('capture_max_bytes', '1000');
    $r = Dxt_ProbeRequests::listview($s, array('X-Harness-Rows' => '3000'));
    $row = Dxt_TestDb::onlyIntake();
    $d = json_decode($row['details'], true);
    Dxt_Assert::same(true, $d['truncated'], 'truncated');
    Dxt_Assert::same(1000, $d['captured_bytes'], 'captured bytes');
    Dxt_Assert::same((string) strlen($r->body), $row['content_size'], 'size of the whole export');
    Dxt_Assert::same(hash('sha256', $r->body), $row['content_sha256'], 'hash of the whole export');
    Dxt_Assert::same('3000', $row['record_count'], 'rows counted over everything');
    Dxt_Assert::sameBytes(substr($r->body, 0, 1000), Dxt_TestDb::content((int) $row['id']), 'kept prefix');
}

function testCaptureContentOffRecordsTheExportWithoutTheFile()
{
    $s = probe_lv_server();
    Dxt_TestDb::setConfig('capture_content', '0');
    $r = Dxt_ProbeRequests::listview($s);
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same('50', $row['record_count'], 'count');
    Dxt_Assert::same(hash('sha256', $r->body), $row['content_sha256'], 'hash');
    Dxt_Assert::same((string) strlen($r->body), $row['content_size'], 'size');
    Dxt_Assert::same(array(), Dxt_TestDb::chunkSizes((int) $row['id']), 'no chunks');
    Dxt_Assert::same(false, json_decode($row['details'], true)['content_captured'], 'details say so');
}

function testListviewToggleOffRecordsNothingAndChangesNothing()
{
    $s = probe_lv_server();
    Dxt_TestDb::setConfig('track_listview_export', '0');
    $with = Dxt_ProbeRequests::listview($s);
    $without = Dxt_ProbeRequests::listview(Dxt_TestHarness::server(false));
    Dxt_Assert::same(array(), Dxt_TestDb::intakes(), 'no intake row');
    Dxt_TestHarness::assertSameResponse($without, $with, 'toggle off');
    Dxt_ProbeRequests::assertQuietLog($s, 'toggle off');
}

function testExitInsideTheActionIsStillRecorded()
{
    $s = probe_lv_server();
    $r = Dxt_ProbeRequests::listview($s, array('X-Harness-Exit' => '1'));
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same(hash('sha256', $r->body), $row['content_sha256'], 'hash');
    Dxt_Assert::same('50', $row['record_count'], 'count');
    foreach (array(array('output_buffering' => '0'), array('output_buffering' => '0', 'X' => 'csrf-off')) as $i => $ini) {
        Dxt_TestDb::reset();
        $headers = array('X-Harness-Exit' => '1');
        if (isset($ini['X'])) {
            $headers['X-Harness-Csrf'] = '0';
            unset($ini['X']);
        }
        $r = Dxt_ProbeRequests::listview(Dxt_TestHarness::server(true, $ini), $headers);
        Dxt_Assert::same(hash('sha256', $r->body), Dxt_TestDb::onlyIntake()['content_sha256'], 'hash, variant ' . $i);
    }
}

function testResponsesThatAreNotExportsAreNotRecorded()
{
    $s = probe_lv_server();
    Dxt_ProbeRequests::listview($s, array('X-Harness-Deny' => '1'));
    Dxt_Assert::same(array(), Dxt_TestDb::intakes(), 'JSON error instead of a file');
    Dxt_ProbeRequests::listview($s, array('X-Harness-Status' => '500'));
    Dxt_Assert::same(array(), Dxt_TestDb::intakes(), 'HTTP 500');
    Dxt_ProbeRequests::assertQuietLog($s, 'not exports');
}

function testOrdinaryRequestsDoNotTouchTheDatabase()
{
    $s = probe_lv_server();
    $conn = function () {
        return (int) Dxt_TestDb::db()->query("SHOW GLOBAL STATUS LIKE 'Connections'")->fetch_row()[1];
    };
    $before = $conn();
    foreach (array('/index.php?module=Contacts&view=List', '/index.php?module=Reports&view=Detail&record=26', '/index.php?module=Contacts&action=Save', '/index.php?module=Reports&view=ExportReport&mode=Other&record=26', '/index.php?module=Contacts&view=Export') as $path) {
        $r = $s->request('GET', $path, array('X-Harness-User' => '5'));
        Dxt_Assert::same(200, $r->status, $path);
    }
    Dxt_Assert::same($before, $conn(), 'no new database connection for ordinary requests');
    $s->request('POST', '/index.php', array('X-Harness-User' => '5'), Dxt_ProbeRequests::listviewBody());
    Dxt_Assert::same($before + 2, $conn(), 'an export connects twice: settings at the start, the record at the end');
}

function testForwardedForIsBelievedOnlyFromTrustedProxies()
{
    $s = probe_lv_server();
    Dxt_ProbeRequests::listview($s, array('X-Forwarded-For' => '198.51.100.9'));
    Dxt_Assert::same('127.0.0.1', Dxt_TestDb::onlyIntake()['client_ip'], 'untrusted peer: REMOTE_ADDR');

    Dxt_TestDb::reset();
    Dxt_TestDb::setConfig('trusted_proxies', '127.0.0.0/8');
    Dxt_ProbeRequests::listview($s, array('X-Forwarded-For' => '6.6.6.6, 198.51.100.9'));
    Dxt_Assert::same('198.51.100.9', Dxt_TestDb::onlyIntake()['client_ip'], 'trusted proxy: the hop it saw');
}

function testCalendarIcalExportCountsEventsAndTodos()
{
    $s = probe_lv_server();
    $r = Dxt_ProbeRequests::listview($s, array('X-Harness-Rows' => '7'), array('module' => 'Calendar', 'source_module' => 'Calendar'));
    Dxt_Assert::contains('BEGIN:VCALENDAR', $r->body, 'an iCalendar file');
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same('Calendar', $row['module'], 'module');
    Dxt_Assert::same('7', $row['record_count'], 'events and to-dos, not lines');
    Dxt_Assert::same('Calendar.ics', $row['content_name'], 'name');
    Dxt_Assert::same($r->header('Content-Type'), $row['content_type'], 'type as sent');
    Dxt_Assert::same('ical_components', json_decode($row['details'], true)['record_count_source'], 'count source');
    Dxt_Assert::sameBytes($r->body, Dxt_TestDb::content((int) $row['id']), 'content');

    Dxt_TestDb::reset();
    Dxt_ProbeRequests::listview($s, array('X-Harness-Rows' => '7'), array('module' => 'Calendar', 'source_module' => 'Calendar', 'type' => 'csv'));
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same('Calendar.csv', $row['content_name'], 'CSV when asked');
    Dxt_Assert::same('7', $row['record_count'], 'CSV rows');
}

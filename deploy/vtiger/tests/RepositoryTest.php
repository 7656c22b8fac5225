<?php
/**
 * Dxt_EventRepository: the tracking log as the Settings page reads it
 * (filters, keyset paging, time zones, index use), captured content streamed
 * back with its access log row and SHA-256 check, and scheduled reports.
 * Events and content are made with plain SQL here, the way the daemon
 * stores them (gzip of the original bytes in 1 MiB chunks, seq from 0).
 */
require_once dirname(__DIR__) . '/modules/DataExportTracker/lib/EventRepository.php';

function dxt_repo_clean(): mysqli
{
    $db = Dxt_TestDb::db();
    foreach (array('dxt_event', 'dxt_content', 'dxt_content_chunk', 'dxt_access_log') as $t) {
        $db->query("TRUNCATE TABLE $t");
    }
    return $db;
}

/** Inserts one dxt_event row; $e overrides the defaults. Returns its id. */
function dxt_repo_event(array $e): int
{
    static $n = 0;
    $n++;
    $e += array('occurred_at' => '2026-12-04 10:00:00.000000', 'type' => 'listview_export', 'user_id' => 1, 'user_name' => 'admin',
        'module' => 'Contacts', 'record_count' => 50, 'ip' => '127.0.0.1', 'user_agent' => 'test', 'source' => 'probe',
        'details' => '{}', 'content_id' => null, 'report_id' => null, 'dedupe_key' => 'test:' . $n . ':' . uniqid('', true));
    $stmt = Dxt_TestDb::db()->prepare('INSERT INTO dxt_event (occurred_at, type, user_id, user_name, module, record_count, ip, user_agent,
        source, details, content_id, report_id, dedupe_key, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?, UTC_TIMESTAMP(6))');
    $stmt->bind_param('ssisssssssiis', $e['occurred_at'], $e['type'], $e['user_id'], $e['user_name'], $e['module'], $e['record_count'],
        $e['ip'], $e['user_agent'], $e['source'], $e['details'], $e['content_id'], $e['report_id'], $e['dedupe_key']);
    $stmt->execute();
    $id = (int) $stmt->insert_id;
    $stmt->close();
    return $id;
}

/** Stores $bytes as the daemon does: gzip, cut into $piece-byte chunks. Returns the dxt_content id. */
function dxt_repo_content(string $bytes, string $name, string $type, int $piece = 1048576): int
{
    $db = Dxt_TestDb::db();
    $gz = gzencode($bytes, 6);
    $chunks = str_split($gz, $piece);
    $size = strlen($bytes);
    $sha = hash('sha256', $bytes);
    $stored = strlen($gz);
    $count = count($chunks);
    $stmt = $db->prepare("INSERT INTO dxt_content (name, media_type, size, sha256, stored_size, compression, chunk_count, truncated, created_at)
        VALUES (?, ?, ?, ?, ?, 'gzip', ?, 0, UTC_TIMESTAMP(6))");
    $stmt->bind_param('ssisii', $name, $type, $size, $sha, $stored, $count);
    $stmt->execute();
    $id = (int) $stmt->insert_id;
    $stmt->close();
    $stmt = $db->prepare('INSERT INTO dxt_content_chunk (content_id, seq, data) VALUES (?, ?, ?)');
    foreach ($chunks as $seq => $data) {
        $null = null;
        $stmt->bind_param('iib', $id, $seq, $null);
        $stmt->send_long_data(2, $data);
        $stmt->execute();
    }
    $stmt->close();
    return $id;
}

function dxt_repo(): Dxt_EventRepository
{
    return new Dxt_EventRepository(Dxt_Db::connect(Dxt_TestDb::dbconfig()));
}

function dxt_repo_ids(array $page): array
{
    return array_map(function ($e) {
        return $e['id'];
    }, $page['events']);
}

function testRepositoryPagesNewestFirstByKeysetInBothDirections()
{
    dxt_repo_clean();
    $ids = array();
    // Two rows share one microsecond: the id breaks the tie.
    foreach (array('01', '02', '03', '03', '04', '05', '06') as $i => $sec) {
        $ids[] = dxt_repo_event(array('occurred_at' => "2026-12-04 10:00:$sec.000000"));
    }
    $newestFirst = array_reverse($ids);
    $repo = dxt_repo();
    $p1 = $repo->listEvents(array('limit' => 3));
    Dxt_Assert::same(array_slice($newestFirst, 0, 3), dxt_repo_ids($p1), 'page 1');
    Dxt_Assert::same(null, $p1['newer'], 'nothing newer than page 1');
    $p2 = $repo->listEvents(array('limit' => 3, 'after' => $p1['older']));
    Dxt_Assert::same(array_slice($newestFirst, 3, 3), dxt_repo_ids($p2), 'page 2 (the tie split correctly)');
    $p3 = $repo->listEvents(array('limit' => 3, 'after' => $p2['older']));
    Dxt_Assert::same(array_slice($newestFirst, 6), dxt_repo_ids($p3), 'page 3');
    Dxt_Assert::same(null, $p3['older'], 'last page');
    $back2 = $repo->listEvents(array('limit' => 3, 'before' => $p3['newer']));
    Dxt_Assert::same(dxt_repo_ids($p2), dxt_repo_ids($back2), 'newer from page 3 is page 2');
    Dxt_Assert::same($p2['older'], $back2['older'], 'and leads on to page 3 again');
    $back1 = $repo->listEvents(array('limit' => 3, 'before' => $back2['newer']));
    Dxt_Assert::same(dxt_repo_ids($p1), dxt_repo_ids($back1), 'newer from page 2 is page 1');
    Dxt_Assert::same(null, $back1['newer'], 'page 1 again: nothing newer');

    // A row inserted meanwhile shifts nothing on the pages already open.
    dxt_repo_event(array('occurred_at' => '2026-12-04 11:00:00.000000'));
    Dxt_Assert::same(dxt_repo_ids($p2), dxt_repo_ids($repo->listEvents(array('limit' => 3, 'after' => $p1['older']))), 'page 2 stable');

    foreach (array('garbage!', 'AAAA', str_repeat('A', 100)) as $bad) {
        try {
            $repo->listEvents(array('after' => $bad));
            Dxt_Assert::fail('cursor ' . $bad . ' accepted');
        } catch (InvalidArgumentException $e) {
            Dxt_Assert::contains('cursor', $e->getMessage());
        }
    }
}

function testRepositoryFiltersByUserTypeModuleAndTimeRange()
{
    dxt_repo_clean();
    $a = dxt_repo_event(array('occurred_at' => '2026-12-01 09:00:00', 'user_name' => 'admin', 'type' => 'listview_export', 'module' => 'Contacts'));
    $b = dxt_repo_event(array('occurred_at' => '2026-12-02 09:00:00', 'user_name' => 'jsmith', 'user_id' => 5, 'type' => 'copy', 'module' => 'Contacts', 'record_count' => null));
    $c = dxt_repo_event(array('occurred_at' => '2026-12-03 09:00:00', 'user_name' => 'jsmith', 'user_id' => 5, 'type' => 'report_export', 'module' => 'Leads'));
    $d = dxt_repo_event(array('occurred_at' => '2026-12-04 09:00:00', 'user_name' => 'admin', 'type' => 'scheduled_report', 'module' => 'Contacts', 'report_id' => 26));
    $repo = dxt_repo();
    $cases = array(
        'user' => array(array('user' => 'jsmith'), array($c, $b)),
        'type' => array(array('type' => 'copy'), array($b)),
        'module' => array(array('module' => 'Contacts'), array($d, $b, $a)),
        'user and module' => array(array('user' => 'jsmith', 'module' => 'Contacts'), array($b)),
        'from (inclusive)' => array(array('from' => '2026-12-03 09:00:00'), array($d, $c)),
        'to (exclusive)' => array(array('to' => '2026-12-03 09:00:00'), array($b, $a)),
        'range and type' => array(array('from' => '2026-12-01 00:00:00', 'to' => '2026-12-05 00:00:00', 'type' => 'listview_export'), array($a)),
        'nothing' => array(array('user' => 'nobody'), array()),
    );
    foreach ($cases as $what => $case) {
        Dxt_Assert::same($case[1], dxt_repo_ids($repo->listEvents($case[0])), $what);
    }
    $ev = $repo->listEvents(array('type' => 'copy'))['events'][0];
    Dxt_Assert::same(null, $ev['record_count'], 'NULL record count stays null');
    Dxt_Assert::same(5, $ev['user_id'], 'user id');
    $choices = $repo->filterChoices();
    Dxt_Assert::same(array('admin', 'jsmith'), $choices['users'], 'users in the log');
    Dxt_Assert::same(array('Contacts', 'Leads'), $choices['modules'], 'modules in the log');
    Dxt_Assert::same(array('copy', 'listview_export', 'report_export', 'scheduled_report'), $choices['types'], 'types');
}

function testRepositoryDayRangesAndDisplayFollowTheAdminsTimeZone()
{
    // A day in Tokyo is 15:00 UTC the day before to 15:00 UTC that day.
    Dxt_Assert::same(array('from' => '2026-12-03 15:00:00', 'to' => '2026-12-04 15:00:00'),
        Dxt_EventRepository::dayRangeToUtc('2026-12-04', '2026-12-04', 'Asia/Tokyo'), 'Tokyo');
    // New York on the day summer time starts: 23 hours long.
    Dxt_Assert::same(array('from' => '2026-03-08 05:00:00', 'to' => '2026-03-09 04:00:00'),
        Dxt_EventRepository::dayRangeToUtc('2026-03-08', '2026-03-08', 'America/New_York'), 'New York DST day');
    Dxt_Assert::same(array('from' => null, 'to' => '2026-12-05 00:00:00'),
        Dxt_EventRepository::dayRangeToUtc('', '2026-12-04', 'No/Such_Zone'), 'open start, unknown zone = UTC');
    foreach (array('04-12-2026', '2026-02-30', '2026-12-4') as $bad) {
        try {
            Dxt_EventRepository::dayRangeToUtc($bad, null, 'UTC');
            Dxt_Assert::fail($bad . ' accepted');
        } catch (InvalidArgumentException $e) {
            Dxt_Assert::contains('yyyy-mm-dd', $e->getMessage());
        }
    }

    dxt_repo_clean();
    $in = dxt_repo_event(array('occurred_at' => '2026-12-03 15:30:00.250000'));   // 00:30 on the 4th in Tokyo
    dxt_repo_event(array('occurred_at' => '2026-12-03 14:59:59.999999'));          // 23:59 on the 3rd in Tokyo
    dxt_repo_event(array('occurred_at' => '2026-12-04 15:00:00.000000'));          // 00:00 on the 5th in Tokyo
    $range = Dxt_EventRepository::dayRangeToUtc('2026-12-04', '2026-12-04', 'Asia/Tokyo');
    Dxt_Assert::same(array($in), dxt_repo_ids(dxt_repo()->listEvents($range)), 'only the Tokyo day');

    $f = 'Dxt_EventRepository::formatUserDateTime';
    Dxt_Assert::same('2026-12-04 00:30:00', $f('2026-12-03 15:30:00.250000', 'Asia/Tokyo', 'yyyy-mm-dd', '24'), 'Tokyo 24h');
    Dxt_Assert::same('04-12-2026 12:30:00 AM', $f('2026-12-03 15:30:00', 'Asia/Tokyo', 'dd-mm-yyyy', '12'), 'dd-mm-yyyy 12h');
    Dxt_Assert::same('12.03.2026 10:30:00', $f('2026-12-03 15:30:00', 'America/New_York', 'mm.dd.yyyy', '24'), 'New York');
    Dxt_Assert::same('2026-12-03 15:30:00', $f('2026-12-03 15:30:00', '', 'bogus', ''), 'defaults: UTC, yyyy-mm-dd, 24h');
}

function testRepositoryEveryListQueryReadsAnEventIndexWithoutSorting()
{
    dxt_repo_clean();
    // An empty dxt_content must not change the plan (capture_content off).
    for ($i = 0; $i < 200; $i++) {
        dxt_repo_event(array('occurred_at' => sprintf('2026-12-%02d 10:00:00', 1 + $i % 28), 'user_name' => $i % 2 ? 'admin' : 'jsmith',
            'type' => $i % 3 ? 'copy' : 'listview_export', 'module' => $i % 5 ? 'Contacts' : 'Leads'));
    }
    $repo = dxt_repo();
    $cursor = Dxt_EventRepository::encodeCursor('2026-12-04 10:00:00.000000', 5);
    $cases = array(
        array(array(), array('dxt_event_time')),
        array(array('after' => $cursor), array('dxt_event_time')),
        array(array('before' => $cursor), array('dxt_event_time')),
        array(array('from' => '2026-12-01 00:00:00', 'to' => '2026-12-02 00:00:00'), array('dxt_event_time')),
        array(array('user' => 'jsmith', 'after' => $cursor), array('dxt_event_user')),
        array(array('type' => 'copy', 'from' => '2026-12-01 00:00:00'), array('dxt_event_type')),
        array(array('module' => 'Contacts', 'before' => $cursor), array('dxt_event_module')),
        array(array('user' => 'jsmith', 'type' => 'copy'), array('dxt_event_user', 'dxt_event_type')),
    );
    foreach ($cases as $case) {
        $plan = $repo->explainListEvents($case[0]);
        $e = $plan[0];
        $what = json_encode($case[0]) . ' -> ' . json_encode($e);
        Dxt_Assert::true(in_array($e['key'], $case[1], true), 'index used: ' . $what);
        Dxt_Assert::notContains('filesort', (string) $e['Extra'], 'no sort: ' . $what);
        Dxt_Assert::notContains('temporary', (string) $e['Extra'], 'no temporary table: ' . $what);
    }
}

/**
 * A million events: the first page, a deep page (by cursor) and a filtered
 * page each answer in well under a second. Runs when DXT_PHP_BIG=1 (go test
 * sets it unless -short), as it takes a while to insert the rows.
 */
function testRepositoryStaysFastAtAMillionEvents()
{
    if (getenv('DXT_PHP_BIG') !== '1') {
        return;
    }
    $db = dxt_repo_clean();
    $db->query("INSERT INTO dxt_event (occurred_at, type, user_id, user_name, module, record_count, ip, source, details, dedupe_key, created_at)
        VALUES ('2026-01-01 00:00:00', 'listview_export', 1, 'admin', 'Contacts', 10, '10.0.0.1', 'probe', '{}', 'big:0', UTC_TIMESTAMP(6))");
    // Doubling 20 times: 1,048,576 rows spread over a year, four users, four types.
    for ($i = 0; $i < 20; $i++) {
        $db->query("INSERT INTO dxt_event (occurred_at, type, user_id, user_name, module, record_count, ip, source, details, dedupe_key, created_at)
            SELECT occurred_at + INTERVAL ((id * 7919) % 31536000) SECOND + INTERVAL $i MICROSECOND,
                   ELT(1 + (id DIV 4 + $i) % 4, 'listview_export', 'report_export', 'scheduled_report', 'copy'),
                   1 + (id + $i) % 4, ELT(1 + (id + $i) % 4, 'admin', 'jsmith', 'mjones', 'old'),
                   ELT(1 + (id * 7 + $i) % 3, 'Contacts', 'Leads', 'Accounts'), id % 1000, '10.0.0.2', 'probe', '{}',
                   CONCAT('big:', $i, ':', id), UTC_TIMESTAMP(6)
            FROM dxt_event");
    }
    $total = (int) $db->query('SELECT COUNT(*) FROM dxt_event')->fetch_row()[0];
    Dxt_Assert::true($total >= 1000000, 'rows: ' . $total);
    $repo = dxt_repo();
    $time = function ($filter) use ($repo) {
        $t = microtime(true);
        $page = $repo->listEvents($filter);
        return array(microtime(true) - $t, $page);
    };
    list($t1, $first) = $time(array('limit' => 50));
    $cursor = $first['older'];
    for ($i = 0; $i < 200; $i++) { // 10,000 rows deep
        $cursor = $repo->listEvents(array('limit' => 50, 'after' => $cursor))['older'];
    }
    list($t2, $deep) = $time(array('limit' => 50, 'after' => $cursor));
    list($t3, $filtered) = $time(array('limit' => 50, 'user' => 'jsmith', 'type' => 'copy', 'from' => '2026-03-01 00:00:00', 'to' => '2026-09-01 00:00:00'));
    list($t4, $newer) = $time(array('limit' => 50, 'before' => $cursor));
    $t = microtime(true);
    $choices = $repo->filterChoices();
    $t5 = microtime(true) - $t;
    Dxt_Assert::same(array('admin', 'jsmith', 'mjones', 'old'), $choices['users'], 'filter menu users');
    Dxt_Assert::true($t5 < 0.5, sprintf('filter menus took %.3f s', $t5));
    foreach (array('first page' => array($t1, $first), 'page 201' => array($t2, $deep), 'filtered' => array($t3, $filtered), 'newer' => array($t4, $newer)) as $what => $r) {
        Dxt_Assert::same(50, count($r[1]['events']), $what . ' has a full page');
        Dxt_Assert::true($r[0] < 0.5, sprintf('%s took %.3f s', $what, $r[0]));
    }
    fwrite(STDERR, sprintf("    %d events: first page %.1f ms, page 201 %.1f ms, filtered %.1f ms, newer %.1f ms, filter menus %.1f ms\n",
        $total, $t1 * 1000, $t2 * 1000, $t3 * 1000, $t4 * 1000, $t5 * 1000));
    dxt_repo_clean();
}

function testRepositoryStreamsTheOriginalBytesAfterLoggingTheDownload()
{
    dxt_repo_clean();
    // 2.5 MiB that gzip cannot shrink much: three 1 MiB chunks.
    $bytes = '';
    for ($i = 0; strlen($bytes) < 2621440; $i++) {
        $bytes .= hash('sha256', 'row' . $i, true) . "\n";
    }
    $cid = dxt_repo_content($bytes, 'Contacts.csv', 'text/csv; charset=UTF-8');
    $chunks = (int) Dxt_TestDb::db()->query("SELECT COUNT(*) FROM dxt_content_chunk WHERE content_id = $cid")->fetch_row()[0];
    Dxt_Assert::true($chunks >= 3, 'content spans several chunks: ' . $chunks);
    $eid = dxt_repo_event(array('content_id' => $cid));
    $repo = dxt_repo();

    $stream = $repo->openContent($eid);
    Dxt_Assert::true($stream instanceof Dxt_ContentStream, 'content found');
    Dxt_Assert::same('Contacts.csv', $stream->downloadName(), 'name');
    Dxt_Assert::same('text/csv; charset=UTF-8', $stream->contentType(), 'media type');
    Dxt_Assert::same(strlen($bytes), $stream->size, 'size');
    $logId = $repo->logAccess(array('principal' => 'admin', 'event_id' => $eid, 'remote_ip' => '192.0.2.10',
        'path' => '/index.php?module=DataExportTracker&parent=Settings&action=Download&event=' . $eid, 'status' => 200));
    $got = '';
    $writes = 0;
    $ok = $stream->send(function ($piece) use (&$got, &$writes) {
        $got .= $piece;
        $writes++;
    });
    Dxt_Assert::true($ok, 'verified: ' . (string) $stream->error);
    Dxt_Assert::sameBytes($bytes, $got, 'original bytes');
    Dxt_Assert::true($writes > 3, 'streamed in pieces, not at once: ' . $writes);
    Dxt_Assert::same(hash('sha256', $bytes), $stream->sentSha256, 'sha256 of what was sent');

    $row = Dxt_TestDb::db()->query("SELECT * FROM dxt_access_log WHERE id = $logId")->fetch_assoc();
    Dxt_Assert::same(array('admin', 'vtiger', 'content_download', (string) $eid, '192.0.2.10', '200'),
        array($row['principal'], $row['auth_method'], $row['action'], $row['event_id'], $row['remote_ip'], $row['status']), 'access log row');
    Dxt_Assert::contains('action=Download', $row['path'], 'path');

    $repo->setAccessStatus($logId, 500);
    Dxt_Assert::same('500', Dxt_TestDb::db()->query("SELECT status FROM dxt_access_log WHERE id = $logId")->fetch_row()[0], 'status corrected');
    Dxt_Assert::same(null, $repo->openContent(dxt_repo_event(array())), 'event without content');
    Dxt_Assert::same(null, $repo->openContent(999999999), 'no such event');
}

function testRepositoryRefusesContentThatDoesNotMatchItsHash()
{
    dxt_repo_clean();
    $db = Dxt_TestDb::db();
    $text = '';
    for ($i = 0; $i < 2000; $i++) {
        $text .= 'Ada,Lovelace,' . hash('crc32b', (string) $i) . "@example.com\n";
    }
    $repo = dxt_repo();
    $collect = function (Dxt_ContentStream $s) {
        $out = '';
        $ok = $s->send(function ($p) use (&$out) {
            $out .= $p;
        });
        return array($ok, $out, $s->error);
    };

    $cid = dxt_repo_content($text, 'a.csv', 'text/csv', 1000);
    $db->query("UPDATE dxt_content SET sha256 = REPEAT('0', 64) WHERE id = $cid");
    list($ok, $out, $err) = $collect($repo->openContent(dxt_repo_event(array('content_id' => $cid))));
    Dxt_Assert::false($ok, 'hash mismatch detected');
    Dxt_Assert::contains('SHA-256 mismatch', $err);
    Dxt_Assert::sameBytes($text, $out, 'the bytes were still the stored ones');

    $cid = dxt_repo_content($text, 'b.csv', 'text/csv', 1000);
    $db->query("DELETE FROM dxt_content_chunk WHERE content_id = $cid AND seq = 1");
    list($ok, , $err) = $collect($repo->openContent(dxt_repo_event(array('content_id' => $cid))));
    Dxt_Assert::false($ok, 'gap in the chunks detected');

    $cid = dxt_repo_content($text, 'c.csv', 'text/csv', 1000);
    $db->query("UPDATE dxt_content_chunk SET data = 'not gzip at all' WHERE content_id = $cid AND seq = 0");
    list($ok, , $err) = $collect($repo->openContent(dxt_repo_event(array('content_id' => $cid))));
    Dxt_Assert::false($ok, 'broken gzip detected');
    Dxt_Assert::contains('gzip', $err);
}

function testRepositoryContentDispositionKeepsTheOriginalName()
{
    Dxt_Assert::same('attachment; filename="Contacts.csv"; filename*=UTF-8\'\'Contacts.csv',
        Dxt_ContentStream::contentDisposition('Contacts.csv'), 'plain');
    Dxt_Assert::same('attachment; filename="____.csv"; filename*=UTF-8\'\'%E9%A1%A7%E5%AE%A2%E4%B8%80%E8%A6%A7.csv',
        Dxt_ContentStream::contentDisposition('顧客一覧.csv'), 'Japanese name: UTF-8 in filename*');
    Dxt_Assert::same('attachment; filename="a_b_.txt"; filename*=UTF-8\'\'a%22b%5C.txt',
        Dxt_ContentStream::contentDisposition('a"b\\.txt'), 'quotes cannot break out');
}

function testRepositoryListsSchedulesWithResolvedRecipientsAndExternalOnes()
{
    dxt_repo_clean();
    $db = Dxt_TestDb::db();
    $orig = $db->query('SELECT recipients, specificemails FROM vtiger_schedulereports WHERE reportid = 26')->fetch_assoc();
    try {
        $repo = dxt_repo();
        // As seeded: users 1 and 5 and reports@example.com; the company
        // website is example.com, so nothing is external.
        $s = $repo->scheduledReports(array(), 3);
        Dxt_Assert::same(1, count($s), 'one schedule');
        $s = $s[0];
        Dxt_Assert::same(array(26, 'Lab Contacts Export Report', 'Contacts', 'admin', 'CSV', 1, '19:24'),
            array($s['report_id'], $s['report_name'], $s['module'], $s['owner'], $s['format'], $s['schedule']['type'], $s['schedule']['time']), 'schedule');
        Dxt_Assert::same(gmmktime(19, 24, 0, 12, 4, 2026), $s['next_trigger_unix'], 'next run');
        Dxt_Assert::same(array('admin@example.com', 'jsmith@example.com', 'reports@example.com'),
            array_column($s['recipients'], 'email'), 'recipients as Vtiger mails them');
        Dxt_Assert::same(0, $s['external_recipients'], 'all internal');
        Dxt_Assert::same(array('user', 'user', 'email'), array_column($s['recipient_entries'], 'kind'), 'entries');

        // Groups, roles and an outside address.
        $db->query("UPDATE vtiger_schedulereports SET recipients = '[\"GROUP::2\",\"ROLE::H5\"]',
            specificemails = '\"reports@example.com,partner@gmail.com\"' WHERE reportid = 26");
        $s = $repo->scheduledReports(array(), 3)[0];
        $emails = array_column($s['recipients'], 'email');
        sort($emails);
        // Group 2 (Team Selling): jsmith, role H4, role H5 and subordinates, and
        // nested group 3 (admin, role H2 = admin and mjones). Role H5: jsmith,
        // old (inactive, still mailed by Vtiger); gone is deleted: never mailed.
        Dxt_Assert::same(array('admin@example.com', 'jsmith@example.com', 'mjones@example.com', 'old@example.com',
            'partner@gmail.com', 'reports@example.com'), $emails, 'resolved');
        $external = array_values(array_filter($s['recipients'], function ($r) {
            return $r['external'];
        }));
        Dxt_Assert::same(array('partner@gmail.com'), array_column($external, 'email'), 'external one flagged');
        Dxt_Assert::same(1, $s['external_recipients'], 'external count');

        // Configured company domains win over the website's.
        $s = $repo->scheduledReports(array('corp.example.net'), 3)[0];
        Dxt_Assert::same(count($s['recipients']), $s['external_recipients'], 'all external for another company');

        // Recent deliveries, newest first, with what the daemon recorded.
        $details = json_encode(array('report_id' => 26, 'recipients' => array(
            array('name' => 'Admin', 'email' => 'admin@example.com', 'via' => 'user', 'external' => false),
            array('name' => '', 'email' => 'partner@gmail.com', 'via' => 'specific', 'external' => true)), 'external_recipients' => 1));
        $cid = dxt_repo_content("a,b\n1,2\n", 'Lab Contacts Export Report.csv', 'text/csv');
        $old = dxt_repo_event(array('occurred_at' => '2026-12-02 19:24:01', 'type' => 'scheduled_report', 'report_id' => 26, 'details' => $details));
        $new = dxt_repo_event(array('occurred_at' => '2026-12-03 19:24:01', 'type' => 'scheduled_report', 'report_id' => 26, 'details' => $details, 'content_id' => $cid));
        dxt_repo_event(array('occurred_at' => '2026-12-03 20:00:00', 'type' => 'report_export', 'report_id' => 26));
        $recent = $repo->scheduledReports(array(), 3)[0]['recent'];
        Dxt_Assert::same(array($new, $old), array_column($recent, 'id'), 'scheduled deliveries only, newest first');
        Dxt_Assert::same(1, $recent[0]['external_recipients'], 'external count from details');
        Dxt_Assert::same(array('admin@example.com', 'partner@gmail.com'), array_column($recent[0]['delivered_to'], 'email'), 'delivered to');
        Dxt_Assert::true($recent[0]['has_content'], 'delivered file kept');
    } finally {
        $stmt = $db->prepare('UPDATE vtiger_schedulereports SET recipients = ?, specificemails = ? WHERE reportid = 26');
        $stmt->bind_param('ss', $orig['recipients'], $orig['specificemails']);
        $stmt->execute();
        $stmt->close();
        dxt_repo_clean();
    }
}

function testRepositoryExternalMeansOutsideEveryCompanyDomain()
{
    $d = array('example.com', '@Corp.Example.net');
    Dxt_Assert::false(Dxt_EventRepository::isExternal('a@example.com', $d), 'same domain');
    Dxt_Assert::false(Dxt_EventRepository::isExternal('a@mail.EXAMPLE.com', $d), 'subdomain, any case');
    Dxt_Assert::false(Dxt_EventRepository::isExternal('a@corp.example.net', $d), 'normalised configured domain');
    Dxt_Assert::true(Dxt_EventRepository::isExternal('a@notexample.com', $d), 'suffix is not a subdomain');
    Dxt_Assert::true(Dxt_EventRepository::isExternal('a@gmail.com', $d), 'public provider');
    Dxt_Assert::true(Dxt_EventRepository::isExternal('nobody', $d), 'no domain');
    Dxt_Assert::true(Dxt_EventRepository::isExternal('a@example.com', array()), 'no company domains');
}

<?php
/** Dxt_Capture and Dxt_IntakeWriter against the test database. */

function probe_writer_db(): mysqli
{
    Dxt_TestDb::reset();
    $db = Dxt_Db::connect(Dxt_TestDb::dbconfig());
    Dxt_Assert::true($db instanceof mysqli, 'connect');
    return $db;
}

/** $n pseudo-random bytes, the same every run. */
function probe_bytes(int $n): string
{
    $s = '';
    $block = hash('sha512', 'dxtracker', true);
    for ($i = 0; strlen($s) < $n; $i++) {
        $block = hash('sha512', $block . $i, true);
        $s .= $block;
    }
    return substr($s, 0, $n);
}

function testCaptureHashesSizesAndSpillsWithoutHoldingEverything()
{
    $data = probe_bytes(3 * 1048576 + 12345);
    $c = new Dxt_Capture(104857600);
    for ($i = 0; $i < strlen($data); $i += 65536) {
        $c->append(substr($data, $i, 65536));
    }
    Dxt_Assert::same(strlen($data), $c->size(), 'size');
    Dxt_Assert::same(strlen($data), $c->storedSize(), 'stored');
    Dxt_Assert::false($c->truncated(), 'not truncated');
    Dxt_Assert::same(hash('sha256', $data), $c->sha256(), 'sha256');
    $meta = stream_get_meta_data($c->stream());
    Dxt_Assert::same('php://temp/maxmemory:1048576', $meta['uri'], 'memory-bounded temp stream');
    Dxt_Assert::sameBytes($data, stream_get_contents($c->stream()), 'kept bytes');
    $c->close();
}

function testCaptureLimitKeepsPrefixButHashesEverything()
{
    $data = probe_bytes(500000);
    $c = new Dxt_Capture(1000, true);
    $c->append(substr($data, 0, 999));
    $c->append(substr($data, 999, 2));
    $c->append(substr($data, 1001));
    Dxt_Assert::same(500000, $c->size(), 'size of everything');
    Dxt_Assert::same(1000, $c->storedSize(), 'kept prefix');
    Dxt_Assert::true($c->truncated(), 'truncated');
    Dxt_Assert::same(hash('sha256', $data), $c->sha256(), 'hash of everything');
    Dxt_Assert::sameBytes(substr($data, 0, 1000), stream_get_contents($c->stream()), 'prefix');
}

function testCaptureWithoutContentKeepsNothing()
{
    $c = new Dxt_Capture(100, true, false, 4);
    $c->append("a,b\n1,2\n");
    Dxt_Assert::same(null, $c->stream(), 'no stream');
    Dxt_Assert::same(0, $c->storedSize(), 'nothing kept');
    Dxt_Assert::false($c->truncated(), 'not truncated when keeping is off');
    Dxt_Assert::same(1, $c->csvDataRows(), 'rows still counted');
    Dxt_Assert::same('a,b' . "\n", $c->head(), 'head');
    Dxt_Assert::same(hash('sha256', "a,b\n1,2\n"), $c->sha256(), 'hash');
    $empty = new Dxt_Capture();
    Dxt_Assert::same(hash('sha256', ''), $empty->sha256(), 'hash of nothing');
}

function testIntakeWriterWritesRowAndMiBChunksInOneTransaction()
{
    $db = probe_writer_db();
    $data = probe_bytes(2 * 1048576 + 777);
    $c = new Dxt_Capture();
    $c->append($data);
    $id = Dxt_IntakeWriter::write($db, array(
        'kind' => 'listview_export',
        'occurred_at' => '2026-12-04 19:21:01.123456',
        'user_id' => 5,
        'module' => 'Contacts',
        'record_count' => 50,
        'client_ip' => '192.0.2.1',
        'user_agent' => 'UA',
        'details' => array('mode' => 'ExportAllData', 'search' => "caf\xc3\xa9 \xff"),
        'content_name' => 'Contacts.csv',
        'content_type' => 'text/csv;charset=UTF-8',
    ), $c);
    Dxt_Assert::true($id > 0, 'intake id');
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same((string) $id, $row['id'], 'id');
    Dxt_Assert::same('listview_export', $row['kind'], 'kind');
    Dxt_Assert::same('2026-12-04 19:21:01.123456', $row['occurred_at'], 'occurred_at with microseconds');
    Dxt_Assert::same('5', $row['user_id'], 'user');
    Dxt_Assert::same('50', $row['record_count'], 'count');
    Dxt_Assert::same((string) strlen($data), $row['content_size'], 'size');
    Dxt_Assert::same(hash('sha256', $data), $row['content_sha256'], 'sha256');
    Dxt_Assert::same(null, $row['processed_at'], 'unprocessed');
    $details = json_decode($row['details'], true);
    Dxt_Assert::same('ExportAllData', $details['mode'], 'details');
    Dxt_Assert::same("caf\xc3\xa9 \xef\xbf\xbd", $details['search'], 'invalid UTF-8 substituted');
    Dxt_Assert::false(isset($details['truncated']), 'not truncated');
    Dxt_Assert::same(array(0 => 1048576, 1 => 1048576, 2 => 777), Dxt_TestDb::chunkSizes($id), 'chunks of 1 MiB, seq from 0');
    Dxt_Assert::same(hash('sha256', $data), hash('sha256', Dxt_TestDb::content($id)), 'chunk bytes');
}

function testIntakeWriterFlagsTruncationInDetails()
{
    $db = probe_writer_db();
    $data = probe_bytes(1048576 + 100);
    $c = new Dxt_Capture(1048576 + 10);
    $c->append($data);
    $id = Dxt_IntakeWriter::write($db, array('kind' => 'report_export', 'details' => '{"report_id":26}'), $c);
    Dxt_Assert::true($id > 0, 'written');
    $row = Dxt_TestDb::onlyIntake();
    $details = json_decode($row['details'], true);
    Dxt_Assert::same(true, $details['truncated'], 'truncated');
    Dxt_Assert::same(1048586, $details['captured_bytes'], 'captured bytes');
    Dxt_Assert::same(26, $details['report_id'], 'details kept');
    Dxt_Assert::same((string) strlen($data), $row['content_size'], 'size of the original');
    Dxt_Assert::same(hash('sha256', $data), $row['content_sha256'], 'hash of the original');
    Dxt_Assert::same(array(0 => 1048576, 1 => 10), Dxt_TestDb::chunkSizes($id), 'only the kept prefix');
    Dxt_Assert::sameBytes(substr($data, 0, 1048586), Dxt_TestDb::content($id), 'prefix bytes');
    Dxt_Assert::true(strlen($row['occurred_at']) === 26, 'default occurred_at has microseconds');
}

function testIntakeWriterRollsBackWhenAChunkFails()
{
    $db = probe_writer_db();
    $admin = Dxt_TestDb::db();
    $admin->query('RENAME TABLE dxt_intake_chunk TO dxt_intake_chunk_away');
    try {
        $c = new Dxt_Capture();
        $c->append('a,b' . "\n");
        Dxt_TestHarness::runnerLog();
        $id = Dxt_IntakeWriter::write($db, array('kind' => 'listview_export'), $c);
        Dxt_Assert::same(0, $id, 'nothing written');
        Dxt_Assert::contains('[dxtracker] intake not written', Dxt_TestHarness::runnerLog(), 'logged');
    } finally {
        $admin->query('RENAME TABLE dxt_intake_chunk_away TO dxt_intake_chunk');
    }
    Dxt_Assert::same(array(), Dxt_TestDb::intakes(), 'the intake row was rolled back');
    // The connection is still usable afterwards and mysqli's report mode is back.
    $driver = new mysqli_driver();
    Dxt_Assert::same(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT, $driver->report_mode, 'report mode restored');
    $c = new Dxt_Capture();
    $c->append('x');
    Dxt_Assert::true(Dxt_IntakeWriter::write($db, array('kind' => 'copy'), $c) > 0, 'next write works');
}

function testIntakeWriterWithoutContentAndMissingKind()
{
    $db = probe_writer_db();
    Dxt_Assert::same(0, Dxt_IntakeWriter::write($db, array('user_id' => 1)), 'no kind');
    $id = Dxt_IntakeWriter::write($db, array('kind' => 'scheduled_report', 'user_id' => '1', 'record_count' => '0', 'module' => str_repeat('M', 300), 'details' => array('reason' => 'x')));
    Dxt_Assert::true($id > 0, 'written');
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same(null, $row['content_size'], 'no size');
    Dxt_Assert::same(null, $row['content_sha256'], 'no hash');
    Dxt_Assert::same('0', $row['record_count'], 'zero count');
    Dxt_Assert::same(100, strlen($row['module']), 'clipped to the column');
    Dxt_Assert::same(array(), Dxt_TestDb::chunkSizes($id), 'no chunks');
}

function testIntakeWriterClipIsUtf8Safe()
{
    Dxt_Assert::same("ab\xc3\xa9", Dxt_IntakeWriter::clip("ab\xc3\xa9cd", 3), 'characters, not bytes');
    Dxt_Assert::same(null, Dxt_IntakeWriter::clip(null, 3), 'null');
    Dxt_Assert::same(1, preg_match('//u', (string) Dxt_IntakeWriter::clip("a\xff\xfeb", 10)), 'valid UTF-8');
    Dxt_Assert::same(1, preg_match('/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/', Dxt_IntakeWriter::nowUtc()), 'DATETIME(6) text');
    Dxt_Assert::same('1970-01-01 00:00:01.500000', Dxt_IntakeWriter::nowUtc(1.5), 'UTC');
}

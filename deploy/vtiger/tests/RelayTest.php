<?php
/**
 * Dxt_RelayWriter: a beacon posted to the extension becomes one `copy`
 * intake row, with the copied text as its content, for the user of the
 * Vtiger session.
 */
require_once dirname(__DIR__) . '/modules/DataExportTracker/lib/RelayWriter.php';

function dxt_relay_config(array $extra = array()): Dxt_Config
{
    return new Dxt_Config($extra + array('track_copy' => '1', 'capture_content' => '1', 'copy_max_chars' => '65536'));
}

function dxt_relay_beacon(array $extra = array()): array
{
    return $extra + array('token' => 'v1.1.1733343200.' . str_repeat('0', 64), 'kind' => 'copy',
        'url' => 'https://crm.example.com/index.php?module=Contacts&view=List', 'module' => 'Contacts', 'view' => 'List',
        'record' => '', 'chars' => 31, 'rows' => 2, 'text' => "Ada\tLovelace\nGrace\tHopper\t日本語🙂\n", 'ts' => 1733300000123);
}

function dxt_relay_server(): array
{
    return array('REMOTE_ADDR' => '203.0.113.9', 'HTTP_X_FORWARDED_FOR' => '198.51.100.1', 'HTTP_USER_AGENT' => 'Mozilla/5.0 (relay test)');
}

function testRelayWritesACopyIntakeRowForTheSessionUserNotTheBodys()
{
    Dxt_TestDb::reset();
    $db = Dxt_Db::connect(Dxt_TestDb::dbconfig());
    $beacon = dxt_relay_beacon(array('user_id' => 1, 'user' => 'admin')); // a forged claim: ignored
    $id = Dxt_RelayWriter::write($db, 5, $beacon, dxt_relay_server(), dxt_relay_config());
    Dxt_Assert::true($id > 0, 'written');
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same('copy', $row['kind'], 'kind');
    Dxt_Assert::same('5', $row['user_id'], 'user from the session');
    Dxt_Assert::same('Contacts', $row['module'], 'module');
    Dxt_Assert::same('2', $row['record_count'], 'rows as record count');
    Dxt_Assert::same('203.0.113.9', $row['client_ip'], 'REMOTE_ADDR; X-Forwarded-For not trusted');
    Dxt_Assert::same('Mozilla/5.0 (relay test)', $row['user_agent'], 'user agent');
    Dxt_Assert::same('copied-text.txt', $row['content_name'], 'content name');
    Dxt_Assert::same('text/plain; charset=utf-8', $row['content_type'], 'content type');
    $text = $beacon['text'];
    Dxt_Assert::same((string) strlen($text), $row['content_size'], 'size of the text');
    Dxt_Assert::same(hash('sha256', $text), $row['content_sha256'], 'sha256 of the text');
    Dxt_Assert::sameBytes($text, Dxt_TestDb::content((int) $row['id']), 'the copied text as content');
    $age = Dxt_TestDb::db()->query("SELECT TIMESTAMPDIFF(SECOND, '" . $row['occurred_at'] . "', UTC_TIMESTAMP(6))")->fetch_row()[0];
    Dxt_Assert::true(abs((int) $age) < 60, 'occurred_at is the server time in UTC, not the client ts');
    $d = json_decode($row['details'], true);
    Dxt_Assert::same('relay', $d['via'], 'via');
    Dxt_Assert::same('copy', $d['action'], 'action');
    Dxt_Assert::same('List', $d['view'], 'view');
    Dxt_Assert::same(null, $d['record'], 'no record on a list view');
    Dxt_Assert::same(31, $d['chars'], 'chars as the browser counted');
    Dxt_Assert::same(2, $d['rows'], 'rows');
    Dxt_Assert::same(false, $d['truncated'], 'not truncated');
    Dxt_Assert::same(1733300000123, $d['client_ts'], 'client time kept in details');
    Dxt_Assert::same('https://crm.example.com/index.php?module=Contacts&view=List', $d['url'], 'url');
    Dxt_Assert::same(hash('sha256', $text), $d['text_sha256'], 'text hash, as the daemon\'s beacon writer');
    $db->close();
}

function testRelayCutsTextAtCopyMaxCharsAndSaysSo()
{
    Dxt_TestDb::reset();
    $db = Dxt_Db::connect(Dxt_TestDb::dbconfig());
    $text = str_repeat('日本語', 10) . '🙂🙂';   // 32 characters, multibyte
    Dxt_RelayWriter::write($db, 5, dxt_relay_beacon(array('text' => $text, 'chars' => 32, 'kind' => 'cut')),
        dxt_relay_server(), dxt_relay_config(array('copy_max_chars' => '31')));
    $row = Dxt_TestDb::onlyIntake();
    $kept = Dxt_TestDb::content((int) $row['id']);
    Dxt_Assert::sameBytes(str_repeat('日本語', 10) . '🙂', $kept, '31 characters kept, none split');
    $d = json_decode($row['details'], true);
    Dxt_Assert::same(true, $d['truncated'], 'truncated flag');
    Dxt_Assert::same(32, $d['chars'], 'the full count stays');
    Dxt_Assert::same('cut', $d['action'], 'a cut is a copy that also removes');

    // The browser cut it already (chars says more than arrived): flagged too.
    Dxt_TestDb::reset();
    Dxt_RelayWriter::write($db, 5, dxt_relay_beacon(array('text' => 'abc', 'chars' => 70000)), dxt_relay_server(), dxt_relay_config());
    Dxt_Assert::same(true, json_decode(Dxt_TestDb::onlyIntake()['details'], true)['truncated'], 'client-side cut flagged');
    $db->close();
}

function testRelayWritesAContextmenuOnlyAsAHintWithoutText()
{
    Dxt_TestDb::reset();
    $db = Dxt_Db::connect(Dxt_TestDb::dbconfig());
    $id = Dxt_RelayWriter::write($db, 5, dxt_relay_beacon(array('kind' => 'contextmenu')), dxt_relay_server(), dxt_relay_config());
    Dxt_Assert::true($id > 0, 'hint written');
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same('contextmenu', $row['kind'], 'a contextmenu hint, not a copy: the daemon makes no event of it');
    Dxt_Assert::same(null, $row['content_name'], 'no text kept for a right-click');
    Dxt_Assert::same(array(), Dxt_TestDb::chunkSizes($id), 'no chunks');
    $d = json_decode($row['details'], true);
    Dxt_Assert::same(array('relay', 'contextmenu'), array($d['via'], $d['action']), 'details');
    Dxt_Assert::false(isset($d['text_sha256']), 'no text hash');
    $db->close();
}

function testRelayWritesNothingWhenCopyTrackingIsOff()
{
    Dxt_TestDb::reset();
    $db = Dxt_Db::connect(Dxt_TestDb::dbconfig());
    Dxt_Assert::same(0, Dxt_RelayWriter::write($db, 5, dxt_relay_beacon(array('kind' => 'contextmenu')), dxt_relay_server(), dxt_relay_config(array('track_copy' => '0'))),
        'contextmenu with track_copy off');
    Dxt_Assert::same(0, Dxt_RelayWriter::write($db, 5, dxt_relay_beacon(), dxt_relay_server(), dxt_relay_config(array('track_copy' => '0'))),
        'track_copy off');
    Dxt_Assert::same(0, Dxt_RelayWriter::write($db, 5, dxt_relay_beacon(), dxt_relay_server(), Dxt_Config::unavailable()),
        'dxt_config unreadable');
    Dxt_Assert::same(array(), Dxt_TestDb::intakes(), 'no intake rows');

    // capture_content off: the row, without the text.
    Dxt_RelayWriter::write($db, 5, dxt_relay_beacon(), dxt_relay_server(), dxt_relay_config(array('capture_content' => '0')));
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same(null, $row['content_name'], 'no content');
    Dxt_Assert::same(array(), Dxt_TestDb::chunkSizes((int) $row['id']), 'no chunks');
    Dxt_Assert::same(hash('sha256', dxt_relay_beacon()['text']), json_decode($row['details'], true)['text_sha256'], 'text hash kept for the repeat merge');
    $db->close();
}

function testRelayRefusesMalformedBeacons()
{
    Dxt_TestDb::reset();
    $db = Dxt_Db::connect(Dxt_TestDb::dbconfig());
    $bad = array(
        'unknown kind' => array('kind' => 'paste'),
        'no kind' => array('kind' => null),
        'negative chars' => array('chars' => -1),
        'chars as text' => array('chars' => '12'),
        'fractional rows' => array('rows' => 1.5),
        'text not a string' => array('text' => array('a')),
        'url not a string' => array('url' => 42),
    );
    foreach ($bad as $what => $change) {
        try {
            Dxt_RelayWriter::write($db, 5, array_merge(dxt_relay_beacon(), $change), dxt_relay_server(), dxt_relay_config());
            Dxt_Assert::fail($what . ' accepted');
        } catch (Dxt_RelayException $e) {
            Dxt_Assert::same(400, $e->getCode(), $what);
        }
    }
    try {
        Dxt_RelayWriter::write($db, 0, dxt_relay_beacon(), dxt_relay_server(), dxt_relay_config());
        Dxt_Assert::fail('no session user accepted');
    } catch (Dxt_RelayException $e) {
        Dxt_Assert::same(401, $e->getCode(), 'no session user');
    }
    Dxt_Assert::same(array(), Dxt_TestDb::intakes(), 'nothing written');
    $db->close();

    foreach (array('[1,2]' => 400, '"x"' => 400, '{"kind":' => 400, '' => 400) as $body => $status) {
        try {
            Dxt_RelayWriter::parseBody($body);
            Dxt_Assert::fail('body ' . $body . ' accepted');
        } catch (Dxt_RelayException $e) {
            Dxt_Assert::same($status, $e->getCode(), 'body ' . $body);
        }
    }
    try {
        Dxt_RelayWriter::parseBody(json_encode(array('kind' => 'copy', 'text' => str_repeat('x', 131072))));
        Dxt_Assert::fail('over 128 KiB accepted');
    } catch (Dxt_RelayException $e) {
        Dxt_Assert::same(413, $e->getCode(), 'too large');
    }
    Dxt_Assert::same('copy', Dxt_RelayWriter::parseBody('{"kind":"copy","rows":17.0}')['kind'], 'a good body');
}

function testRelayHonoursForwardedForOnlyFromTrustedProxies()
{
    Dxt_TestDb::reset();
    $db = Dxt_Db::connect(Dxt_TestDb::dbconfig());
    $server = array('REMOTE_ADDR' => '10.0.0.2', 'HTTP_X_FORWARDED_FOR' => '198.51.100.7');
    Dxt_RelayWriter::write($db, 5, dxt_relay_beacon(), $server, dxt_relay_config(array('trusted_proxies' => '10.0.0.0/8')));
    Dxt_Assert::same('198.51.100.7', Dxt_TestDb::onlyIntake()['client_ip'], 'client behind a trusted proxy');
    $db->close();
}

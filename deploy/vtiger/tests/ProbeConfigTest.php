<?php
/** Dxt_Config and Dxt_Db: settings, defaults, fail-open, connection targets. */

function testConfigReadsStoredValuesAndDefaults()
{
    Dxt_TestDb::reset();
    Dxt_TestDb::setConfig('track_report_export', '0');
    Dxt_TestDb::setConfig('capture_max_bytes', '2048');
    Dxt_TestDb::setConfig('trusted_proxies', '10.0.0.0/8, 192.168.1.1 ::1');
    Dxt_TestDb::db()->query("DELETE FROM dxt_config WHERE name = 'copy_max_chars'");
    $db = Dxt_Db::connect(Dxt_TestDb::dbconfig());
    $c = Dxt_Config::load($db);
    Dxt_Assert::true($c->loaded(), 'loaded');
    Dxt_Assert::true($c->tracks('listview_export'), 'listview on');
    Dxt_Assert::false($c->tracks('report_export'), 'report off');
    Dxt_Assert::true($c->tracks('scheduled_report'), 'scheduled on');
    Dxt_Assert::false($c->tracks('unknown'), 'unknown kind');
    Dxt_Assert::same(2048, $c->captureMaxBytes(), 'capture_max_bytes');
    Dxt_Assert::same(65536, $c->copyMaxChars(), 'default for a missing key');
    Dxt_Assert::same(64, strlen($c->beaconSecret()), 'beacon secret as stored');
    Dxt_Assert::same(array('10.0.0.0/8', '192.168.1.1', '::1'), $c->trustedProxies(), 'trusted proxies');
    Dxt_Assert::same('1', $c->get('capture_content', '1'), 'get with default');
    Dxt_Assert::same('x', $c->get('no_such_key', 'x'), 'missing key with default');
    Dxt_TestDb::reset();
}

function testConfigUnreadableTracksNothing()
{
    $db = Dxt_Db::connect(Dxt_TestDb::dbconfig());
    $admin = Dxt_TestDb::db();
    $admin->query('RENAME TABLE dxt_config TO dxt_config_away');
    try {
        Dxt_TestHarness::runnerLog();
        $c = Dxt_Config::load($db);
    } finally {
        $admin->query('RENAME TABLE dxt_config_away TO dxt_config');
    }
    Dxt_Assert::false($c->loaded(), 'not loaded');
    foreach (array('listview_export', 'report_export', 'scheduled_report', 'copy') as $k) {
        Dxt_Assert::false($c->tracks($k), $k . ' not tracked');
    }
    Dxt_Assert::false($c->captureContent(), 'no capture');
    Dxt_Assert::contains('[dxtracker] cannot read dxt_config', Dxt_TestHarness::runnerLog(), 'logged');
}

function testDbTargetUnderstandsVtigerPortForms()
{
    $t = Dxt_Db::target(array('db_server' => 'db.example', 'db_port' => ':3307', 'db_username' => 'u', 'db_password' => 'secret', 'db_name' => 'vt'));
    Dxt_Assert::same(array('db.example', 3307, null), array($t['host'], $t['port'], $t['socket']), ':port');
    Dxt_Assert::same('db.example:3307/vt', $t['where'], 'printable place without password');
    $t = Dxt_Db::target(array('db_server' => 'localhost', 'db_port' => '3306'));
    Dxt_Assert::same(array('localhost', 3306), array($t['host'], $t['port']), 'bare port');
    $t = Dxt_Db::target(array('db_server' => 'localhost:3308', 'db_port' => ''));
    Dxt_Assert::same(array('localhost', 3308), array($t['host'], $t['port']), 'host:port');
    $t = Dxt_Db::target(array('db_server' => 'localhost', 'db_port' => ':/run/mysqld/mysqld.sock'));
    Dxt_Assert::same('/run/mysqld/mysqld.sock', $t['socket'], 'socket');
    $t = Dxt_Db::target(array('db_server' => '[::1]:3309'));
    Dxt_Assert::same(array('::1', 3309), array($t['host'], $t['port']), '[IPv6]:port');
    $t = Dxt_Db::target(array());
    Dxt_Assert::same(array('localhost', 3306), array($t['host'], $t['port']), 'defaults');
}

function testDbConnectFailsQuietlyAndQuickly()
{
    $cfg = Dxt_TestDb::dbconfig();
    $cfg['db_port'] = ':' . Dxt_TestHarness::deadPort();
    Dxt_TestHarness::runnerLog();
    $t = microtime(true);
    $db = Dxt_Db::connect($cfg);
    Dxt_Assert::same(null, $db, 'no connection');
    Dxt_Assert::true(microtime(true) - $t < 3, 'within the connect timeout');
    $log = Dxt_TestHarness::runnerLog();
    Dxt_Assert::contains('[dxtracker] cannot connect to the Vtiger database', $log, 'logged');
    Dxt_Assert::notContains((string) $cfg['db_password'] !== '' ? $cfg['db_password'] : 'never-in-log', $log, 'no password');
    $cfg = Dxt_TestDb::dbconfig();
    $cfg['db_password'] = 'wrong-password-xyz';
    Dxt_Assert::same(null, Dxt_Db::connect($cfg), 'bad password');
    Dxt_Assert::notContains('wrong-password-xyz', Dxt_TestHarness::runnerLog(), 'password not logged');
}

function testLogQuietlyTurnsWarningsAndThrowablesIntoLogLines()
{
    Dxt_TestHarness::runnerLog();
    $r = Dxt_Log::quietly('unit', function () {
        $a = array();
        return 'ran' . $a['really-missing'];
    }, 'fallback');
    Dxt_Assert::same('ran', $r, 'ran to the end');
    $log = Dxt_TestHarness::runnerLog();
    Dxt_Assert::contains('[dxtracker] unit: PHP warning: Undefined array key "really-missing"', $log, 'warning logged');
    $r = Dxt_Log::quietly('unit2', function () {
        throw new RuntimeException('boom');
    }, 'fallback');
    Dxt_Assert::same('fallback', $r, 'fallback after a throwable');
    Dxt_Assert::contains('[dxtracker] unit2: RuntimeException: boom', Dxt_TestHarness::runnerLog(), 'throwable logged');
}

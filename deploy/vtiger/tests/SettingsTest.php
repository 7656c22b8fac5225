<?php
/** Dxt_Settings: the Configuration tab's validation (as tracker/settings.go) and save. */
require_once dirname(__DIR__) . '/modules/DataExportTracker/lib/Settings.php';

function dxt_settings_expect_error(string $name, $value): void
{
    try {
        $got = Dxt_Settings::validate($name, $value);
    } catch (Dxt_SettingsException $e) {
        Dxt_Assert::same($name, $e->getName(), 'error names the key');
        Dxt_Assert::contains($name . ': ', $e->getMessage(), 'message starts with the key');
        return;
    }
    Dxt_Assert::fail(sprintf('%s = %s should be refused, got %s', $name, json_encode($value), json_encode($got)));
}

function testSettingsSwitchesAcceptWhatTheDaemonAccepts()
{
    foreach (array('1', 'true', 'ON', 'Yes', ' on ', true) as $v) {
        Dxt_Assert::same('1', Dxt_Settings::validate('track_copy', $v), json_encode($v));
    }
    foreach (array('0', 'false', 'Off', 'no', '', false) as $v) {
        Dxt_Assert::same('0', Dxt_Settings::validate('track_listview_export', $v), json_encode($v));
    }
    foreach (array('2', 'enabled', 'y', array('1')) as $v) {
        dxt_settings_expect_error('track_report_export', $v);
    }
}

function testSettingsNumbersHaveTheDaemonsRanges()
{
    Dxt_Assert::same('0', Dxt_Settings::validate('notify_min_records', '0'), 'zero records');
    Dxt_Assert::same('5', Dxt_Settings::validate('notify_min_records', '+5'), 'sign, like strconv.ParseInt');
    Dxt_Assert::same('7', Dxt_Settings::validate('notify_min_records', '007'), 'leading zeros');
    Dxt_Assert::same('1', Dxt_Settings::validate('retention_days', ' 1 '), 'one day, blanks trimmed');
    Dxt_Assert::same('36500', Dxt_Settings::validate('retention_days', 36500), 'a hundred years');
    foreach (array('-1', '1.5', '1e3', 'abc', '', '2147483648', '99999999999999999999999') as $v) {
        dxt_settings_expect_error('notify_min_records', $v);
    }
    foreach (array('0', '36501', '-5', ' ') as $v) {
        dxt_settings_expect_error('retention_days', $v);
    }
    Dxt_Assert::same('0', Dxt_Settings::validate('copy_max_chars', '0'), 'copy_max_chars may be 0');
    dxt_settings_expect_error('copy_max_chars', '10485761');
}

function testSettingsNotifyEmailIsAListOfPlainAddresses()
{
    Dxt_Assert::same('', Dxt_Settings::validate('notify_admin_email', '  '), 'empty = log only');
    Dxt_Assert::same('security@example.com', Dxt_Settings::validate('notify_admin_email', 'security@example.com'), 'one');
    Dxt_Assert::same('a@example.com,b.c+tag@sub.example.org,x@localhost',
        Dxt_Settings::validate('notify_admin_email', " a@example.com; b.c+tag@sub.example.org,\n x@localhost ,, "), 'several, any separator');
    foreach (array('security', 'a@', '@example.com', 'Bob <bob@example.com>', 'a b@example.com', 'a@example..com', 'a@b@c', 'ok@example.com, nope') as $v) {
        dxt_settings_expect_error('notify_admin_email', $v);
    }
}

function testSettingsDomainsAndBeaconUrl()
{
    Dxt_Assert::same('example.com,example.co.jp', Dxt_Settings::validate('company_domains', 'Example.COM; example.co.jp'), 'domains lowercased');
    foreach (array('example', 'a@example.com', 'http://example.com', 'exa mple.com') as $v) {
        dxt_settings_expect_error('company_domains', $v);
    }
    foreach (array('', 'relay', '/dxtracker/api/v1/beacons', 'https://crm.example.com/dxt/beacons', 'http://10.0.0.5:8788/api/v1/beacons') as $v) {
        Dxt_Assert::same($v, Dxt_Settings::validate('beacon_url', $v), json_encode($v));
    }
    foreach (array('//evil.example.com/x', 'javascript:alert(1)', 'ftp://example.com/', 'https://user:pw@example.com/', '/a b', '/x"onload', 'relay2') as $v) {
        dxt_settings_expect_error('beacon_url', $v);
    }
}

function testSettingsNeverTouchTheBeaconSecretOrUnknownKeys()
{
    dxt_settings_expect_error('beacon_secret', str_repeat('x', 40));
    dxt_settings_expect_error('no_such_setting', '1');
    Dxt_Assert::false(Dxt_Settings::isEditable('beacon_secret'), 'secret not editable');
}

function testSettingsNotificationAndDigestKeysValidateLikeTheDaemon()
{
    // Defaults as tracker/settings.go.
    foreach (array('notify_language' => 'en', 'notify_attach_content' => '0', 'notify_max_per_minute' => '10',
        'notify_webhook_url' => '', 'digest_enabled' => '0', 'digest_schedule' => '0 8 * * *', 'digest_timezone' => 'UTC') as $k => $d) {
        Dxt_Assert::true(Dxt_Settings::isEditable($k), $k . ' editable');
        Dxt_Assert::same($d, Dxt_Settings::defaultValue($k), $k . ' default');
    }
    Dxt_Assert::same('ja', Dxt_Settings::validate('notify_language', ' JA '), 'language lowercased');
    foreach (array('fr', 'english', '') as $v) {
        dxt_settings_expect_error('notify_language', $v);
    }
    Dxt_Assert::same('1', Dxt_Settings::validate('notify_attach_content', 'on'), 'switch');
    Dxt_Assert::same('1', Dxt_Settings::validate('digest_enabled', true), 'switch');
    Dxt_Assert::same('10000', Dxt_Settings::validate('notify_max_per_minute', '10000'), 'upper bound');
    foreach (array('0', '10001', 'ten') as $v) {
        dxt_settings_expect_error('notify_max_per_minute', $v);
    }
    Dxt_Assert::same('https://hooks.example.com/services/T0/B0/x?y=1', Dxt_Settings::validate('notify_webhook_url', 'https://hooks.example.com/services/T0/B0/x?y=1'), 'https URL');
    Dxt_Assert::same('', Dxt_Settings::validate('notify_webhook_url', ' '), 'empty: no webhook');
    foreach (array('ftp://example.com/x', 'https://user:pw@example.com/x', '/relative', 'hooks.example.com', 'https://', 'https://a b.com/') as $v) {
        dxt_settings_expect_error('notify_webhook_url', $v);
    }
    foreach (array('0 8 * * *', '30 7 * * 1-5', '*/15 0-6,22-23 1,15 jan-mar MON-FRI', '0 0 ? * sun', '@daily', '@every 1h30m',
        'CRON_TZ=Asia/Tokyo 0 8 * * *', '0 8 31 12 6') as $v) {
        Dxt_Assert::same($v, Dxt_Settings::validate('digest_schedule', $v), 'cron ' . $v);
    }
    foreach (array('', '0 8 * *', '0 8 * * * *', '60 8 * * *', '0 24 * * *', '0 8 0 * *', '0 8 * 13 *', '0 8 * * 7', '0 8 * * xyz',
        '*/0 * * * *', '5-2 * * * *', '@sometimes', '@every', 'TZ=Mars/Base 0 8 * * *') as $v) {
        dxt_settings_expect_error('digest_schedule', $v);
    }
    Dxt_Assert::same('Asia/Tokyo', Dxt_Settings::validate('digest_timezone', 'Asia/Tokyo'), 'IANA zone');
    Dxt_Assert::same('UTC', Dxt_Settings::validate('digest_timezone', 'UTC'), 'UTC');
    foreach (array('', 'Local', 'asia/tokyo', 'Mars/Base', '+09:00', 'JST-9') as $v) {
        dxt_settings_expect_error('digest_timezone', $v);
    }
}

function dxt_settings_rows(mysqli $db): array
{
    $out = array();
    foreach ($db->query('SELECT name, value, updated_at FROM dxt_config ORDER BY name')->fetch_all(MYSQLI_ASSOC) as $r) {
        $out[$r['name']] = $r;
    }
    return $out;
}

function testSettingsSaveWritesEveryValueInOneTransactionWithUtcTimes()
{
    Dxt_TestDb::reset();
    $db = Dxt_Db::connect(Dxt_TestDb::dbconfig());
    // A session in Tokyo time must still store UTC.
    $db->query("SET time_zone = '+09:00'");
    $secretBefore = dxt_settings_rows(Dxt_TestDb::db())['beacon_secret']['value'];
    $saved = Dxt_Settings::save($db, array(
        'track_copy' => 'off',
        'notify_admin_email' => 'sec@example.com; ciso@example.com',
        'notify_min_records' => '100',
        'retention_days' => '90',
        'beacon_url' => 'relay',
    ));
    Dxt_Assert::same(array('beacon_url' => 'relay', 'notify_admin_email' => 'sec@example.com,ciso@example.com',
        'notify_min_records' => '100', 'retention_days' => '90', 'track_copy' => '0'), $saved, 'normalised values');
    $rows = dxt_settings_rows(Dxt_TestDb::db());
    foreach ($saved as $k => $v) {
        Dxt_Assert::same($v, $rows[$k]['value'], $k);
    }
    $utc = Dxt_TestDb::db()->query("SELECT TIMESTAMPDIFF(SECOND, '" . $rows['track_copy']['updated_at'] . "', UTC_TIMESTAMP(6))")->fetch_row()[0];
    Dxt_Assert::true(abs((int) $utc) < 60, 'updated_at is UTC (off by ' . $utc . ' s)');
    Dxt_Assert::same($secretBefore, $rows['beacon_secret']['value'], 'secret untouched');

    $loaded = Dxt_Settings::load($db);
    Dxt_Assert::same('0', $loaded['track_copy'], 'load');
    Dxt_Assert::same('1', $loaded['track_report_export'], 'load keeps others');
    Dxt_Assert::false(isset($loaded['beacon_secret']), 'load never returns the secret');
    $db->close();
    Dxt_TestDb::db()->query("DELETE FROM dxt_config WHERE name = 'beacon_url'");
}

function testSettingsSaveRecordsWhoSetEachValue()
{
    Dxt_TestDb::reset();
    $db = Dxt_Db::connect(Dxt_TestDb::dbconfig());
    $who = function (string $name): ?string {
        $stmt = Dxt_TestDb::db()->prepare('SELECT updated_by FROM dxt_config WHERE name = ?');
        $stmt->bind_param('s', $name);
        $stmt->execute();
        $row = $stmt->get_result()->fetch_row();
        $stmt->close();
        return $row[0];
    };
    Dxt_Settings::save($db, array('retention_days' => '90', 'track_copy' => '1'), 'alice');
    Dxt_Assert::same('alice', $who('retention_days'), 'explicit user name');
    Dxt_Assert::same('alice', $who('track_copy'), 'every row of the save');

    $saved = isset($GLOBALS['current_user']) ? $GLOBALS['current_user'] : null;
    try {
        // As in Vtiger's web UI: the logged-in administrator is the global $current_user.
        $GLOBALS['current_user'] = (object) array('id' => 1, 'user_name' => 'admin');
        Dxt_Settings::save($db, array('retention_days' => '120'));
        Dxt_Assert::same('admin', $who('retention_days'), '$current_user by default');
        Dxt_Assert::same('alice', $who('track_copy'), 'rows not saved keep their author');
    } finally {
        $GLOBALS['current_user'] = $saved;
    }
    $db->close();
    Dxt_TestDb::reset();
}

function testSettingsSaveWritesNothingWhenAnyValueIsWrong()
{
    Dxt_TestDb::reset();
    $db = Dxt_Db::connect(Dxt_TestDb::dbconfig());
    $before = dxt_settings_rows(Dxt_TestDb::db());
    try {
        Dxt_Settings::save($db, array('track_copy' => '0', 'retention_days' => '0', 'notify_admin_email' => 'not-an-address'));
        Dxt_Assert::fail('save should refuse');
    } catch (Dxt_SettingsValidationException $e) {
        Dxt_Assert::same(array('notify_admin_email', 'retention_days'), array_keys($e->getErrors()), 'every wrong value named');
    }
    Dxt_Assert::same($before, dxt_settings_rows(Dxt_TestDb::db()), 'nothing written');
    $db->close();
}

function testSettingsLoadShowsDefaultsForMissingOrBrokenRows()
{
    Dxt_TestDb::reset();
    Dxt_TestDb::setConfig('retention_days', 'forever');
    Dxt_TestDb::db()->query("DELETE FROM dxt_config WHERE name = 'notify_min_records'");
    $db = Dxt_Db::connect(Dxt_TestDb::dbconfig());
    $v = Dxt_Settings::load($db);
    Dxt_Assert::same('365', $v['retention_days'], 'broken value shows the default, like the daemon');
    Dxt_Assert::same('0', $v['notify_min_records'], 'missing row shows the default');
    Dxt_Assert::same('', $v['beacon_url'], 'extension-only key defaults to empty');
    $db->close();
    Dxt_TestDb::reset();
}

<?php
/**
 * The Settings page under attack, against the real test database:
 * injection attempts in every filter of the tracking log (the repository
 * and the rendered page), and who may see the log or download captured
 * content (administrators only: not a non-admin, not an administrator
 * made inactive, not an anonymous request), every download logged.
 */
require_once __DIR__ . '/SettingsVtigerStubs.php';
require_once __DIR__ . '/RepositoryTest.php';
require_once __DIR__ . '/SettingsPageTest.php';

/** Injection attempts, quoting tricks, NUL, invalid UTF-8, Unicode, very long text. */
function dxt_sqli_payloads(): array
{
    return array(
        "' OR 1=1 --", "' OR '1'='1", "admin' -- ", "admin' #", '" OR ""="', '"; DROP TABLE dxt_event; --',
        "'; DROP TABLE dxt_event; --", "1; DELETE FROM dxt_event", "\\' UNION SELECT token_hash FROM dxt_api_token --",
        "\\\\' OR 1=1 -- ", "\\", "' UNION SELECT user_name, accesskey FROM vtiger_users --", "1' AND SLEEP(5) --",
        "1) OR (1=1", "%' OR '%'='", "_%", "a\0' OR 1=1 --", "\0", "\x1a' OR 1=1 --", "/*!50000 OR 1=1*/",
        "\xef\xbc\x87 OR 1=1 --", "\xbf' OR 1=1 --", "\xc0\xa7 OR 1=1", "ユーザー' OR 1=1 -- 😀", "\u{202e}' OR 1=1 --",
        "2026-01-01' OR 1=1 --", "2026-12-04 10:00:00' OR '1'='1", "0x27", "CHAR(39)",
        str_repeat("' OR 1=1 -- ", 1000), str_repeat('A', 60000),
    );
}

/** Row count of every table of the test database. */
function dxt_table_counts(): array
{
    $db = Dxt_TestDb::db();
    $out = array();
    foreach ($db->query('SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name')->fetch_all() as $r) {
        $out[$r[0]] = (int) $db->query('SELECT COUNT(*) FROM `' . $r[0] . '`')->fetch_row()[0];
    }
    return $out;
}

function testSettingsLogFiltersAreHarmlessAgainstTheRealDatabase()
{
    dxt_repo_clean();
    $a = dxt_repo_event(array('user_name' => 'admin', 'module' => 'Contacts', 'type' => 'listview_export', 'ip' => '10.0.0.1'));
    $b = dxt_repo_event(array('user_name' => 'jsmith', 'module' => 'Leads', 'type' => 'copy', 'occurred_at' => '2026-12-04 11:00:00.000000'));
    $before = dxt_table_counts();
    $repo = dxt_repo();
    foreach (dxt_sqli_payloads() as $p) {
        $what = json_encode(substr($p, 0, 40), JSON_INVALID_UTF8_SUBSTITUTE);
        // Equality filters: bound, so they match nothing.
        foreach (array('user', 'type', 'module', 'ip') as $key) {
            try {
                $page = $repo->listEvents(array($key => $p));
                Dxt_Assert::same(array(), dxt_repo_ids($page), "$key = $what");
            } catch (RuntimeException $e) {
                // The server may refuse text its column cannot hold (invalid
                // UTF-8): an error, never a wider result.
                Dxt_Assert::contains('dxtracker query failed', $e->getMessage(), "$key = $what");
                Dxt_Assert::notContains('syntax', $e->getMessage(), "$key = $what");
            }
        }
        // Times and cursors are checked before any query.
        foreach (array('from', 'to', 'after', 'before') as $key) {
            try {
                $repo->listEvents(array($key => $p));
                Dxt_Assert::fail("$key = $what accepted");
            } catch (InvalidArgumentException $e) {
                Dxt_Assert::true(true);
            }
        }
        foreach (array(array($p, ''), array('', $p)) as $days) {
            if (trim($p) === '') {
                // trim() takes NUL too: no day given, no bound.
                Dxt_Assert::same(array('from' => null, 'to' => null), Dxt_EventRepository::dayRangeToUtc($days[0], $days[1], 'UTC'), "day $what");
                continue;
            }
            try {
                Dxt_EventRepository::dayRangeToUtc($days[0], $days[1], 'UTC');
                Dxt_Assert::fail("day $what accepted");
            } catch (InvalidArgumentException $e) {
                Dxt_Assert::true(true);
            }
        }
        // An unknown time zone from the user's preferences counts as UTC.
        Dxt_EventRepository::dayRangeToUtc('2026-12-04', '2026-12-04', $p);
    }
    $choices = $repo->filterChoices();
    Dxt_Assert::same(array('admin', 'jsmith'), $choices['users'], 'filter menu users');

    // Through the page: every filter field of the log tab, also combined.
    if (dxt_stub_smarty() !== null) {
        foreach (dxt_sqli_payloads() as $p) {
            $what = json_encode(substr($p, 0, 40), JSON_INVALID_UTF8_SUBSTITUTE);
            foreach (array('dxt_user', 'dxt_type', 'dxt_module', 'dxt_from', 'dxt_to', 'after', 'before') as $field) {
                $html = dxt_page_render('logs', array($field => $p));
                Dxt_Assert::notContains('action=Download&event=' . $a . '"', $html, "$field = $what shows event $a");
                if (in_array($field, array('dxt_user', 'dxt_type', 'dxt_module'), true)) {
                    Dxt_Assert::notContains('>jsmith</td>', $html, "$field = $what shows event $b");
                }
                Dxt_Assert::notContains('SQL syntax', $html, "$field = $what");
            }
        }
        $html = dxt_page_render('logs', array('dxt_user' => "' OR 1=1 --", 'dxt_type' => 'copy', 'dxt_module' => '"; DROP TABLE dxt_event; --',
            'dxt_from' => '2026-12-01', 'dxt_to' => "2026-12-31' --", 'after' => "' OR 1=1 --"));
        Dxt_Assert::notContains('SQL syntax', $html, 'all filters at once');
    } else {
        fwrite(STDERR, "    page part skipped: Smarty is not installed (apt-get install smarty4)\n");
    }
    Dxt_Assert::same($before, dxt_table_counts(), 'every table has the rows it had');
    dxt_repo_clean();
}

/** The three ways in that are not an active administrator. */
function dxt_not_admins(): array
{
    return array(
        'non-admin' => new Users_Record_Model(array('id' => 5, 'user_name' => 'jsmith', 'is_admin' => 'off', 'status' => 'Active')),
        'inactive admin' => new Users_Record_Model(array('id' => 7, 'user_name' => 'old', 'is_admin' => 'on', 'status' => 'Inactive')),
        'admin without status' => new Users_Record_Model(array('id' => 9, 'user_name' => 'x', 'is_admin' => 'on')),
        'anonymous' => null,
    );
}

function testSettingsLogAndDownloadAreRefusedToAllButActiveAdministrators()
{
    $handlers = array(
        new Settings_DataExportTracker_Index_View(),
        new Settings_DataExportTracker_Download_Action(),
        new Settings_DataExportTracker_SaveConfig_Action(),
    );
    $GLOBALS['dbconfig'] = Dxt_TestDb::dbconfig();
    foreach (dxt_not_admins() as $who => $user) {
        Users_Record_Model::$current = $user;
        foreach ($handlers as $h) {
            try {
                $h->checkPermission(dxt_page_request(array('tab' => 'logs', 'event' => '1')));
                Dxt_Assert::fail(get_class($h) . ' let the ' . $who . ' in');
            } catch (AppException $e) {
                Dxt_Assert::contains('LBL_PERMISSION_DENIED', $e->getMessage(), get_class($h) . ' for the ' . $who);
            }
        }
    }
    dxt_stub_login('admin');
    foreach ($handlers as $h) {
        Dxt_Assert::true($h->checkPermission(dxt_page_request(array())), get_class($h) . ' for an active admin');
    }
}

function testSettingsEveryDownloadIsLoggedWithWhoWhenWhichAndFromWhere()
{
    dxt_repo_clean();
    $bytes = "name,email\nAda,ada@example.com\n";
    $eid = dxt_repo_event(array('content_id' => dxt_repo_content($bytes, 'Contacts.csv', 'text/csv')));
    $db = Dxt_Db::connect(Dxt_TestDb::dbconfig());
    $sink = function ($piece) {
    };
    $cases = array(
        array($eid, array('principal' => 'admin', 'remote_ip' => '192.0.2.1', 'path' => '/index.php?action=Download&event=' . $eid), 200),
        array($eid, array('principal' => 'admin', 'remote_ip' => '2001:db8::1', 'path' => '/x'), 200),
        array(999999, array('principal' => 'admin', 'remote_ip' => '192.0.2.2', 'path' => '/index.php?event=999999'), 404),
        array(0, array('principal' => 'admin', 'remote_ip' => '192.0.2.3', 'path' => "/index.php?event=1' OR 1=1 --"), 404),
    );
    $start = gmdate('Y-m-d H:i:s', time() - 2);
    foreach ($cases as $c) {
        Dxt_Assert::same($c[2], Settings_DataExportTracker_Download_Action::download($db, $c[0], $c[1], $sink), 'status for event ' . $c[0]);
    }
    $end = gmdate('Y-m-d H:i:s', time() + 2);
    $rows = Dxt_TestDb::db()->query('SELECT * FROM dxt_access_log ORDER BY id')->fetch_all(MYSQLI_ASSOC);
    Dxt_Assert::same(count($cases), count($rows), 'one access-log row per download attempt');
    foreach ($cases as $i => $c) {
        $r = $rows[$i];
        Dxt_Assert::same(array('admin', 'vtiger', 'content_download', $c[0] > 0 ? (string) $c[0] : null, $c[1]['remote_ip'], $c[1]['path'], (string) $c[2]),
            array($r['principal'], $r['auth_method'], $r['action'], $r['event_id'], $r['remote_ip'], $r['path'], $r['status']), 'row ' . $i);
        Dxt_Assert::true($r['at'] >= $start && $r['at'] <= $end, 'row ' . $i . ' at ' . $r['at']);
    }
    // The download action of a request: the page's process() takes the id
    // from the request and the address from the server variables.
    dxt_stub_login('admin');
    $_SERVER['REMOTE_ADDR'] = '198.51.100.7';
    $_SERVER['REQUEST_URI'] = '/index.php?module=DataExportTracker&parent=Settings&action=Download&event=abc%27';
    ob_start();
    (new Settings_DataExportTracker_Download_Action())->process(dxt_page_request(array('action' => 'Download', 'event' => "abc'")));
    ob_end_clean();
    $last = Dxt_TestDb::db()->query('SELECT principal, event_id, remote_ip, status FROM dxt_access_log ORDER BY id DESC LIMIT 1')->fetch_assoc();
    Dxt_Assert::same(array('principal' => 'admin', 'event_id' => null, 'remote_ip' => '198.51.100.7', 'status' => '404'), $last, 'refused download by request logged');
    unset($_SERVER['REMOTE_ADDR'], $_SERVER['REQUEST_URI']);
    $db->close();
    dxt_repo_clean();
}

<?php
/**
 * What the probe adds to a list-view export.
 *
 *   php deploy/vtiger/tests/bench_probe.php [--rows=10000] [--runs=9]
 *
 * (with DXT_TEST_DB_HOST, DXT_TEST_DB_PORT, DXT_TEST_DB_USER,
 * DXT_TEST_DB_PASS, DXT_TEST_DB_NAME naming a database with the Vtiger
 * schema and the dxt_ tables; `go test -run TestProbeOverheadOn10000RowExport
 * -v ./deploy/vtiger` sets them up and runs this.)
 *
 * The stand-in Vtiger serves a Vtiger-like export: all rows fetched from
 * MariaDB first, then one fputcsv per row into php://output, with
 * csrf-magic's buffer on top as in Vtiger's WebUI. The same request goes to
 * a server with the probe and to one without, alternately, several times;
 * the medians of the wall times (request sent to last byte received) are
 * compared. Then the probe's own work is timed in-process, piece by piece.
 *
 * The stand-in's export is much cheaper than Vtiger's own (Vtiger builds the
 * query through its query generator and formats every value per field type),
 * so the ratio printed here is an upper bound of the ratio in Vtiger; the
 * added milliseconds are the probe's.
 */
error_reporting(E_ALL);
ini_set('display_errors', 'stderr');
$ext = dirname(__DIR__) . '/modules/DataExportTracker';
foreach (array('Log', 'Db', 'Config', 'ClientIp', 'CsvCounter', 'Capture', 'IntakeWriter') as $lib) {
    require_once $ext . '/lib/' . $lib . '.php';
}
require_once __DIR__ . '/lib/Assert.php';
require_once __DIR__ . '/lib/TestDb.php';
require_once __DIR__ . '/lib/Harness.php';
require_once __DIR__ . '/lib/ProbeRequests.php';
require_once __DIR__ . '/harness/docroot/harness/common.php';
ini_set('error_log', Dxt_TestHarness::tempDir() . '/bench.log');

$opts = getopt('', array('rows::', 'runs::'));
$rows = isset($opts['rows']) ? max(1, (int) $opts['rows']) : 10000;
$runs = isset($opts['runs']) ? max(3, (int) $opts['runs']) : 9;

if (!Dxt_TestDb::configured()) {
    fwrite(STDERR, "bench_probe: set DXT_TEST_DB_* (see the comment at the top)\n");
    exit(2);
}

function bench_median(array $xs): float
{
    sort($xs);
    $n = count($xs);
    return $n % 2 ? $xs[intdiv($n, 2)] : ($xs[$n / 2 - 1] + $xs[$n / 2]) / 2;
}

function bench_ms(float $s): string
{
    return sprintf('%.1f ms', $s * 1000);
}

// The rows of the export, in a table of the stand-in Vtiger.
$db = Dxt_TestDb::db();
$db->query('DROP TABLE IF EXISTS harness_bench_rows');
$cols = array();
for ($c = 1; $c <= 20; $c++) {
    $cols[] = 'c' . $c . ' VARCHAR(255) NULL';
}
$db->query('CREATE TABLE harness_bench_rows (id INT PRIMARY KEY, ' . implode(', ', $cols) . ') DEFAULT CHARSET=utf8mb4');
for ($i = 1; $i <= $rows; $i += 500) {
    $values = array();
    for ($j = $i; $j < min($i + 500, $rows + 1); $j++) {
        $values[] = '(' . $j . ", '" . implode("', '", array_map(array($db, 'real_escape_string'), harness_row($j))) . "')";
    }
    $db->query('INSERT INTO harness_bench_rows VALUES ' . implode(', ', $values));
}
Dxt_TestDb::reset();

$situations = array(
    'csrf-magic buffer on top (as in Vtiger\'s WebUI)' => array(),
    'no buffer above the probe\'s' => array('X-Harness-Csrf' => '0'),
);
$bytes = 0;
$exitCode = 0;
printf("probe overhead on a %d-row list-view export, median of %d runs each, alternating\n", $rows, $runs);
foreach ($situations as $name => $headers) {
    $with = Dxt_TestHarness::server(true)->withHeaders($headers + array('X-Harness-Source' => 'bench'));
    $without = Dxt_TestHarness::server(false)->withHeaders($headers + array('X-Harness-Source' => 'bench'));
    $times = array('with' => array(), 'without' => array());
    for ($i = -2; $i < $runs; $i++) { // two warm-up rounds
        foreach (array('without' => $without, 'with' => $with) as $k => $server) {
            $t = microtime(true);
            $r = Dxt_ProbeRequests::listview($server);
            $dt = microtime(true) - $t;
            if ($r->status !== 200) {
                fwrite(STDERR, "bench_probe: HTTP $r->status\n");
                exit(1);
            }
            $bytes = strlen($r->body);
            if ($i >= 0) {
                $times[$k][] = $dt;
            }
        }
    }
    $intakes = Dxt_TestDb::intakes();
    if (count($intakes) !== $runs + 2 || $intakes[0]['record_count'] !== (string) $rows) {
        fwrite(STDERR, sprintf("bench_probe: expected %d intake rows of %d records, found %d\n", $runs + 2, $rows, count($intakes)));
        $exitCode = 1;
    }
    Dxt_TestDb::reset();
    $a = bench_median($times['without']);
    $b = bench_median($times['with']);
    printf("  %s, %.2f MB:\n", $name, $bytes / 1e6);
    printf("    without probe: median %s   (runs: %s)\n", bench_ms($a), implode(' ', array_map(function ($x) {
        return sprintf('%.0f', $x * 1000);
    }, $times['without'])));
    printf("    with probe:    median %s   (runs: %s)\n", bench_ms($b), implode(' ', array_map(function ($x) {
        return sprintf('%.0f', $x * 1000);
    }, $times['with'])));
    printf("    added: %s = %+.1f%% of the stand-in's export\n", bench_ms($b - $a), ($b - $a) / $a * 100);
}

// The probe's own work on the same bytes, in this process.
$csv = harness_generated_csv($rows);
$pieces = str_split($csv, 4096);
$t = array('capture' => array(), 'write' => array(), 'route' => array());
$conn = Dxt_Db::connect(Dxt_TestDb::dbconfig());
for ($i = 0; $i < $runs; $i++) {
    $s = microtime(true);
    $cap = new Dxt_Capture(104857600, true);
    foreach ($pieces as $p) {
        $cap->append($p);
    }
    $cap->sha256();
    $cap->csvDataRows();
    $t['capture'][] = microtime(true) - $s;
    $s = microtime(true);
    Dxt_IntakeWriter::write($conn, array('kind' => 'listview_export', 'details' => array('bench' => true)), $cap);
    $t['write'][] = microtime(true) - $s;
    $cap->close();
}
require_once $ext . '/probe/bootstrap.php';
$req = array('module' => 'Contacts', 'view' => 'List', 'viewname' => '7');
$srv = array('SCRIPT_FILENAME' => '/var/www/vtiger/index.php');
for ($i = 0; $i < $runs; $i++) {
    $s = microtime(true);
    for ($j = 0; $j < 10000; $j++) {
        dxt_probe_route($req, $srv);
    }
    $t['route'][] = (microtime(true) - $s) / 10000;
}
printf("  the probe's work, in-process, on %.2f MB (medians):\n", strlen($csv) / 1e6);
printf("    capture (sha256 + CSV rows + temp copy): %s\n", bench_ms(bench_median($t['capture'])));
printf("    intake write (row + %d chunks, one transaction): %s\n", (int) ceil(strlen($csv) / 1048576), bench_ms(bench_median($t['write'])));
printf("    deciding that an ordinary request is not an export: %.2f µs\n", bench_median($t['route']) * 1e6);

Dxt_TestDb::reset();
$db->query('DROP TABLE IF EXISTS harness_bench_rows');
Dxt_TestHarness::cleanup();
exit($exitCode);

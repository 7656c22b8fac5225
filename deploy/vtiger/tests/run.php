<?php
/**
 * The PHP test runner of the Vtiger extension.
 *
 *   php deploy/vtiger/tests/run.php [filter]
 *
 * Loads every tests/*Test.php, runs each function named test* that file
 * defines and each public method test* of each class it defines whose name
 * ends in Test (setUp/tearDown around each when present), prints one line
 * per test and, last, exactly "N passed, M failed". Exit code 1 when any
 * test failed. A filter (argument or DXT_PHP_TEST_FILTER) runs only tests
 * whose "File::name" contains it.
 *
 * Tests that need the database read DXT_TEST_DB_HOST, DXT_TEST_DB_PORT,
 * DXT_TEST_DB_USER, DXT_TEST_DB_PASS, DXT_TEST_DB_NAME (go test
 * ./deploy/vtiger starts a private MariaDB and sets them). Any PHP warning
 * or notice fails the test that raised it.
 */
error_reporting(E_ALL);
ini_set('display_errors', 'stderr');
ini_set('log_errors', '0');

$ext = dirname(__DIR__) . '/modules/DataExportTracker';
foreach (array('Log', 'Db', 'Config', 'ClientIp', 'CsvCounter', 'Capture', 'IntakeWriter') as $lib) {
    require_once $ext . '/lib/' . $lib . '.php';
}
require_once __DIR__ . '/lib/Assert.php';
require_once __DIR__ . '/lib/TestDb.php';
require_once __DIR__ . '/lib/Harness.php';
require_once __DIR__ . '/lib/ProbeRequests.php';
// The extension's own log lines (error_log) of in-process calls go to a file
// a test can read (Dxt_TestHarness::runnerLog()), not into this output.
ini_set('error_log', Dxt_TestHarness::tempDir() . '/runner.log');

$filter = isset($argv[1]) ? $argv[1] : (getenv('DXT_PHP_TEST_FILTER') !== false ? getenv('DXT_PHP_TEST_FILTER') : '');

set_error_handler(function ($severity, $message, $file, $line) {
    if (!(error_reporting() & $severity)) {
        return false; // silenced with @
    }
    throw new ErrorException($message, 0, $severity, $file, $line);
});

$tests = array();
$files = glob(__DIR__ . '/*Test.php');
sort($files);
foreach ($files as $file) {
    $fnBefore = get_defined_functions()['user'];
    $classesBefore = get_declared_classes();
    require_once $file;
    $short = basename($file, '.php');
    foreach (array_diff(get_defined_functions()['user'], $fnBefore) as $fn) {
        $rf = new ReflectionFunction($fn);
        if (stripos($rf->getName(), 'test') === 0) {
            $tests[] = array($short . '::' . $rf->getName(), $rf->getStartLine(), function () use ($rf) {
                $rf->invoke();
            });
        }
    }
    foreach (array_diff(get_declared_classes(), $classesBefore) as $class) {
        if (substr($class, -4) !== 'Test') {
            continue;
        }
        $rc = new ReflectionClass($class);
        if ($rc->isAbstract()) {
            continue;
        }
        foreach ($rc->getMethods(ReflectionMethod::IS_PUBLIC) as $m) {
            if (stripos($m->getName(), 'test') !== 0 || $m->isStatic()) {
                continue;
            }
            $tests[] = array($short . '::' . $class . '::' . $m->getName(), $m->getStartLine(), function () use ($rc, $m) {
                $o = $rc->newInstance();
                if ($rc->hasMethod('setUp')) {
                    $o->setUp();
                }
                try {
                    $m->invoke($o);
                } finally {
                    if ($rc->hasMethod('tearDown')) {
                        $o->tearDown();
                    }
                }
            });
        }
    }
}
usort($tests, function ($a, $b) {
    return strcmp($a[0], $b[0]) ?: $a[1] - $b[1];
});

$passed = 0;
$failed = 0;
foreach ($tests as $t) {
    list($name, , $fn) = $t;
    if ($filter !== '' && stripos($name, $filter) === false) {
        continue;
    }
    $start = microtime(true);
    try {
        $fn();
        $passed++;
        printf("ok   %s (%.0f ms)\n", $name, (microtime(true) - $start) * 1000);
    } catch (Throwable $e) {
        $failed++;
        $where = '';
        foreach (array_merge(array(array('file' => $e->getFile(), 'line' => $e->getLine())), $e->getTrace()) as $frame) {
            if (isset($frame['file']) && substr($frame['file'], -8) === 'Test.php') {
                $where = basename($frame['file']) . ':' . $frame['line'];
                break;
            }
        }
        $kind = $e instanceof Dxt_AssertionFailed ? '' : get_class($e) . ': ';
        printf("FAIL %s: %s%s%s\n", $name, $kind, $e->getMessage(), $where !== '' ? ' (' . $where . ')' : '');
    }
}
Dxt_TestHarness::cleanup();
restore_error_handler();
printf("%d passed, %d failed\n", $passed, $failed);
exit($failed > 0 ? 1 : 0);

<?php
/**
 * The probe never changes Vtiger's response: for every export path and
 * every output-buffer situation, the same request to the stand-in Vtiger
 * with and without the probe line gives the same status line, the same
 * headers in the same order and the same bytes; and with the probe the
 * intake row holds exactly those bytes.
 */

/** The requests of the matrix: name => [function(server): response, expected kind or null]. */
function probe_identity_requests(): array
{
    return array(
        'listview sample' => array(function ($s) {
            return Dxt_ProbeRequests::listview($s);
        }, 'listview_export'),
        'listview with stray output before it (Vtiger\'s ob_clean)' => array(function ($s) {
            return Dxt_ProbeRequests::listview($s, array('X-Harness-Junk' => '1'));
        }, 'listview_export'),
        'listview 300 KiB' => array(function ($s) {
            return Dxt_ProbeRequests::listview($s, array('X-Harness-Rows' => '1500'));
        }, 'listview_export'),
        'listview with exit()' => array(function ($s) {
            return Dxt_ProbeRequests::listview($s, array('X-Harness-Exit' => '1'));
        }, 'listview_export'),
        'report CSV (Content-Length too long)' => array(function ($s) {
            return Dxt_ProbeRequests::report($s, 'GetCSV');
        }, 'report_export'),
        'report XLS with Vtiger classes' => array(function ($s) {
            return Dxt_ProbeRequests::report($s, 'GetXLS', array('X-Harness-Classes' => '1'));
        }, 'report_export'),
        'report print' => array(function ($s) {
            return Dxt_ProbeRequests::report($s, 'GetPrintReport', array('X-Harness-Classes' => '1'));
        }, 'report_export'),
        'report print denied (exit)' => array(function ($s) {
            return Dxt_ProbeRequests::report($s, 'GetPrintReport', array('X-Harness-Deny' => '1'));
        }, null),
        'ordinary page' => array(function ($s) {
            return $s->request('GET', '/index.php?module=Contacts&view=List', array('X-Harness-User' => '5'));
        }, null),
    );
}

/** Buffer situations: php.ini output_buffering on/off, csrf-magic's buffer on/off. */
function probe_identity_situations(): array
{
    return array(
        'output_buffering=4096, csrf buffer' => array(array(), array()),
        'output_buffering=4096, no csrf buffer' => array(array(), array('X-Harness-Csrf' => '0')),
        'output_buffering=0, csrf buffer' => array(array('output_buffering' => '0'), array()),
        'output_buffering=0, no csrf buffer' => array(array('output_buffering' => '0'), array('X-Harness-Csrf' => '0')),
    );
}

function testResponsesAreByteForByteTheSameWithAndWithoutTheProbe()
{
    foreach (probe_identity_situations() as $situation => $setup) {
        list($ini, $headers) = $setup;
        $with = Dxt_TestHarness::server(true, $ini);
        $without = Dxt_TestHarness::server(false, $ini);
        $with->clearLog();
        foreach (probe_identity_requests() as $name => $req) {
            list($send, $kind) = $req;
            $what = $name . ' [' . $situation . ']';
            Dxt_TestDb::reset();
            $a = $send($without->withHeaders($headers));
            $b = $send($with->withHeaders($headers));
            Dxt_TestHarness::assertSameResponse($a, $b, $what);
            $rows = Dxt_TestDb::intakes();
            if (strpos($name, 'stray output') !== false && $situation === 'output_buffering=0, no csrf buffer') {
                // Unbuffered, the stray bytes send the headers before Vtiger's
                // header() calls, which then fail: no attachment, no export
                // (with and without the probe alike).
                Dxt_Assert::same(null, $b->header('Content-Disposition'), $what . ': no attachment header');
                $kind = null;
            }
            if ($kind === null) {
                Dxt_Assert::same(0, count($rows), $what . ': intake rows');
                continue;
            }
            Dxt_Assert::same(1, count($rows), $what . ': intake rows');
            Dxt_Assert::same($kind, $rows[0]['kind'], $what . ': kind');
            Dxt_Assert::same(hash('sha256', $b->body), $rows[0]['content_sha256'], $what . ': sha256 of the served bytes');
            Dxt_Assert::sameBytes($b->body, Dxt_TestDb::content((int) $rows[0]['id']), $what . ': captured bytes');
        }
        Dxt_ProbeRequests::assertQuietLog($with, $situation);
    }
}

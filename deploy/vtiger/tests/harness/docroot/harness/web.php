<?php
// The stand-in of Vtiger's web front controller. What the probe touches is
// faithful: the session user ($_SESSION as Vtiger's login leaves it), the
// session's cache headers, csrf-magic's output buffer (started after the
// probe's, kept until the end of the request, rewriting HTML), and the
// export actions' headers and output as the real Vtiger 8 sent them (see
// the samples' .headers.txt). Test switches come as X-Harness-* request
// headers, which the probe never reads.
require_once __DIR__ . '/common.php';

function harness_flag($name)
{
    $key = 'HTTP_X_HARNESS_' . strtoupper(str_replace('-', '_', $name));
    return isset($_SERVER[$key]) ? (string) $_SERVER[$key] : '';
}

function harness_web_main()
{
    if (harness_flag('Classes') === '1') {
        require_once __DIR__ . '/fake_reports.php';
    }
    // The session Vtiger's login leaves, and the headers session_start()
    // sends with the default cache limiter.
    $user = harness_flag('User');
    if ($user !== '') {
        $_SESSION = array('authenticated_user_id' => $user, 'app_unique_key' => $GLOBALS['application_unique_key']);
    }
    header('Expires: Thu, 19 Nov 1981 08:52:00 GMT');
    header('Cache-Control: no-store, no-cache, must-revalidate');
    header('Pragma: no-cache');

    // csrf-magic: WebUI requires it on every request but the login, and it
    // starts an unlimited output buffer that rewrites HTML pages.
    if (harness_flag('Csrf') !== '0') {
        ob_start('harness_csrf_handler');
    }
    if (harness_flag('Junk') === '1') {
        echo "stray output before the export\n";
    }

    $action = isset($_REQUEST['action']) ? $_REQUEST['action'] : '';
    $view = isset($_REQUEST['view']) ? $_REQUEST['view'] : '';
    $module = isset($_REQUEST['module']) ? $_REQUEST['module'] : '';
    if ($action === 'ExportData') {
        harness_listview_export();
    } elseif ($action === '' && $module === 'Reports' && $view === 'ExportReport') {
        harness_report_export(isset($_REQUEST['mode']) ? $_REQUEST['mode'] : '', isset($_REQUEST['record']) ? (int) $_REQUEST['record'] : 0);
    } else {
        echo "<html><head><title>Harness</title></head><body>not an export</body></html>\n";
    }
    if (harness_flag('Exit') === '1') {
        exit;
    }
}

/** Like csrf-magic's handler: HTML gets a token script, anything else passes. */
function harness_csrf_handler($buffer, $flags)
{
    if (stripos($buffer, '<html') === false) {
        return $buffer;
    }
    $script = '<script type="text/javascript">var csrfMagicToken = "sid:harness";</script>';
    $pos = stripos($buffer, '</head>');
    return $pos === false ? $buffer : substr($buffer, 0, $pos) . $script . substr($buffer, $pos);
}

/** The list-view export: Vtiger_ExportData_Action's headers and output. */
function harness_listview_export()
{
    if (harness_flag('Deny') === '1') {
        header('Content-Type: application/json');
        echo '{"success":false,"error":{"message":"Permission denied"}}';
        return;
    }
    if (harness_flag('Status') !== '') {
        http_response_code((int) harness_flag('Status'));
    }
    $module = isset($_REQUEST['source_module']) && $_REQUEST['source_module'] !== '' ? $_REQUEST['source_module'] : $_REQUEST['module'];
    if ($module === 'Calendar' && (!isset($_REQUEST['type']) || $_REQUEST['type'] !== 'csv')) {
        harness_calendar_export();
        return;
    }
    $fileName = str_replace(array(' ', ','), '_', $module);
    header("Content-Disposition:attachment;filename=$fileName.csv");
    header("Content-Type:text/csv;charset=UTF-8");
    header("Expires: Mon, 31 Dec 2000 00:00:00 GMT");
    header("Last-Modified: " . gmdate("D, d M Y H:i:s") . " GMT");
    header("Cache-Control: post-check=0, pre-check=0", false);

    // Vtiger cleans the buffer before it writes the file.
    ob_clean();
    $fp = fopen("php://output", "a+");

    $rows = harness_flag('Rows');
    if (harness_flag('Source') === 'bench') {
        // Like Vtiger: all rows fetched first, then one fputcsv per row.
        $res = harness_db()->query('SELECT * FROM harness_bench_rows ORDER BY id');
        $entries = $res->fetch_all(MYSQLI_NUM);
        fputcsv($fp, harness_header());
        foreach ($entries as $row) {
            fputcsv($fp, array_slice($row, 1));
        }
    } elseif ($rows !== '') {
        fputcsv($fp, harness_header());
        for ($i = 1, $n = (int) $rows; $i <= $n; $i++) {
            fputcsv($fp, harness_row($i));
        }
    } else {
        $sample = harness_sample('listview-export-Contacts-all.csv');
        $csv = $sample !== null ? file_get_contents($sample) : harness_generated_csv(50);
        foreach (preg_split('/(?<=\n)/', $csv, -1, PREG_SPLIT_NO_EMPTY) as $line) {
            fwrite($fp, $line);
        }
    }
    fclose($fp);
}

/** The report export view: Reports_ExportReport_View's three modes. */
function harness_report_export($mode, $record)
{
    $name = harness_report_name($record);
    if (harness_flag('Deny') === '1') {
        // checkReportModulePermission(): the not-permitted page, then exit.
        echo "<html><head><title>Denied</title></head><body><table><tr><td><img src=\"layouts/v7/skins/images/denied.gif\"></td>"
            . "<td><span class='genHeaderSmall'>Permission denied</span></td></tr></table></body></html>";
        exit;
    }
    if ($mode === 'GetCSV') {
        $sample = harness_sample('report-export-26.csv');
        $csv = $sample !== null ? file_get_contents($sample) : "\xEF\xBB\xBF" . harness_generated_csv(50);
        // Vtiger writes the file without BOM, declares its size + 8, then
        // echoes the 3-byte BOM and the file: 5 bytes fewer than declared.
        $file = substr($csv, 0, 3) === "\xEF\xBB\xBF" ? substr($csv, 3) : $csv;
        header('Content-Encoding: UTF-8');
        header('Content-type: text/csv; charset=UTF-8');
        header('Content-Length: ' . (strlen($file) + 8));
        header('Content-disposition: attachment; filename="' . $name . '.csv"');
        echo "\xEF\xBB\xBF";
        echo $file;
        return;
    }
    if ($mode === 'GetXLS') {
        if (class_exists('ReportRun', false)) {
            ReportRun::getInstance($record); // Vtiger runs the report
        }
        $sample = harness_sample('report-export-26.xls');
        $xls = $sample !== null ? file_get_contents($sample) : harness_fake_xls();
        header('Content-Type: application/x-msexcel');
        header('Content-Length: ' . strlen($xls));
        header('Content-disposition: attachment; filename="' . $name . '.xls"');
        echo $xls;
        return;
    }
    if ($mode === 'GetPrintReport') {
        if (class_exists('ReportRun', false)) {
            ReportRun::getInstance($record);
        }
        $sample = harness_sample('report-print-26.html');
        echo $sample !== null ? file_get_contents($sample) : harness_fake_print($name);
        return;
    }
}

function harness_fake_print($name)
{
    $rows = '';
    for ($i = 1; $i <= 50; $i++) {
        $rows .= '<tr><td>CON' . $i . '</td><td>First' . $i . '</td></tr>';
    }
    return "<!DOCTYPE>\n<html><head><title>Print Report</title><style>.printReport{width:100%}</style></head><body>"
        . '<h2>' . htmlspecialchars($name) . '</h2><table class="printReport reportPrintData"><thead><th>Contact Id</th><th>First Name</th></thead><tbody>'
        . $rows . "</tbody></table></body></html>\n";
}

/** Calendar's export without type=csv: an iCalendar file (Calendar_ExportData_Action::outputIcal). */
function harness_calendar_export()
{
    header('Content-type: text/calendar');
    header('Content-Disposition: attachment; filename=Calendar.ics');
    $n = harness_flag('Rows') !== '' ? (int) harness_flag('Rows') : 5;
    echo "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//vtiger//harness//EN\r\nBEGIN:VTIMEZONE\r\nTZID:UTC\r\nEND:VTIMEZONE\r\n";
    for ($i = 1; $i <= $n; $i++) {
        $kind = $i % 4 === 0 ? 'VTODO' : 'VEVENT';
        echo "BEGIN:$kind\r\nSUMMARY:Call customer $i\r\nDESCRIPTION:line one\\nBEGIN:VEVENT is only text here\r\nDTSTART:20261204T0900" . sprintf('%02d', $i % 60) . "Z\r\nEND:$kind\r\n";
    }
    echo "END:VCALENDAR\r\n";
}

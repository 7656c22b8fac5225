<?php
// The stand-in of a vtigercron.php run of the ScheduleReports task: every
// due schedule is "sent" (the attachment written and deleted, as Vtiger
// does, nothing mailed) and its next_trigger_time moved a day on.
require_once __DIR__ . '/common.php';

function harness_cron_main()
{
    global $current_user;
    // vtigercron.php runs as the active administrator.
    $current_user = (object) array('id' => 1, 'user_name' => 'admin');
    if (getenv('DXT_HARNESS_CLASSES') === '1') {
        require_once __DIR__ . '/fake_reports.php';
    }
    $db = harness_db();
    echo "[CRON],harness,Instance,[STARTS]\n";
    $due = $db->query('SELECT reportid, fileformat FROM vtiger_schedulereports WHERE next_trigger_time <= NOW() AND next_trigger_time IS NOT NULL');
    foreach ($due->fetch_all(MYSQLI_ASSOC) as $s) {
        $id = (int) $s['reportid'];
        if (class_exists('ReportRun', false)) {
            $file = __DIR__ . '/../storage-' . $id . '.tmp';
            $run = ReportRun::getInstance($id);
            if ($s['fileformat'] === 'XLS') {
                $run->writeReportToExcelFile($file);
            } else {
                $run->writeReportToCSVFile($file);
            }
            @unlink($file);
        }
        $db->query('UPDATE vtiger_schedulereports SET next_trigger_time = DATE_ADD(NOW(), INTERVAL 1 DAY) WHERE reportid = ' . $id);
        echo "[INFO] scheduled report $id sent\n";
    }
    echo "[CRON],harness,Instance,[ENDS]\n";
}

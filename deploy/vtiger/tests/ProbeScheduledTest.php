<?php
/** The probe in a cron run: scheduled report deliveries (vtigercron.php). */

function probe_next_trigger(): ?string
{
    return Dxt_TestDb::db()->query('SELECT next_trigger_time FROM vtiger_schedulereports WHERE reportid = 26')->fetch_row()[0];
}

function testScheduledDeliveryIsRecordedWithCountRecipientsAndRegeneratedFile()
{
    Dxt_TestDb::reset();
    $run = Dxt_TestHarness::cron(true, array('DXT_HARNESS_CLASSES' => '1'));
    Dxt_Assert::same(0, $run['code'], 'cron exit code: ' . $run['stderr']);
    Dxt_Assert::contains('scheduled report 26 sent', $run['stdout'], 'the stand-in ran the schedule');
    Dxt_Assert::notSame('2026-12-04 19:24:00', probe_next_trigger(), 'next_trigger_time moved');
    $log = str_replace('[dxtracker] scheduled report count: PHP notice: harness notice from the report code', '', $run['log'] . $run['stderr']);
    Dxt_Assert::notContains('[dxtracker]', $log, 'nothing logged but the notice of Vtiger\'s report code');
    Dxt_Assert::notContains('noise printed', $run['stdout'], 'Vtiger code run by the probe printed nothing into the cron output');

    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same('scheduled_report', $row['kind'], 'kind');
    Dxt_Assert::same('1', $row['user_id'], 'the cron\'s user (active admin)');
    Dxt_Assert::same('Contacts', $row['module'], 'module');
    Dxt_Assert::same('50', $row['record_count'], 'Vtiger\'s count query');
    Dxt_Assert::same(null, $row['client_ip'], 'no client');
    Dxt_Assert::same('Lab Contacts Export Report.csv', $row['content_name'], 'attachment name');
    Dxt_Assert::same('text/csv', $row['content_type'], 'type');
    $expected = Dxt_TestHarness::sample('scheduled-report-26-attachment.csv');
    if ($expected === null) {
        require_once __DIR__ . '/harness/docroot/harness/common.php';
        $expected = harness_generated_csv(50);
    }
    Dxt_Assert::sameBytes($expected, Dxt_TestDb::content((int) $row['id']), 'the attachment Vtiger mails');
    Dxt_Assert::same(hash('sha256', $expected), $row['content_sha256'], 'sha256');
    $d = json_decode($row['details'], true);
    Dxt_Assert::same(26, $d['report_id'], 'report id');
    Dxt_Assert::same('Lab Contacts Export Report', $d['report_name'], 'report name');
    Dxt_Assert::same('CSV', $d['format'], 'format');
    Dxt_Assert::same(1, $d['schedule_id'], 'schedule');
    Dxt_Assert::same(array('USER::1', 'USER::5'), $d['recipients_raw'], 'recipients as stored');
    Dxt_Assert::same('reports@example.com', $d['specific_emails_raw'], 'specific addresses as stored');
    Dxt_Assert::same('2026-12-04 19:24:00', $d['previous_trigger_time'], 'the run that was due');
    Dxt_Assert::same(probe_next_trigger(), $d['next_trigger_time'], 'next run');
    Dxt_Assert::same(50, $d['csv_rows'], 'rows of the file');
    Dxt_Assert::same(true, $d['regenerated'], 'regenerated');
    Dxt_Assert::same('vtiger_count_query', $d['record_count_source'], 'count source');

    // Nothing due any more: a second run records nothing.
    Dxt_TestDb::db()->query('DELETE FROM dxt_intake_chunk');
    Dxt_TestDb::db()->query('DELETE FROM dxt_intake');
    Dxt_TestHarness::cron(true, array('DXT_HARNESS_CLASSES' => '1'));
    Dxt_Assert::same(array(), Dxt_TestDb::intakes(), 'no delivery, no record');
}

function testScheduledXlsDeliveryCarriesTheExcelFile()
{
    Dxt_TestDb::reset();
    Dxt_TestDb::db()->query("UPDATE vtiger_schedulereports SET fileformat = 'XLS' WHERE reportid = 26");
    $run = Dxt_TestHarness::cron(true, array('DXT_HARNESS_CLASSES' => '1'));
    Dxt_Assert::same(0, $run['code'], 'exit code');
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same('Lab Contacts Export Report.xls', $row['content_name'], 'name');
    Dxt_Assert::same('application/vnd.ms-excel', $row['content_type'], 'type');
    $xls = Dxt_TestHarness::sample('report-export-26.xls');
    if ($xls !== null) {
        Dxt_Assert::sameBytes($xls, Dxt_TestDb::content((int) $row['id']), 'file');
    }
    Dxt_Assert::same('XLS', json_decode($row['details'], true)['format'], 'format');
    Dxt_TestDb::reset();
}

function testScheduledDeliveryWithoutVtigerClassesRecordsTheRunAndWhy()
{
    Dxt_TestDb::reset();
    $run = Dxt_TestHarness::cron(true);
    Dxt_Assert::same(0, $run['code'], 'exit code');
    $row = Dxt_TestDb::onlyIntake();
    Dxt_Assert::same('scheduled_report', $row['kind'], 'kind');
    Dxt_Assert::same(null, $row['record_count'], 'no count');
    Dxt_Assert::same(null, $row['content_size'], 'no file');
    Dxt_Assert::same(null, $row['content_name'], 'no name');
    $d = json_decode($row['details'], true);
    Dxt_Assert::contains('report classes are not loaded', $d['reason'], 'reason');
    Dxt_Assert::same(26, $d['report_id'], 'report');
}

function testCronOutputIsTheSameWithAndWithoutTheProbe()
{
    Dxt_TestDb::reset();
    $with = Dxt_TestHarness::cron(true, array('DXT_HARNESS_CLASSES' => '1'));
    Dxt_TestDb::reset();
    $without = Dxt_TestHarness::cron(false, array('DXT_HARNESS_CLASSES' => '1'));
    Dxt_Assert::same($without['stdout'], $with['stdout'], 'stdout');
    Dxt_Assert::same($without['stderr'], $with['stderr'], 'stderr');
    Dxt_Assert::same($without['code'], $with['code'], 'exit code');
    Dxt_Assert::same(array(), Dxt_TestDb::intakes(), 'without the probe nothing is recorded');
    Dxt_TestDb::reset();
}

function testScheduledToggleOffAndDatabaseDownRecordNothing()
{
    Dxt_TestDb::reset();
    Dxt_TestDb::setConfig('track_scheduled_reports', '0');
    $run = Dxt_TestHarness::cron(true, array('DXT_HARNESS_CLASSES' => '1'));
    Dxt_Assert::same(0, $run['code'], 'exit code');
    Dxt_Assert::same(array(), Dxt_TestDb::intakes(), 'toggle off');

    Dxt_TestDb::reset();
    $run = Dxt_TestHarness::cron(true, array('DXT_HARNESS_CLASSES' => '1', 'DXT_HARNESS_DB_PORT' => (string) Dxt_TestHarness::deadPort()));
    Dxt_Assert::same(0, $run['code'], 'the cron still runs');
    Dxt_Assert::contains('scheduled report 26 sent', $run['stdout'], 'the cron did its work');
    Dxt_Assert::contains('[dxtracker] cannot connect to the Vtiger database', $run['log'], 'logged');
    Dxt_Assert::same(array(), Dxt_TestDb::intakes(), 'nothing recorded');
    Dxt_TestDb::reset();
}

function testDeliveryDetectionIgnoresEditsAndSchedulesNotDue()
{
    $row = function ($next, $time = '19:24:00') {
        return array('reportid' => '26', 'scheduleid' => '1', 'recipients' => '["USER::1"]', 'schdate' => null, 'schtime' => $time,
            'schdayoftheweek' => null, 'schdayofthemonth' => null, 'schannualdates' => null, 'specificemails' => '""',
            'next_trigger_time' => $next, 'fileformat' => 'CSV');
    };
    $now = '2026-12-04 20:00:00';
    $run = Dxt_ScheduledReportProbe::delivered(array('26' => $row('2026-12-04 19:24:00')), array('26' => $row('2026-12-05 19:24:00')), $now);
    Dxt_Assert::same(array('26'), array_map('strval', array_keys($run)), 'due and moved: delivered');
    Dxt_Assert::same(array(), Dxt_ScheduledReportProbe::delivered(array('26' => $row('2026-12-04 19:24:00')), array('26' => $row('2026-12-05 08:00:00', '08:00:00')), $now), 'time edited: not a run');
    Dxt_Assert::same(array(), Dxt_ScheduledReportProbe::delivered(array('26' => $row('2026-12-04 21:00:00')), array('26' => $row('2026-12-05 21:00:00')), $now), 'not due: not a run');
    Dxt_Assert::same(array(), Dxt_ScheduledReportProbe::delivered(array('26' => $row('2026-12-04 19:24:00')), array('26' => $row('2026-12-04 19:24:00')), $now), 'unchanged');
    Dxt_Assert::same(array(), Dxt_ScheduledReportProbe::delivered(array(), array('26' => $row('2026-12-05 19:24:00')), $now), 'new schedule');
    Dxt_Assert::same(array(), Dxt_ScheduledReportProbe::delivered(array('26' => $row(null)), array('26' => $row('2026-12-05 19:24:00')), $now), 'no previous time');
    Dxt_Assert::same('Lab Contacts Export Report.csv', Dxt_ScheduledReportProbe::attachmentName('Lab Contacts Export Report', 'CSV'), 'name');
    Dxt_Assert::same('QA report 20262027.xls', Dxt_ScheduledReportProbe::attachmentName('Q&A report: 2026/2027!', 'XLS'), 'punctuation dropped');
}

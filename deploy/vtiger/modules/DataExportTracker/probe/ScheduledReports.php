<?php
/**
 * Capture of scheduled report deliveries during a cron run (vtigercron.php).
 *
 * Vtiger's cron mails every schedule whose next_trigger_time has come (when
 * its report has records) and then moves next_trigger_time forward; the
 * attachment is written to storage/, mailed and deleted. So the probe
 * snapshots vtiger_schedulereports when the cron starts, and at the end of
 * the run every schedule whose next_trigger_time moved from a time that had
 * come, with nothing else changed (an administrator's edit changes more),
 * was run. For each it writes one scheduled_report intake row with:
 *  - the record count by Vtiger's own count query, the one the cron uses to
 *    decide whether to mail (0: Vtiger sent nothing);
 *  - the attachment regenerated in the schedule's format with Vtiger's own
 *    report writer (same data unless it changed in the milliseconds
 *    since), when Vtiger's report classes are loaded in the run;
 *  - the recipients as stored (the daemon resolves them to addresses).
 * Without Vtiger's report classes the count and file are NULL and
 * details.reason says why.
 *
 * The end-of-run work is the first shutdown function (registered when the
 * cron includes config_override.php, before anything of Vtiger's): Vtiger's
 * report objects and the temporary tables they query still exist then.
 */
final class Dxt_ScheduledReportProbe
{
    /** Columns that an administrator's edit of a schedule may change. */
    const SCHEDULE_COLUMNS = array('scheduleid', 'recipients', 'schdate', 'schtime', 'schdayoftheweek',
        'schdayofthemonth', 'schannualdates', 'specificemails', 'fileformat');

    /** @var array */
    private $dbconfig;
    /** @var Dxt_Config */
    private $config;
    /** @var array<string,array> schedules at the start of the run, by report id */
    private $before;

    private function __construct()
    {
    }

    public static function start(mysqli $db, array $dbconfig, Dxt_Config $config, float $started): void
    {
        $rows = self::schedules($db);
        if ($rows === null) {
            return; // logged
        }
        $p = new self();
        $p->dbconfig = $dbconfig;
        $p->config = $config;
        $p->before = $rows;
        register_shutdown_function(array($p, 'onShutdown'));
    }

    /** @internal end of the cron run */
    public function onShutdown(): void
    {
        Dxt_Log::quietly('scheduled reports', function () {
            $db = Dxt_Db::connect($this->dbconfig);
            if ($db === null) {
                return;
            }
            try {
                $now = Dxt_Db::select($db, 'SELECT NOW() AS now');
                $after = self::schedules($db);
                if ($after === null || !$now) {
                    return;
                }
                foreach (self::delivered($this->before, $after, (string) $now[0]['now']) as $id => $pair) {
                    Dxt_Log::quietly('scheduled report ' . $id, function () use ($db, $id, $pair) {
                        $this->recordDelivery($db, (int) $id, $pair[0], $pair[1]);
                    });
                }
            } finally {
                @$db->close();
            }
        });
    }

    /**
     * Schedules that were run between $before and $after: next_trigger_time
     * moved from a time at or before $now, nothing else changed. Public for
     * tests.
     *
     * @return array<string,array{0:array,1:array}> report id => [before, after]
     */
    public static function delivered(array $before, array $after, string $now): array
    {
        $out = array();
        foreach ($after as $id => $new) {
            if (!isset($before[$id])) {
                continue;
            }
            $old = $before[$id];
            if ($old['next_trigger_time'] === null || $old['next_trigger_time'] === $new['next_trigger_time']) {
                continue;
            }
            if (strcmp($old['next_trigger_time'], $now) > 0) {
                continue; // was not due: an edit, not a run
            }
            $same = true;
            foreach (self::SCHEDULE_COLUMNS as $c) {
                if ($old[$c] !== $new[$c]) {
                    $same = false;
                    break;
                }
            }
            if ($same) {
                $out[$id] = array($old, $new);
            }
        }
        return $out;
    }

    /** @return array<string,array>|null every schedule by report id; null when unreadable (logged) */
    private static function schedules(mysqli $db): ?array
    {
        $rows = Dxt_Db::select($db, 'SELECT reportid, ' . implode(', ', self::SCHEDULE_COLUMNS) . ', next_trigger_time FROM vtiger_schedulereports');
        if ($rows === null) {
            Dxt_Log::error('cannot read vtiger_schedulereports; scheduled reports of this cron run are not recorded by the probe');
            return null;
        }
        $out = array();
        foreach ($rows as $r) {
            if ($r['reportid'] !== null) {
                $out[(string) $r['reportid']] = $r;
            }
        }
        return $out;
    }

    private function recordDelivery(mysqli $db, int $reportId, array $old, array $new): void
    {
        $info = Dxt_Db::select($db, 'SELECT r.reportname, r.reporttype, m.primarymodule FROM vtiger_report r LEFT JOIN vtiger_reportmodules m ON m.reportmodulesid = r.reportid WHERE r.reportid = ?', array($reportId));
        $report = $info ? $info[0] : array('reportname' => null, 'reporttype' => null, 'primarymodule' => null);
        $name = $report['reportname'] === null ? null : html_entity_decode($report['reportname'], ENT_QUOTES, 'UTF-8');
        $format = strtoupper(trim((string) $new['fileformat']));
        if ($format === '') {
            $format = 'CSV';
        }
        $details = array(
            'probe' => Dxt_Probe::VERSION,
            'path' => 'cron',
            'report_id' => $reportId,
            'report_name' => $name,
            'report_type' => $report['reporttype'],
            'format' => $format,
            'schedule_id' => $new['scheduleid'] === null ? null : (int) $new['scheduleid'],
            'recipients_raw' => self::decoded($new['recipients']),
            'specific_emails_raw' => self::decoded($new['specificemails']),
            'previous_trigger_time' => $old['next_trigger_time'],
            'next_trigger_time' => $new['next_trigger_time'],
        );
        $reasons = array();

        $countNote = null;
        $count = Dxt_VtigerBridge::scheduleCount($reportId, $countNote);
        if ($count !== null) {
            $details['record_count_source'] = 'vtiger_count_query';
        } else {
            $reasons[] = 'record count: ' . $countNote;
        }

        $capture = null;
        $fileName = null;
        $contentType = null;
        if ($report['reporttype'] === 'chart') {
            $details['attachment'] = 'none: Vtiger mails chart reports without a file';
        } elseif ($count === 0) {
            $details['mail_sent'] = false;
            $details['attachment'] = 'none: the report had no records, so Vtiger sent no mail';
        } else {
            $fileName = self::attachmentName((string) $name, $format);
            $contentType = $format === 'XLS' ? 'application/vnd.ms-excel' : 'text/csv';
            $capture = $this->regenerate($reportId, $format, $details, $reasons);
            if ($capture === null) {
                $fileName = null;
                $contentType = null;
            }
        }
        if ($reasons) {
            $details['reason'] = implode('; ', $reasons);
        }

        $user = Dxt_Probe::currentUserId();
        $row = array(
            'kind' => 'scheduled_report',
            'occurred_at' => Dxt_IntakeWriter::nowUtc(),
            'user_id' => $user,
            'module' => $report['primarymodule'] !== '' ? $report['primarymodule'] : null,
            'record_count' => $count,
            'client_ip' => null,
            'user_agent' => null,
            'details' => $details,
            'content_name' => $fileName,
            'content_type' => $contentType,
        );
        try {
            if (Dxt_IntakeWriter::write($db, $row, $capture) === 0) {
                Dxt_Log::error('scheduled report ' . $reportId . ' not recorded (see the error above)');
            }
        } finally {
            if ($capture !== null) {
                $capture->close();
            }
        }
    }

    /** The attachment regenerated by Vtiger's writer, captured; null when impossible ($reasons says why). */
    private function regenerate(int $reportId, string $format, array &$details, array &$reasons): ?Dxt_Capture
    {
        $tmp = @tempnam(sys_get_temp_dir(), 'dxt');
        if ($tmp === false) {
            $reasons[] = 'file: no temporary file';
            return null;
        }
        try {
            $note = null;
            if (!Dxt_VtigerBridge::writeReportFile($reportId, $format, $tmp, $note)) {
                $reasons[] = 'file: ' . $note;
                return null;
            }
            $capture = new Dxt_Capture($this->config->captureMaxBytes(), $format === 'CSV', $this->config->captureContent());
            $in = @fopen($tmp, 'rb');
            if ($in === false) {
                $reasons[] = 'file: cannot read the regenerated file';
                return null;
            }
            while (!feof($in)) {
                $piece = fread($in, Dxt_Capture::SLICE);
                if ($piece === false) {
                    break;
                }
                $capture->append($piece);
            }
            fclose($in);
            $details['regenerated'] = true;
            $details['content_captured'] = $capture->keepsContent();
            if ($format === 'CSV') {
                $details['csv_rows'] = $capture->csvDataRows();
            }
            return $capture;
        } finally {
            @unlink($tmp);
        }
    }

    /**
     * The attachment name Vtiger gives a scheduled report: the report name
     * without anything but letters, digits and white space, plus the
     * format's extension. (Vtiger matches byte-wise, not as UTF-8; so does
     * this, to give the very name the recipients saw.)
     */
    public static function attachmentName(string $reportName, string $format): string
    {
        $base = (string) preg_replace('/[^\p{L}\p{N}\s]+/', '', $reportName);
        return $base . ($format === 'XLS' ? '.xls' : '.csv');
    }

    /** @return mixed JSON text decoded (HTML entities first, as Vtiger stores it), else the text */
    private static function decoded(?string $v)
    {
        if ($v === null || $v === '') {
            return $v;
        }
        $text = html_entity_decode($v, ENT_QUOTES, 'UTF-8');
        $d = json_decode($text, true);
        return $d === null && strtolower(trim($text)) !== 'null' ? $text : $d;
    }
}

<?php
/**
 * Calls into Vtiger's own report code, for what only Vtiger knows: how many
 * records a report export holds (its count query, the one the cron runs
 * before mailing a scheduled report) and the file a scheduled report
 * mailed (regenerated with the same writer).
 *
 * Only when Vtiger has loaded its report classes in this request (never
 * autoloaded here: the probe must not make Vtiger load what it did not
 * need). Everything runs in Vtiger's folder with Vtiger's database object
 * told not to die on errors (as Vtiger does itself in its report clean-up),
 * inside an output buffer that is thrown away, so nothing reaches the
 * response or the cron's output.
 */
final class Dxt_VtigerBridge
{
    /** Whether Vtiger's report classes are loaded in this request. */
    public static function reportClassesLoaded(): bool
    {
        return class_exists('Reports_Record_Model', false) && class_exists('ReportRun', false);
    }

    /**
     * Records of a report export (GetXLS, GetPrintReport) by Vtiger's count
     * query, with the advanced filter of the request as the export used it.
     * Null when it cannot be had; $note says why.
     *
     * @param mixed $advancedFilterParam the raw advanced_filter request parameter
     */
    public static function exportCount(int $reportId, $advancedFilterParam, ?string &$note): ?int
    {
        if (!self::reportClassesLoaded()) {
            $note = 'Vtiger\'s report classes are not loaded in this request';
            return null;
        }
        $filter = self::requestValue($advancedFilterParam);
        return self::inVtiger('report count', function () use ($reportId, $filter, &$note) {
            $model = call_user_func(array('Reports_Record_Model', 'getInstanceById'), $reportId);
            if (!self::canCount($model)) {
                $note = 'Vtiger\'s report model has no count query';
                return null;
            }
            $model->set('advancedFilter', $filter);
            $filterSql = method_exists($model, 'getAdvancedFilterSQL') ? $model->getAdvancedFilterSQL() : false;
            $sql = $model->getReportSQL($filterSql, 'PDF');
            return self::toCount($model->getReportsCount($model->generateCountQuery($sql)), $note);
        }, $note);
    }

    /**
     * Records of a scheduled report, counted exactly as Vtiger's cron does
     * before it mails one (report SQL without a run-time filter, then its
     * count query). Null when it cannot be had; $note says why.
     */
    public static function scheduleCount(int $reportId, ?string &$note): ?int
    {
        if (!self::reportClassesLoaded()) {
            $note = 'Vtiger\'s report classes are not loaded in this cron run';
            return null;
        }
        return self::inVtiger('scheduled report count', function () use ($reportId, &$note) {
            $model = call_user_func(array('Reports_Record_Model', 'getInstanceById'), $reportId);
            if (!self::canCount($model)) {
                $note = 'Vtiger\'s report model has no count query';
                return null;
            }
            $sql = $model->getReportSQL();
            return self::toCount($model->getReportsCount($model->generateCountQuery($sql)), $note);
        }, $note);
    }

    /**
     * Writes the file Vtiger attaches to a scheduled report (CSV or XLS)
     * to $path with Vtiger's own writer. False when it cannot; $note says why.
     */
    public static function writeReportFile(int $reportId, string $format, string $path, ?string &$note): bool
    {
        if (!self::reportClassesLoaded()) {
            $note = 'Vtiger\'s report classes are not loaded in this cron run';
            return false;
        }
        $method = $format === 'XLS' ? 'writeReportToExcelFile' : ($format === 'CSV' ? 'writeReportToCSVFile' : null);
        if ($method === null) {
            $note = 'no attachment writer for format ' . $format;
            return false;
        }
        $done = self::inVtiger('scheduled report file', function () use ($reportId, $method, $path, &$note) {
            $run = call_user_func(array('ReportRun', 'getInstance'), $reportId);
            if (!is_object($run) || !method_exists($run, $method)) {
                $note = 'Vtiger\'s ReportRun has no ' . $method;
                return false;
            }
            $run->$method($path);
            clearstatcache(true, $path);
            return is_file($path);
        }, $note);
        if ($done !== true && $note === null) {
            $note = 'Vtiger\'s report writer failed';
        }
        return $done === true;
    }

    /** @param mixed $model */
    private static function canCount($model): bool
    {
        return is_object($model) && method_exists($model, 'set') && method_exists($model, 'getReportSQL')
            && method_exists($model, 'generateCountQuery') && method_exists($model, 'getReportsCount');
    }

    /** @param mixed $n */
    private static function toCount($n, ?string &$note): ?int
    {
        if (is_int($n) || (is_string($n) && preg_match('/^\d+$/', $n))) {
            return (int) $n;
        }
        if (is_float($n) && $n >= 0) {
            return (int) $n;
        }
        $note = 'Vtiger\'s count query gave no number';
        return null;
    }

    /**
     * A request parameter as Vtiger_Request::get() hands it to the report
     * code: JSON text decoded, then purified when Vtiger's purifier is there.
     *
     * @param mixed $v
     * @return mixed
     */
    private static function requestValue($v)
    {
        if ($v === null) {
            return '';
        }
        if (is_string($v) && $v !== '' && ($v[0] === '[' || $v[0] === '{')) {
            $v = json_decode($v, true);
        }
        if (!empty($v) && function_exists('vtlib_purify')) {
            $v = vtlib_purify($v);
        }
        return $v;
    }

    /**
     * Runs $fn in Vtiger's folder, with $adb->dieOnError off and a private
     * output buffer that is discarded; restores all three afterwards.
     *
     * @param callable $fn
     * @return mixed what $fn returns, or null when it failed (logged; $note set)
     */
    private static function inVtiger(string $what, $fn, ?string &$note)
    {
        $cwd = getcwd();
        $root = Dxt_Probe::vtigerRoot();
        $adb = isset($GLOBALS['adb']) && is_object($GLOBALS['adb']) ? $GLOBALS['adb'] : null;
        $hadDie = $adb !== null && property_exists($adb, 'dieOnError');
        $die = $hadDie ? $adb->dieOnError : null;
        $level = ob_get_level();
        $failed = true;
        ob_start();
        try {
            if ($hadDie) {
                $adb->dieOnError = false;
            }
            if ($cwd !== $root) {
                @chdir($root);
            }
            $result = Dxt_Log::quietly($what, function () use ($fn, &$failed) {
                $r = $fn();
                $failed = false;
                return $r;
            });
            if ($failed && $note === null) {
                $note = 'Vtiger\'s report code failed (see the PHP error log)';
            }
            return $result;
        } finally {
            while (ob_get_level() > $level) {
                if (!@ob_end_clean()) {
                    break;
                }
            }
            if ($hadDie) {
                $adb->dieOnError = $die;
            }
            if ($cwd !== false && $cwd !== $root) {
                @chdir($cwd);
            }
        }
    }
}

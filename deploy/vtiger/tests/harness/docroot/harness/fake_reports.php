<?php
// Stand-ins for Vtiger's report classes, with the methods the probe calls
// and their contracts (not their code): a report model whose count query
// counts the contacts of the report, and a ReportRun whose writers produce
// the attachment Vtiger mails. They misbehave on purpose the way Vtiger's
// code can: print noise, raise notices, call ob_clean(), rely on the
// working directory and on $adb->dieOnError.
require_once __DIR__ . '/common.php';

class Harness_Adb
{
    public $dieOnError = true;
    public $dieOnErrorSeen = array();
}

$GLOBALS['adb'] = new Harness_Adb();

class Reports_Record_Model
{
    private $id;
    private $values = array();

    public static function getInstanceById($id)
    {
        $m = new self();
        $m->id = (int) $id;
        return $m;
    }

    public function set($key, $value)
    {
        $this->values[$key] = $value;
        return $this;
    }

    public function getAdvancedFilterSQL()
    {
        $f = isset($this->values['advancedFilter']) ? $this->values['advancedFilter'] : '';
        // A run-time filter "lastname starts with" narrows the count, as Vtiger's would.
        if (is_array($f) && isset($f['lastname_prefix'])) {
            return "vtiger_contactdetails.lastname LIKE '" . harness_db()->real_escape_string($f['lastname_prefix']) . "%'";
        }
        return '';
    }

    public function getReportSQL($filterSql = false, $format = false)
    {
        if (!is_file('config.inc.php')) {
            throw new RuntimeException('report code run outside the Vtiger folder');
        }
        $where = 'vtiger_crmentity.deleted = 0';
        if ($filterSql) {
            $where .= ' AND ' . $filterSql;
        }
        return 'SELECT DISTINCT vtiger_contactdetails.contactid, vtiger_contactdetails.lastname FROM vtiger_contactdetails'
            . ' INNER JOIN vtiger_crmentity ON vtiger_crmentity.crmid = vtiger_contactdetails.contactid WHERE ' . $where
            . ' ORDER BY vtiger_contactdetails.lastname';
    }

    public function generateCountQuery($query)
    {
        $parts = preg_split('/ from /i', $query, 2);
        $rest = preg_split('/ order by /i', $parts[1]);
        return 'SELECT count(*) AS count FROM ' . $rest[0];
    }

    public function getReportsCount($query)
    {
        $GLOBALS['adb']->dieOnErrorSeen[] = $GLOBALS['adb']->dieOnError;
        echo "noise printed by Vtiger's report code\n";
        trigger_error('harness notice from the report code', E_USER_NOTICE);
        $row = harness_db()->query($query)->fetch_assoc();
        return $row['count'];
    }
}

class ReportRun
{
    private static $instances = array();
    private $id;

    public static function getInstance($id)
    {
        if (!isset(self::$instances[$id])) {
            self::$instances[$id] = new self();
            self::$instances[$id]->id = (int) $id;
        }
        return self::$instances[$id];
    }

    public function writeReportToCSVFile($path)
    {
        $sample = harness_sample('scheduled-report-26-attachment.csv');
        $csv = $sample !== null ? file_get_contents($sample) : harness_generated_csv(50);
        file_put_contents($path, $csv);
    }

    public function writeReportToExcelFile($path)
    {
        ob_clean();
        $sample = harness_sample('report-export-26.xls');
        file_put_contents($path, $sample !== null ? file_get_contents($sample) : harness_fake_xls());
    }
}

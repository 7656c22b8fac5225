<?php
/**
 * The test database: the private MariaDB of the Go test helper, loaded with
 * the minimal Vtiger schema and the dxt_ tables, named by DXT_TEST_DB_HOST,
 * DXT_TEST_DB_PORT, DXT_TEST_DB_USER, DXT_TEST_DB_PASS, DXT_TEST_DB_NAME.
 */
final class Dxt_TestDb
{
    /** @var mysqli|null */
    private static $db;

    /** Vtiger-shaped $dbconfig of the test database. */
    public static function dbconfig(): array
    {
        return array(
            'db_server' => self::env('DXT_TEST_DB_HOST', '127.0.0.1'),
            'db_port' => ':' . self::env('DXT_TEST_DB_PORT', '3306'),
            'db_username' => self::env('DXT_TEST_DB_USER', 'root'),
            'db_password' => self::env('DXT_TEST_DB_PASS', ''),
            'db_name' => self::env('DXT_TEST_DB_NAME', 'vtiger'),
        );
    }

    /** Whether the environment names a test database. */
    public static function configured(): bool
    {
        return getenv('DXT_TEST_DB_NAME') !== false && getenv('DXT_TEST_DB_PORT') !== false;
    }

    /** A shared connection for assertions (exceptions on errors). */
    public static function db(): mysqli
    {
        if (self::$db === null) {
            if (!self::configured()) {
                throw new RuntimeException('no test database: set DXT_TEST_DB_HOST, DXT_TEST_DB_PORT, DXT_TEST_DB_USER, DXT_TEST_DB_PASS, DXT_TEST_DB_NAME (go test ./deploy/vtiger does)');
            }
            mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
            $c = self::dbconfig();
            self::$db = new mysqli($c['db_server'], $c['db_username'], $c['db_password'], $c['db_name'], (int) ltrim($c['db_port'], ':'));
            self::$db->set_charset('utf8mb4');
        }
        return self::$db;
    }

    /**
     * Back to the seeded state: no intake rows, dxt_config at its defaults
     * (the beacon secret kept), schedule 26 due again.
     */
    public static function reset(): void
    {
        $db = self::db();
        $db->query('DELETE FROM dxt_intake_chunk');
        $db->query('DELETE FROM dxt_intake');
        foreach (Dxt_Config::DEFAULTS as $k => $v) {
            self::setConfig($k, $v);
        }
        $db->query("DELETE FROM dxt_config WHERE name = 'trusted_proxies'");
        $db->query("UPDATE vtiger_schedulereports SET next_trigger_time = '2026-12-04 19:24:00', fileformat = 'CSV' WHERE reportid = 26");
    }

    public static function setConfig(string $name, string $value): void
    {
        $stmt = self::db()->prepare('INSERT INTO dxt_config (name, value, updated_at) VALUES (?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at)');
        $stmt->bind_param('ss', $name, $value);
        $stmt->execute();
        $stmt->close();
    }

    /** Every dxt_intake row, oldest first. */
    public static function intakes(): array
    {
        return self::db()->query('SELECT * FROM dxt_intake ORDER BY id')->fetch_all(MYSQLI_ASSOC);
    }

    /** The only intake row; fails unless there is exactly one. */
    public static function onlyIntake(): array
    {
        $rows = self::intakes();
        if (count($rows) !== 1) {
            throw new Dxt_AssertionFailed('expected exactly one dxt_intake row, found ' . count($rows));
        }
        return $rows[0];
    }

    /** [seq => byte length] of an intake's chunks. */
    public static function chunkSizes(int $intakeId): array
    {
        $out = array();
        $res = self::db()->query('SELECT seq, LENGTH(data) AS n FROM dxt_intake_chunk WHERE intake_id = ' . $intakeId . ' ORDER BY seq');
        foreach ($res->fetch_all(MYSQLI_ASSOC) as $r) {
            $out[(int) $r['seq']] = (int) $r['n'];
        }
        return $out;
    }

    /** The concatenated chunk bytes of an intake. */
    public static function content(int $intakeId): string
    {
        $s = '';
        $res = self::db()->query('SELECT data FROM dxt_intake_chunk WHERE intake_id = ' . $intakeId . ' ORDER BY seq');
        while ($r = $res->fetch_row()) {
            $s .= $r[0];
        }
        return $s;
    }

    private static function env(string $name, string $default): string
    {
        $v = getenv($name);
        return $v === false ? $default : $v;
    }
}

<?php
require_once __DIR__ . '/Db.php';

/**
 * The dxt_config settings (CONTRACTS §4), read once per request.
 *
 * Values are the stored strings. A key missing from the table has its
 * documented default. When the table cannot be read at all (no table yet,
 * no grant, database down) the object is "not loaded": tracks() answers
 * false for everything, so the probe captures nothing and Vtiger runs as if
 * the extension were absent (fail open), and the reason is logged once.
 */
final class Dxt_Config
{
    /** Documented defaults of the keys the extension reads. */
    const DEFAULTS = array(
        'track_listview_export' => '1',
        'track_report_export' => '1',
        'track_scheduled_reports' => '1',
        'track_copy' => '1',
        'notify_admin_email' => '',
        'notify_min_records' => '0',
        'capture_content' => '1',
        'capture_max_bytes' => '104857600',
        'copy_max_chars' => '65536',
        'retention_days' => '365',
        'company_domains' => '',
    );

    /** Which toggle governs which kind of take-out. */
    const TOGGLES = array(
        'listview_export' => 'track_listview_export',
        'report_export' => 'track_report_export',
        'scheduled_report' => 'track_scheduled_reports',
        'copy' => 'track_copy',
    );

    /** @var array<string,string> */
    private $values;
    /** @var bool */
    private $loaded;

    /**
     * @param array<string,string> $values stored values by name
     * @param bool $loaded false when the table could not be read
     */
    public function __construct(array $values = array(), bool $loaded = true)
    {
        $this->values = array();
        foreach ($values as $k => $v) {
            $this->values[(string) $k] = $v === null ? '' : (string) $v;
        }
        $this->loaded = $loaded;
    }

    /** Reads every row of dxt_config. Never throws. */
    public static function load(mysqli $db): Dxt_Config
    {
        $rows = Dxt_Db::withReportOff(function () use ($db) {
            $res = @$db->query('SELECT name, value FROM dxt_config');
            if (!$res) {
                Dxt_Log::once('config.unreadable', 'cannot read dxt_config (' . $db->error . '); nothing is tracked until it can be read (run `dxtracker migrate`)');
                return null;
            }
            $out = array();
            while ($r = $res->fetch_row()) {
                $out[(string) $r[0]] = $r[1] === null ? '' : (string) $r[1];
            }
            $res->free();
            return $out;
        }, null);
        if (!is_array($rows)) {
            return new self(array(), false);
        }
        return new self($rows, true);
    }

    /** The configuration used when dxt_config cannot be read: tracks nothing. */
    public static function unavailable(): Dxt_Config
    {
        return new self(array(), false);
    }

    /** Whether dxt_config was read. */
    public function loaded(): bool
    {
        return $this->loaded;
    }

    /**
     * The stored value of $name; else $default when given; else the
     * documented default; else null.
     *
     * @param mixed $default
     * @return mixed
     */
    public function get(string $name, $default = null)
    {
        if (array_key_exists($name, $this->values)) {
            return $this->values[$name];
        }
        if ($default !== null) {
            return $default;
        }
        $defaults = self::DEFAULTS;
        return array_key_exists($name, $defaults) ? $defaults[$name] : null;
    }

    /**
     * Whether take-outs of $kind (listview_export, report_export,
     * scheduled_report, copy; or the toggle's own name) are tracked.
     * False for everything when dxt_config could not be read.
     */
    public function tracks(string $kind): bool
    {
        if (!$this->loaded) {
            return false;
        }
        $toggles = self::TOGGLES;
        $key = array_key_exists($kind, $toggles) ? $toggles[$kind] : $kind;
        if (!array_key_exists($key, self::DEFAULTS) || strpos($key, 'track_') !== 0) {
            return false;
        }
        return self::flag($this->get($key));
    }

    /** Whether the exported file itself is stored (capture_content). */
    public function captureContent(): bool
    {
        return $this->loaded && self::flag($this->get('capture_content'));
    }

    /** Bytes of an export kept at most (capture_max_bytes, default 100 MiB). */
    public function captureMaxBytes(): int
    {
        return self::number($this->get('capture_max_bytes'), 104857600);
    }

    /** Characters of copied text kept at most (copy_max_chars). */
    public function copyMaxChars(): int
    {
        return self::number($this->get('copy_max_chars'), 65536);
    }

    /** The beacon HMAC key as stored ('' when there is none). */
    public function beaconSecret(): string
    {
        $v = $this->get('beacon_secret', '');
        return is_string($v) ? $v : '';
    }

    /**
     * Proxies whose X-Forwarded-For is believed (dxt_config key
     * trusted_proxies: IPs or CIDRs separated by commas or spaces). None
     * unless configured.
     *
     * @return string[]
     */
    public function trustedProxies(): array
    {
        $raw = $this->get('trusted_proxies', '');
        if (!is_string($raw) || trim($raw) === '') {
            return array();
        }
        $parts = preg_split('/[\s,;]+/', trim($raw), -1, PREG_SPLIT_NO_EMPTY);
        return is_array($parts) ? $parts : array();
    }

    /** @param mixed $v */
    private static function flag($v): bool
    {
        if (is_bool($v)) {
            return $v;
        }
        $s = strtolower(trim((string) $v));
        return $s === '1' || $s === 'true' || $s === 'on' || $s === 'yes';
    }

    /** @param mixed $v */
    private static function number($v, int $default): int
    {
        $s = trim((string) $v);
        if ($s === '' || !preg_match('/^-?\d+$/', $s)) {
            return $default;
        }
        $n = (int) $s;
        return $n < 0 ? 0 : $n;
    }
}

<?php
/**
 * The dxt_config settings an administrator edits on the Settings page.
 *
 * Names, defaults and validation rules mirror tracker/settings.go of the
 * daemon, so a value the page accepts is one the daemon accepts, and the
 * normalised form stored is the same ("1"/"0" for switches, a comma-joined
 * list for addresses, a plain decimal for numbers).
 *
 * One key exists only here: beacon_url, where tracker.js sends its
 * beacons ('' = the same-origin path /dxtracker/api/v1/beacons served by a
 * reverse proxy in front of the daemon; 'relay' = the extension's own Relay
 * action, for installations without such a proxy). The daemon ignores it.
 *
 * Framework-independent: takes a mysqli, uses no Vtiger class.
 */
final class Dxt_Settings
{
    /** Where tracker.js posts when beacon_url is empty. */
    const DEFAULT_BEACON_PATH = '/dxtracker/api/v1/beacons';

    /** beacon_url value that selects the extension's relay action. */
    const BEACON_RELAY = 'relay';

    /**
     * Editable keys: name => [default, rule, arg1, arg2]. beacon_secret is
     * deliberately absent: it is made by `dxtracker migrate` and never shown
     * or edited here.
     */
    private static $keys = array(
        'track_listview_export'   => array('1', 'bool'),
        'track_report_export'     => array('1', 'bool'),
        'track_scheduled_reports' => array('1', 'bool'),
        'track_copy'              => array('1', 'bool'),
        'notify_admin_email'      => array('', 'emails'),
        'notify_min_records'      => array('0', 'int', 0, 2147483647),
        'capture_content'         => array('1', 'bool'),
        'capture_max_bytes'       => array('104857600', 'int', 0, 1099511627776),
        'copy_max_chars'          => array('65536', 'int', 0, 10485760),
        'retention_days'          => array('365', 'int', 1, 36500),
        'company_domains'         => array('', 'domains'),
        'beacon_url'              => array('', 'beacon_url'),
        // Notifications and the daily digest (the webhook's signing key is
        // a daemon secret, webhook_secret in its config file, never here).
        'notify_language'         => array('en', 'enum', array('en', 'ja')),
        'notify_attach_content'   => array('0', 'bool'),
        'notify_max_per_minute'   => array('10', 'int', 1, 10000),
        'notify_webhook_url'      => array('', 'webhook_url'),
        'digest_enabled'          => array('0', 'bool'),
        'digest_schedule'         => array('0 8 * * *', 'cron'),
        'digest_timezone'         => array('UTC', 'timezone'),
        'anchor_enabled'          => array('1', 'bool'),
        // Retention: when the purge runs, how much it deletes per
        // transaction, and an optional cap on stored captured content.
        'retention_schedule'      => array('17 3 * * *', 'cron'),
        'retention_timezone'      => array('UTC', 'timezone'),
        'retention_batch'         => array('1000', 'int', 100, 10000),
        'content_max_mb'          => array('0', 'int', 0, 1073741824),
    );

    /** Names of the editable keys, in a stable order. */
    public static function names(): array
    {
        return array_keys(self::$keys);
    }

    /** Whether $name is a key this page may write. */
    public static function isEditable(string $name): bool
    {
        return isset(self::$keys[$name]);
    }

    /** Default value of an editable key ('' for unknown names). */
    public static function defaultValue(string $name): string
    {
        return isset(self::$keys[$name]) ? self::$keys[$name][0] : '';
    }

    /**
     * Checks and normalises one value. Surrounding blanks are ignored.
     *
     * @throws Dxt_SettingsException naming the key and what a right value
     *         looks like (the message reaches the administrator).
     */
    public static function validate(string $name, $value): string
    {
        if (!isset(self::$keys[$name])) {
            throw new Dxt_SettingsException($name, $name . ': unknown or read-only setting');
        }
        if (is_bool($value)) {
            $value = $value ? '1' : '0';
        } elseif (is_int($value)) {
            $value = (string) $value;
        } elseif (!is_string($value)) {
            throw new Dxt_SettingsException($name, $name . ': want a text value');
        }
        $rule = self::$keys[$name];
        $v = trim($value);
        switch ($rule[1]) {
            case 'bool':
                $err = self::validBool($v, $out);
                break;
            case 'int':
                $err = self::validInt($v, $rule[2], $rule[3], $out);
                break;
            case 'emails':
                $err = self::validEmails($v, $out);
                break;
            case 'domains':
                $err = self::validDomains($v, $out);
                break;
            case 'enum':
                $err = self::validEnum($v, $rule[2], $out);
                break;
            case 'webhook_url':
                $err = self::validWebhookUrl($v, $out);
                break;
            case 'cron':
                $err = self::validCron($v, $out);
                break;
            case 'timezone':
                $err = self::validTimezone($v, $out);
                break;
            default:
                $err = self::validBeaconUrl($v, $out);
        }
        if ($err !== null) {
            throw new Dxt_SettingsException($name, $name . ': ' . $err);
        }
        return $out;
    }

    /**
     * Validates several values. Returns [clean values, errors], errors being
     * name => message; clean holds only the values that passed.
     */
    public static function validateAll(array $values): array
    {
        $clean = array();
        $errors = array();
        foreach ($values as $name => $value) {
            $name = (string) $name;
            try {
                $clean[$name] = self::validate($name, $value);
            } catch (Dxt_SettingsException $e) {
                $errors[$name] = $e->getMessage();
            }
        }
        ksort($clean);
        ksort($errors);
        return array($clean, $errors);
    }

    /**
     * Reads the editable settings: every editable key, stored value or its
     * default. A stored value that no longer validates shows as the default,
     * as the daemon treats it (a hand-edited row cannot stop tracking).
     */
    public static function load(mysqli $db): array
    {
        $raw = array();
        $res = $db->query('SELECT name, value FROM dxt_config');
        if ($res === false) {
            throw new RuntimeException('read dxt_config: ' . $db->error);
        }
        while ($row = $res->fetch_assoc()) {
            $raw[$row['name']] = $row['value'];
        }
        $res->free();
        $out = array();
        foreach (self::$keys as $name => $rule) {
            $out[$name] = $rule[0];
            if (array_key_exists($name, $raw)) {
                try {
                    $out[$name] = self::validate($name, $raw[$name]);
                } catch (Dxt_SettingsException $e) {
                    // keep the default, like ParseSettings in the daemon
                }
            }
        }
        return $out;
    }

    /**
     * Validates every value and stores them in ONE transaction; nothing is
     * written if any value is wrong. Returns the normalised values stored.
     * Each row records who set it (dxt_config.updated_by, which the
     * daemon's retention audit names): $updatedBy, else the user name of
     * Vtiger's global $current_user (the logged-in administrator).
     *
     * @throws Dxt_SettingsValidationException listing every wrong value.
     * @throws RuntimeException when the database fails (rolled back).
     */
    public static function save(mysqli $db, array $values, ?string $updatedBy = null): array
    {
        if ($updatedBy === null) {
            $user = isset($GLOBALS['current_user']) ? $GLOBALS['current_user'] : null;
            $updatedBy = is_object($user) && isset($user->user_name) && is_scalar($user->user_name) ? (string) $user->user_name : null;
        }
        list($clean, $errors) = self::validateAll($values);
        if ($errors) {
            throw new Dxt_SettingsValidationException($errors);
        }
        if (!$clean) {
            return array();
        }
        if (!$db->begin_transaction()) {
            throw new RuntimeException('write dxt_config: ' . $db->error);
        }
        try {
            $stmt = $db->prepare('INSERT INTO dxt_config (name, value, updated_at, updated_by) VALUES (?, ?, UTC_TIMESTAMP(6), ?)
ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at), updated_by = VALUES(updated_by)');
            if ($stmt === false) {
                throw new RuntimeException('write dxt_config: ' . $db->error);
            }
            foreach ($clean as $name => $value) {
                $n = $name;
                $v = $value;
                $stmt->bind_param('sss', $n, $v, $updatedBy);
                if (!$stmt->execute()) {
                    throw new RuntimeException('write dxt_config ' . $name . ': ' . $stmt->error);
                }
            }
            $stmt->close();
            if (!$db->commit()) {
                throw new RuntimeException('write dxt_config: commit: ' . $db->error);
            }
        } catch (Throwable $e) {
            $db->rollback();
            if ($e instanceof RuntimeException) {
                throw $e;
            }
            throw new RuntimeException('write dxt_config: ' . $e->getMessage(), 0, $e);
        }
        return $clean;
    }

    /**
     * Where tracker.js should post beacons for a stored beacon_url value:
     * the same-origin default path, the relay URL, or the configured URL.
     */
    public static function beaconTarget(string $configured, string $relayUrl): string
    {
        $configured = trim($configured);
        if ($configured === '') {
            return self::DEFAULT_BEACON_PATH;
        }
        if ($configured === self::BEACON_RELAY) {
            return $relayUrl;
        }
        return $configured;
    }

    /** Splits a list on commas, semicolons and newlines, dropping blanks. */
    public static function splitList(string $v): array
    {
        $out = array();
        foreach (preg_split('/[,;\n]/', $v) as $p) {
            $p = trim($p);
            if ($p !== '') {
                $out[] = $p;
            }
        }
        return $out;
    }

    private static function validBool(string $v, &$out): ?string
    {
        switch (strtolower($v)) {
            case '1':
            case 'true':
            case 'on':
            case 'yes':
                $out = '1';
                return null;
            case '0':
            case 'false':
            case 'off':
            case 'no':
            case '':
                $out = '0';
                return null;
        }
        return sprintf('want 1 or 0, got "%s"', $v);
    }

    private static function validInt(string $v, int $min, int $max, &$out): ?string
    {
        // Like strconv.ParseInt: optional sign, decimal digits, nothing else.
        $bad = sprintf('want a whole number from %d to %d, got "%s"', $min, $max, $v);
        if (!preg_match('/^[+-]?[0-9]+$/D', $v)) {
            return $bad;
        }
        $digits = ltrim(ltrim($v, '+-'), '0');
        if (strlen($digits) > 18) {
            return $bad; // beyond every maximum here, and beyond PHP's int
        }
        $n = (int) $v;
        if ($n < $min || $n > $max) {
            return $bad;
        }
        $out = (string) $n;
        return null;
    }

    private static function validEmails(string $v, &$out): ?string
    {
        $list = self::splitList($v);
        foreach ($list as $a) {
            if (!self::isEmailAddress($a)) {
                return sprintf('"%s" is not an e-mail address (want e.g. security@example.com, several separated by commas)', $a);
            }
        }
        $out = implode(',', $list);
        return null;
    }

    /**
     * A bare address as Go's net/mail accepts it (local@domain, dot-atoms,
     * no display name, no angle brackets), which is what the daemon mails.
     */
    public static function isEmailAddress(string $a): bool
    {
        $atext = "[A-Za-z0-9!#$%&'*+\\/=?^_`{|}~\\x80-\\xff-]+";
        $dotAtom = $atext . '(?:\\.' . $atext . ')*';
        return strlen($a) <= 254 && preg_match('/^' . $dotAtom . '@' . $dotAtom . '$/D', $a) === 1;
    }

    private static function validDomains(string $v, &$out): ?string
    {
        $list = self::splitList(strtolower($v));
        foreach ($list as $d) {
            if (strpbrk($d, '@/ :') !== false || strpos($d, '.') === false) {
                return sprintf('"%s" is not a mail domain (want e.g. example.com, several separated by commas)', $d);
            }
        }
        $out = implode(',', $list);
        return null;
    }

    private static function validEnum(string $v, array $allowed, &$out): ?string
    {
        $lv = strtolower($v);
        if (in_array($lv, $allowed, true)) {
            $out = $lv;
            return null;
        }
        return sprintf('want one of %s, got "%s"', implode(', ', $allowed), $v);
    }

    private static function validWebhookUrl(string $v, &$out): ?string
    {
        if ($v === '') {
            $out = '';
            return null;
        }
        $p = strlen($v) <= 1024 && !preg_match('/[\s"\'<>\\\\]/', $v) ? parse_url($v) : false;
        if (is_array($p) && isset($p['scheme'], $p['host']) && $p['host'] !== ''
            && in_array(strtolower($p['scheme']), array('http', 'https'), true) && !isset($p['user']) && !isset($p['pass'])) {
            $out = $v;
            return null;
        }
        return sprintf('want empty or an http(s) URL without credentials, e.g. https://hooks.example.com/dxt, got "%s"', $v);
    }

    /**
     * A schedule as robfig/cron's ParseStandard (the daemon's) accepts it:
     * five fields (minute hour day-of-month month day-of-week) of *, ?,
     * numbers, names (jan, mon), ranges, lists and /steps; or @yearly,
     * @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every
     * <duration>; optionally after TZ=<zone> or CRON_TZ=<zone>.
     */
    public static function isCron(string $v): bool
    {
        $v = trim($v);
        if (preg_match('/^(?:CRON_)?TZ=(\S+)\s+(.*)$/sD', $v, $m)) {
            if (!self::isTimezone($m[1])) {
                return false;
            }
            $v = trim($m[2]);
        }
        if ($v !== '' && $v[0] === '@') {
            if (in_array($v, array('@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'), true)) {
                return true;
            }
            return preg_match('/^@every\s+(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h)(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))*$/uD', $v) === 1;
        }
        $fields = preg_split('/\s+/', $v, -1, PREG_SPLIT_NO_EMPTY);
        if (count($fields) !== 5) {
            return false;
        }
        $months = array('jan' => 1, 'feb' => 2, 'mar' => 3, 'apr' => 4, 'may' => 5, 'jun' => 6,
            'jul' => 7, 'aug' => 8, 'sep' => 9, 'oct' => 10, 'nov' => 11, 'dec' => 12);
        $days = array('sun' => 0, 'mon' => 1, 'tue' => 2, 'wed' => 3, 'thu' => 4, 'fri' => 5, 'sat' => 6);
        $bounds = array(array(0, 59, array()), array(0, 23, array()), array(1, 31, array()), array(1, 12, $months), array(0, 6, $days));
        foreach ($fields as $i => $field) {
            foreach (explode(',', $field) as $expr) {
                if (!self::cronRange($expr, $bounds[$i][0], $bounds[$i][1], $bounds[$i][2])) {
                    return false;
                }
            }
        }
        return true;
    }

    private static function cronRange(string $expr, int $min, int $max, array $names): bool
    {
        $parts = explode('/', $expr);
        if (count($parts) > 2) {
            return false;
        }
        $lowHigh = explode('-', $parts[0]);
        if (count($lowHigh) > 2) {
            return false;
        }
        if ($lowHigh[0] === '*' || $lowHigh[0] === '?') {
            if (count($lowHigh) !== 1) {
                return false;
            }
            $start = $min;
            $end = $max;
        } else {
            $start = self::cronValue($lowHigh[0], $names);
            $end = count($lowHigh) === 2 ? self::cronValue($lowHigh[1], $names) : $start;
            if ($start === null || $end === null) {
                return false;
            }
        }
        if (count($parts) === 2) {
            if (!preg_match('/^[0-9]+$/D', $parts[1]) || (int) $parts[1] <= 0 || strlen($parts[1]) > 9) {
                return false;
            }
        }
        return $start >= $min && $end <= $max && $start <= $end;
    }

    private static function cronValue(string $s, array $names): ?int
    {
        $l = strtolower($s);
        if (isset($names[$l])) {
            return $names[$l];
        }
        if (!preg_match('/^[0-9]+$/D', $s) || strlen($s) > 9) {
            return null;
        }
        return (int) $s;
    }

    private static function validCron(string $v, &$out): ?string
    {
        if (self::isCron($v)) {
            $out = $v;
            return null;
        }
        return sprintf('want a cron schedule of five fields such as "0 8 * * *" (08:00 daily) or "30 7 * * 1-5", got "%s"', $v);
    }

    /** An IANA time zone name as Go's time.LoadLocation knows it (not "Local"). */
    public static function isTimezone(string $v): bool
    {
        static $zones = null;
        if ($zones === null) {
            $zones = array_flip(DateTimeZone::listIdentifiers(DateTimeZone::ALL_WITH_BC));
            $zones['UTC'] = 0;
        }
        return $v !== '' && isset($zones[$v]);
    }

    private static function validTimezone(string $v, &$out): ?string
    {
        if (self::isTimezone($v)) {
            $out = $v;
            return null;
        }
        return sprintf('want an IANA time zone such as Asia/Tokyo or UTC, got "%s"', $v);
    }

    private static function validBeaconUrl(string $v, &$out): ?string
    {
        $bad = sprintf('want empty (the same-origin path %s), "relay", a path starting with / or an http(s) URL, got "%s"',
            self::DEFAULT_BEACON_PATH, $v);
        if ($v === '' || $v === self::BEACON_RELAY) {
            $out = $v;
            return null;
        }
        if (strlen($v) > 1024 || preg_match('/[\s"\'<>\\\\]/', $v)) {
            return $bad;
        }
        if ($v[0] === '/' && substr($v, 0, 2) !== '//') {
            $out = $v;
            return null;
        }
        $p = parse_url($v);
        if (is_array($p) && isset($p['scheme'], $p['host']) && in_array(strtolower($p['scheme']), array('http', 'https'), true)
            && !isset($p['user']) && !isset($p['pass'])) {
            $out = $v;
            return null;
        }
        return $bad;
    }
}

/** One wrong setting; getName() says which. */
class Dxt_SettingsException extends InvalidArgumentException
{
    private $name;

    public function __construct(string $name, string $message)
    {
        parent::__construct($message);
        $this->name = $name;
    }

    public function getName(): string
    {
        return $this->name;
    }
}

/** Several wrong settings: getErrors() is name => message. */
class Dxt_SettingsValidationException extends InvalidArgumentException
{
    private $errors;

    public function __construct(array $errors)
    {
        parent::__construct(implode('; ', $errors));
        $this->errors = $errors;
    }

    public function getErrors(): array
    {
        return $this->errors;
    }
}

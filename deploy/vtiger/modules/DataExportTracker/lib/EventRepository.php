<?php
/**
 * Read side of the tracking log for the Settings page: events with filters
 * and keyset paging, captured content streamed back chunk by chunk, the
 * access log of those downloads, and the scheduled reports with their
 * recipients and recent deliveries.
 *
 * Framework-independent: takes a mysqli, uses no Vtiger class. Times in the
 * database are UTC (dxt_event.occurred_at, DATETIME(6)); conversion to the
 * administrator's time zone and date format happens only at the edges
 * (dayRangeToUtc for filters, formatUserDateTime for display).
 */
final class Dxt_EventRepository
{
    const DEFAULT_LIMIT = 50;
    const MAX_LIMIT = 500;

    /** Event types the daemon writes today (CONTRACTS §4). */
    const TYPES = array('listview_export', 'report_export', 'scheduled_report', 'copy');

    /** Mail providers anyone can have an address at (as in the daemon). */
    private static $publicMailDomains = array(
        'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'yahoo.com',
        'ymail.com', 'icloud.com', 'me.com', 'mac.com', 'aol.com', 'gmx.com', 'gmx.net', 'gmx.de', 'web.de',
        'mail.com', 'proton.me', 'protonmail.com', 'zoho.com', 'yandex.com', 'yandex.ru', 'mail.ru', 'qq.com',
        '163.com', '126.com', 'rediffmail.com', 'hotmail.co.uk', 'yahoo.co.uk', 'yahoo.co.in', 'outlook.de',
        't-online.de', 'orange.fr', 'free.fr', 'laposte.net', 'libero.it', 'tutanota.com',
    );

    /** @var mysqli */
    private $db;

    public function __construct(mysqli $db)
    {
        $this->db = $db;
    }

    // ------------------------------------------------------------------
    // Events
    // ------------------------------------------------------------------

    /**
     * One page of events, newest first by (occurred_at, id).
     *
     * $filter keys (all optional, empty = no filter):
     *   type, user (user_name), module, ip: equality filters;
     *   from, to: UTC 'Y-m-d H:i:s[.u]', from inclusive, to exclusive;
     *   limit: page size (default 50, at most 500);
     *   after: cursor of the last row of the page before: the next, older page;
     *   before: cursor of the first row of the page after: the previous, newer page.
     *
     * Returns ['events' => rows, 'older' => cursor|null, 'newer' => cursor|null]:
     * a null cursor means there is no such page. Paging is by keyset on the
     * dxt_event_* indexes (every one ends in occurred_at, id), so page 10,000
     * of a million rows costs what the first does; nothing is counted.
     *
     * @throws InvalidArgumentException for a malformed cursor or date.
     */
    public function listEvents(array $filter): array
    {
        $limit = isset($filter['limit']) ? (int) $filter['limit'] : self::DEFAULT_LIMIT;
        if ($limit <= 0) {
            $limit = self::DEFAULT_LIMIT;
        }
        $limit = min($limit, self::MAX_LIMIT);
        $after = isset($filter['after']) ? (string) $filter['after'] : '';
        $before = isset($filter['before']) ? (string) $filter['before'] : '';
        if ($after !== '' && $before !== '') {
            throw new InvalidArgumentException('give either after or before, not both');
        }
        $newerPage = $before !== '';

        $where = array();
        $types = '';
        $args = array();
        $indexes = array();
        $eq = array('type' => 'dxt_event_type', 'user' => 'dxt_event_user', 'module' => 'dxt_event_module', 'ip' => 'dxt_event_ip');
        $cols = array('type' => 'type', 'user' => 'user_name', 'module' => 'module', 'ip' => 'ip');
        foreach ($eq as $key => $index) {
            if (isset($filter[$key]) && (string) $filter[$key] !== '') {
                $where[] = 'e.' . $cols[$key] . ' = ?';
                $types .= 's';
                $args[] = (string) $filter[$key];
                $indexes[] = $index;
            }
        }
        if (!$indexes) {
            $indexes[] = 'dxt_event_time';
        }
        foreach (array('from' => '>=', 'to' => '<') as $key => $op) {
            if (isset($filter[$key]) && (string) $filter[$key] !== '') {
                $where[] = 'e.occurred_at ' . $op . ' ?';
                $types .= 's';
                $args[] = self::checkUtc((string) $filter[$key]);
            }
        }
        $cursor = $newerPage ? $before : $after;
        if ($cursor !== '') {
            list($at, $id) = self::decodeCursor($cursor);
            // A plain range on the index's time column first; the OR only
            // breaks ties between rows of the same microsecond.
            if ($newerPage) {
                $where[] = 'e.occurred_at >= ? AND (e.occurred_at > ? OR e.id > ?)';
            } else {
                $where[] = 'e.occurred_at <= ? AND (e.occurred_at < ? OR e.id < ?)';
            }
            $types .= 'ssi';
            array_push($args, $at, $at, $id);
        }
        $dir = $newerPage ? 'ASC' : 'DESC';
        // Index names come from the fixed list above, never from input. No
        // join here: with an empty or one-row dxt_content the optimizer reads
        // that table first as a constant and then sorts every event; the
        // content names of the page are looked up afterwards (withContent).
        $sql = 'SELECT ' . self::EVENT_ONLY_COLUMNS
            . "\nFROM dxt_event e FORCE INDEX (" . implode(', ', $indexes) . ')'
            . ($where ? "\nWHERE " . implode("\n  AND ", $where) : '')
            . "\nORDER BY e.occurred_at $dir, e.id $dir\nLIMIT ?";
        $types .= 'i';
        $args[] = $limit + 1;

        $rows = $this->fetchAll($sql, $types, $args);
        $more = count($rows) > $limit;
        if ($more) {
            array_pop($rows);
        }
        if ($newerPage) {
            $rows = array_reverse($rows);
        }
        $events = array_map(array(__CLASS__, 'shapeEvent'), $this->withContent($rows));
        $older = null;
        $newer = null;
        if ($events) {
            $first = $events[0];
            $last = $events[count($events) - 1];
            // Going back (older): there is more when the query said so, or
            // when we came from an older page. Likewise for newer.
            if ($newerPage ? true : $more) {
                $older = self::encodeCursor($last['occurred_at'], $last['id']);
            }
            if ($newerPage ? $more : $cursor !== '') {
                $newer = self::encodeCursor($first['occurred_at'], $first['id']);
            }
        }
        return array('events' => $events, 'older' => $older, 'newer' => $newer);
    }

    /** The SQL of listEvents for $filter, for EXPLAIN in tests. */
    public function explainListEvents(array $filter): array
    {
        $this->lastSql = null;
        $this->capture = true;
        try {
            $this->listEvents($filter);
        } finally {
            $this->capture = false;
        }
        return $this->fetchAll('EXPLAIN ' . $this->lastSql[0], $this->lastSql[1], $this->lastSql[2]);
    }

    /** One event by id, or null. */
    public function getEvent(int $id): ?array
    {
        $rows = $this->fetchAll('SELECT ' . self::EVENT_ONLY_COLUMNS . "\nFROM dxt_event e WHERE e.id = ?", 'i', array($id));
        return $rows ? self::shapeEvent($this->withContent($rows)[0]) : null;
    }

    /**
     * Distinct user names, modules and types for the filter menus. Each
     * value is one index seek (MIN(col) WHERE col > previous on the
     * dxt_event_user/_module/_type index), so a million events with a few
     * hundred users cost a few hundred seeks, not a scan. At most $max
     * values per menu.
     */
    public function filterChoices(int $max = 500): array
    {
        $out = array('users' => array(), 'modules' => array(), 'types' => self::TYPES);
        foreach (array('users' => 'user_name', 'modules' => 'module', 'types' => 'type') as $key => $col) {
            $last = '';
            for ($n = 0; $n < $max; $n++) {
                $rows = $this->fetchAll("SELECT MIN($col) AS v FROM dxt_event WHERE $col > ?", 's', array($last));
                if (!$rows || $rows[0]['v'] === null) {
                    break;
                }
                $last = (string) $rows[0]['v'];
                if (!in_array($last, $out[$key], true)) {
                    $out[$key][] = $last;
                }
            }
        }
        sort($out['types']);
        return $out;
    }

    /** Adds content_name and content_size to event rows (one query for the page). */
    private function withContent(array $rows): array
    {
        $ids = array();
        foreach ($rows as $r) {
            if ($r['content_id'] !== null) {
                $ids[(int) $r['content_id']] = true;
            }
        }
        $meta = array();
        if ($ids) {
            $list = implode(',', array_map('intval', array_keys($ids))); // integers only
            foreach ($this->fetchAll("SELECT id, name, size FROM dxt_content WHERE id IN ($list)", '', array()) as $c) {
                $meta[(int) $c['id']] = $c;
            }
        }
        foreach ($rows as $i => $r) {
            $c = $r['content_id'] !== null && isset($meta[(int) $r['content_id']]) ? $meta[(int) $r['content_id']] : null;
            $rows[$i]['content_name'] = $c ? $c['name'] : null;
            $rows[$i]['content_size'] = $c ? $c['size'] : null;
            if ($r['content_id'] !== null && !$c) {
                $rows[$i]['content_id'] = null; // content removed by retention
            }
        }
        return $rows;
    }

    const EVENT_ONLY_COLUMNS = 'e.id, e.occurred_at, e.type, e.user_id, e.user_name, e.module, e.record_count, e.ip,
  e.user_agent, e.source, e.details, e.content_id, e.report_id, e.notify_state';

    private static function shapeEvent(array $r): array
    {
        $details = json_decode((string) $r['details'], true);
        if (!is_array($details)) {
            $details = trim((string) $r['details']) === '' ? array() : array('raw' => (string) $r['details']);
        }
        return array(
            'id' => (int) $r['id'],
            'occurred_at' => $r['occurred_at'],
            'type' => $r['type'],
            'user_id' => $r['user_id'] === null ? null : (int) $r['user_id'],
            'user_name' => $r['user_name'],
            'module' => $r['module'],
            'record_count' => $r['record_count'] === null ? null : (int) $r['record_count'],
            'ip' => $r['ip'],
            'user_agent' => $r['user_agent'],
            'source' => $r['source'],
            'details' => $details,
            'content_id' => $r['content_id'] === null ? null : (int) $r['content_id'],
            'has_content' => $r['content_id'] !== null,
            'content_name' => $r['content_name'],
            'content_size' => $r['content_size'] === null ? null : (int) $r['content_size'],
            'report_id' => $r['report_id'] === null ? null : (int) $r['report_id'],
            'notified' => $r['notify_state'] === 'sent',
        );
    }

    // ------------------------------------------------------------------
    // Cursors and times
    // ------------------------------------------------------------------

    /**
     * A cursor is 16 bytes, base64url without padding: occurred_at as unix
     * microseconds and the event id, both big-endian (the daemon's API uses
     * the same form). Opaque to the page: it only hands back what it got.
     */
    public static function encodeCursor(string $occurredAt, int $id): string
    {
        $micros = self::utcToMicros($occurredAt);
        return rtrim(strtr(base64_encode(pack('J', $micros) . pack('J', $id)), '+/', '-_'), '=');
    }

    /** [occurred_at 'Y-m-d H:i:s.u', id] of a cursor; InvalidArgumentException if malformed. */
    public static function decodeCursor(string $cursor): array
    {
        $raw = strlen($cursor) <= 64 && preg_match('/^[A-Za-z0-9_-]+$/D', $cursor)
            ? base64_decode(strtr($cursor, '-_', '+/'), true) : false;
        if ($raw === false || strlen($raw) !== 16) {
            throw new InvalidArgumentException('malformed cursor: not a cursor from this list');
        }
        $micros = unpack('J', substr($raw, 0, 8))[1];
        $id = unpack('J', substr($raw, 8, 8))[1];
        // Upper bound: 9999-12-31 23:59:59.999999.
        if ($micros < 0 || $micros > 253402300799999999 || $id <= 0) {
            throw new InvalidArgumentException('malformed cursor: position out of range');
        }
        $secs = intdiv($micros, 1000000);
        return array(gmdate('Y-m-d H:i:s', $secs) . sprintf('.%06d', $micros % 1000000), $id);
    }

    private static function utcToMicros(string $utc): int
    {
        if (!preg_match('/^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/D', $utc, $m)) {
            throw new InvalidArgumentException('not a UTC time: ' . $utc);
        }
        $dt = DateTime::createFromFormat('!Y-m-d H:i:s', $m[1], new DateTimeZone('UTC'));
        if ($dt === false) {
            throw new InvalidArgumentException('not a UTC time: ' . $utc);
        }
        $frac = isset($m[2]) ? (int) str_pad($m[2], 6, '0') : 0;
        return (int) $dt->format('U') * 1000000 + $frac;
    }

    private static function checkUtc(string $utc): string
    {
        self::utcToMicros($utc);
        return $utc;
    }

    /**
     * Converts a day range picked by a user in time zone $tz ('Y-m-d' days,
     * both inclusive, either may be empty) to UTC bounds for listEvents:
     * ['from' => start of the first day, 'to' => start of the day after the
     * last], each 'Y-m-d H:i:s' or null. An unknown time zone counts as UTC.
     *
     * @throws InvalidArgumentException for a date that is not Y-m-d.
     */
    public static function dayRangeToUtc(?string $fromDay, ?string $toDay, string $tz): array
    {
        $zone = self::zone($tz);
        $out = array('from' => null, 'to' => null);
        foreach (array('from' => $fromDay, 'to' => $toDay) as $key => $day) {
            $day = trim((string) $day);
            if ($day === '') {
                continue;
            }
            if (!preg_match('/^(\d{4})-(\d{2})-(\d{2})$/D', $day, $m) || !checkdate((int) $m[2], (int) $m[3], (int) $m[1])) {
                throw new InvalidArgumentException('not a date (want yyyy-mm-dd): ' . $day);
            }
            $local = new DateTime($day . ' 00:00:00', $zone);
            if ($key === 'to') {
                $local->modify('+1 day');
            }
            $local->setTimezone(new DateTimeZone('UTC'));
            $out[$key] = $local->format('Y-m-d H:i:s');
        }
        return $out;
    }

    /**
     * Formats a UTC time for a Vtiger user: the user's time zone, date
     * format (yyyy-mm-dd, dd-mm-yyyy, mm-dd-yyyy, with - . or /) and hour
     * format ('12' = 03:04:05 PM, else 15:04:05).
     */
    public static function formatUserDateTime(string $utc, string $tz, string $dateFormat = 'yyyy-mm-dd', string $hourFormat = '24'): string
    {
        $micros = self::utcToMicros($utc);
        $dt = new DateTime('@' . intdiv($micros, 1000000));
        $dt->setTimezone(self::zone($tz));
        $date = $dt->format(self::phpDateFormat($dateFormat));
        $time = $hourFormat === '12' ? $dt->format('h:i:s A') : $dt->format('H:i:s');
        return $date . ' ' . $time;
    }

    /** Formats a unix time like formatUserDateTime. */
    public static function formatUserUnixTime(int $unix, string $tz, string $dateFormat = 'yyyy-mm-dd', string $hourFormat = '24'): string
    {
        return self::formatUserDateTime(gmdate('Y-m-d H:i:s', $unix), $tz, $dateFormat, $hourFormat);
    }

    private static function phpDateFormat(string $format): string
    {
        if (!preg_match('/^(yyyy|mm|dd)([-.\/])(yyyy|mm|dd)\2(yyyy|mm|dd)$/D', $format, $m)
            || count(array_unique(array($m[1], $m[3], $m[4]))) !== 3) {
            return 'Y-m-d';
        }
        return str_replace(array('yyyy', 'mm', 'dd'), array('Y', 'm', 'd'), $format);
    }

    private static function zone(string $tz): DateTimeZone
    {
        try {
            return new DateTimeZone($tz !== '' ? $tz : 'UTC');
        } catch (Exception | ValueError $e) { // PHP 8 throws ValueError for a name with a NUL byte
            return new DateTimeZone('UTC');
        }
    }

    // ------------------------------------------------------------------
    // Content and access log
    // ------------------------------------------------------------------

    /**
     * The captured content of event $eventId, ready to stream, or null when
     * the event does not exist or captured nothing. Reads only metadata.
     */
    public function openContent(int $eventId): ?Dxt_ContentStream
    {
        $rows = $this->fetchAll('SELECT c.id, c.name, c.media_type, c.size, c.sha256, c.compression, c.chunk_count, c.truncated
FROM dxt_event e JOIN dxt_content c ON c.id = e.content_id WHERE e.id = ?', 'i', array($eventId));
        if (!$rows) {
            return null;
        }
        return new Dxt_ContentStream($this->db, $eventId, $rows[0]);
    }

    /**
     * Appends one row to dxt_access_log and returns its id. Keys: principal
     * (required), auth_method ('vtiger'), action ('content_download'),
     * event_id, remote_ip, path, status (200). Written BEFORE the content is
     * sent, so a download that breaks off half way is still on record.
     */
    public function logAccess(array $e): int
    {
        $principal = self::clip((string) (isset($e['principal']) ? $e['principal'] : ''), 255);
        if ($principal === '') {
            throw new InvalidArgumentException('access log: principal is required');
        }
        $auth = self::clip((string) (isset($e['auth_method']) ? $e['auth_method'] : 'vtiger'), 16);
        $action = self::clip((string) (isset($e['action']) ? $e['action'] : 'content_download'), 32);
        $eventId = isset($e['event_id']) ? (int) $e['event_id'] : null;
        $ip = isset($e['remote_ip']) && $e['remote_ip'] !== '' ? self::clip((string) $e['remote_ip'], 45) : null;
        $path = self::clip((string) (isset($e['path']) ? $e['path'] : ''), 1024);
        $status = isset($e['status']) ? (int) $e['status'] : 200;
        $at = self::nowUtc();
        $this->exec('INSERT INTO dxt_access_log (at, principal, auth_method, action, event_id, remote_ip, path, status)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)', 'ssssissi', array($at, $principal, $auth, $action, $eventId, $ip, $path, $status));
        return (int) $this->db->insert_id;
    }

    /** Corrects the status of access log row $id (e.g. 500 after a broken download). */
    public function setAccessStatus(int $id, int $status): void
    {
        $this->exec('UPDATE dxt_access_log SET status = ? WHERE id = ?', 'ii', array($status, $id));
    }

    // ------------------------------------------------------------------
    // Scheduled reports
    // ------------------------------------------------------------------

    /**
     * Every schedule of vtiger_schedulereports with its report, recipients
     * resolved to addresses as Vtiger's cron resolves them (users; roles;
     * groups with their nested groups, roles and roles with subordinates;
     * the specific addresses), each flagged external when its domain is not
     * one of the company's, and the $recent newest scheduled_report events
     * of that report (with the recipients the daemon recorded, if any).
     *
     * $configuredDomains: dxt_config company_domains (list); when empty, the
     * company website's domain and active administrators' mail domains.
     */
    public function scheduledReports(array $configuredDomains, int $recent = 5): array
    {
        $domains = $this->companyDomains($configuredDomains);
        $rows = $this->fetchAll('SELECT s.reportid, s.scheduleid, s.recipients, s.specificemails, s.schdate,
  CAST(s.schtime AS CHAR) AS schtime, s.schdayoftheweek, s.schdayofthemonth, s.schannualdates,
  UNIX_TIMESTAMP(s.next_trigger_time) AS next_unix, s.fileformat,
  r.reportname, r.owner, m.primarymodule, u.user_name AS owner_name
FROM vtiger_schedulereports s
LEFT JOIN vtiger_report r ON r.reportid = s.reportid
LEFT JOIN vtiger_reportmodules m ON m.reportmodulesid = s.reportid
LEFT JOIN vtiger_users u ON u.id = r.owner
ORDER BY s.reportid', '', array());
        if (!$rows) {
            return array();
        }
        $org = $this->loadOrgChart();
        $out = array();
        foreach ($rows as $r) {
            $reportId = (int) $r['reportid'];
            $recipients = $this->resolveRecipients((string) $r['recipients'], (string) $r['specificemails'], $org, $domains);
            $external = 0;
            foreach ($recipients['list'] as $x) {
                $external += $x['external'] ? 1 : 0;
            }
            $next = $r['next_unix'] === null ? null : (int) round((float) $r['next_unix']);
            $out[] = array(
                'report_id' => $reportId,
                'report_name' => $r['reportname'] === null ? null : html_entity_decode($r['reportname'], ENT_QUOTES, 'UTF-8'),
                'module' => $r['primarymodule'],
                'owner' => $r['owner_name'],
                'schedule' => self::describeSchedule($r),
                'format' => $r['fileformat'] !== null && $r['fileformat'] !== '' ? $r['fileformat'] : 'CSV',
                'next_trigger_unix' => $next !== null && $next > 0 ? $next : null,
                'recipients' => $recipients['list'],
                'recipient_entries' => $recipients['entries'],
                'recipients_error' => $recipients['error'],
                'external_recipients' => $external,
                'recent' => $recent > 0 ? $this->recentDeliveries($reportId, $recent) : array(),
            );
        }
        return $out;
    }

    /** The newest scheduled_report events of one report (dxt_event_report index). */
    public function recentDeliveries(int $reportId, int $limit = 5): array
    {
        $rows = $this->fetchAll('SELECT ' . self::EVENT_ONLY_COLUMNS . "\nFROM dxt_event e FORCE INDEX (dxt_event_report)
WHERE e.report_id = ? AND e.type = 'scheduled_report'
ORDER BY e.occurred_at DESC, e.id DESC LIMIT ?", 'ii', array($reportId, max(1, min($limit, 100))));
        $out = array();
        foreach ($this->withContent($rows) as $r) {
            $ev = self::shapeEvent($r);
            $list = array();
            if (isset($ev['details']['recipients']) && is_array($ev['details']['recipients'])) {
                foreach ($ev['details']['recipients'] as $x) {
                    if (is_array($x) && isset($x['email'])) {
                        $list[] = array(
                            'name' => isset($x['name']) ? (string) $x['name'] : '',
                            'email' => (string) $x['email'],
                            'external' => !empty($x['external']),
                        );
                    }
                }
            }
            $ev['delivered_to'] = $list;
            $ev['external_recipients'] = isset($ev['details']['external_recipients'])
                ? (int) $ev['details']['external_recipients'] : count(array_filter($list, function ($x) {
                    return $x['external'];
                }));
            $out[] = $ev;
        }
        return $out;
    }

    /**
     * The mail domains counted as the company's: $configured when not
     * empty, else the company website's domain and the mail domains of
     * active administrators (public providers left out).
     */
    public function companyDomains(array $configured): array
    {
        $out = array();
        $add = function ($d) use (&$out) {
            $d = self::normalizeDomain((string) $d);
            if ($d !== '' && !in_array($d, $out, true)) {
                $out[] = $d;
            }
        };
        foreach ($configured as $d) {
            $add($d);
        }
        if ($out) {
            return $out;
        }
        $rows = $this->fetchAll("SELECT COALESCE(website, '') AS website FROM vtiger_organizationdetails ORDER BY organization_id LIMIT 1", '', array());
        if ($rows) {
            $add(self::websiteDomain($rows[0]['website']));
        }
        $rows = $this->fetchAll("SELECT email1 FROM vtiger_users WHERE is_admin = 'on' AND status = 'Active' AND deleted = 0 ORDER BY id", '', array());
        foreach ($rows as $r) {
            $at = strrpos((string) $r['email1'], '@');
            if ($at === false) {
                continue;
            }
            $d = self::normalizeDomain(substr($r['email1'], $at + 1));
            if (!in_array($d, self::$publicMailDomains, true)) {
                $add($d);
            }
        }
        return $out;
    }

    /** Whether $email leaves the company: its domain is none of $domains nor below one. */
    public static function isExternal(string $email, array $domains): bool
    {
        $at = strrpos($email, '@');
        if ($at === false) {
            return true;
        }
        $d = self::normalizeDomain(substr($email, $at + 1));
        if ($d === '') {
            return true;
        }
        foreach ($domains as $c) {
            $c = self::normalizeDomain((string) $c);
            if ($c !== '' && ($d === $c || substr($d, -strlen($c) - 1) === '.' . $c)) {
                return false;
            }
        }
        return true;
    }

    private static function normalizeDomain(string $d): string
    {
        $d = strtolower(trim($d));
        if (substr($d, -1) === '>') {
            $d = substr($d, 0, -1);
        }
        if (substr($d, 0, 1) === '@') {
            $d = substr($d, 1);
        }
        if (substr($d, 0, 2) === '*.') {
            $d = substr($d, 2);
        }
        return trim($d, '.');
    }

    private static function websiteDomain(string $site): string
    {
        $s = strtolower(trim($site));
        $i = strpos($s, '://');
        $s = $i !== false ? substr($s, $i + 3) : preg_replace('#^//#', '', $s);
        $s = preg_replace('#[/?\#].*$#s', '', $s);
        $i = strrpos($s, '@');
        if ($i !== false) {
            $s = substr($s, $i + 1);
        }
        $s = preg_replace('/:\d*$/', '', $s);
        $s = trim($s, '.');
        if (substr($s, 0, 4) === 'www.') {
            $s = substr($s, 4);
        }
        if ($s === '' || strpbrk($s, " \t[]:") !== false || strpos($s, '.') === false) {
            return '';
        }
        return $s;
    }

    private static function describeSchedule(array $r): array
    {
        $list = function ($raw) {
            $v = json_decode((string) $raw, true);
            if (!is_array($v)) {
                return array();
            }
            return array_values(array_filter(array_map('strval', array_filter($v, 'is_scalar')), 'strlen'));
        };
        $time = (string) $r['schtime'];
        return array(
            'type' => (int) $r['scheduleid'], // 1 daily, 2 weekly, 3 monthly by date, 4 annually, 5 on a date
            'time' => $time !== '' ? substr($time, 0, 5) : '',
            'weekdays' => $list($r['schdayoftheweek']),  // "1" Monday .. "7" Sunday
            'month_days' => $list($r['schdayofthemonth']),
            'annual_dates' => $list($r['schannualdates']),
            'date' => implode(', ', $list($r['schdate'])),
        );
    }

    /**
     * Roles, groups and users as far as recipient resolution needs them.
     * These tables are small (a few hundred rows), so they are read whole.
     */
    private function loadOrgChart(): array
    {
        $o = array('users' => array(), 'user_role' => array(), 'roles' => array(), 'group_names' => array(),
            'members' => array(), 'subgroups' => array(), 'group_roles' => array(), 'group_rs' => array());
        foreach ($this->fetchAll("SELECT id, user_name, first_name, last_name, email1, status, deleted FROM vtiger_users ORDER BY id", '', array()) as $u) {
            $o['users'][(int) $u['id']] = $u;
        }
        foreach ($this->fetchAll('SELECT userid, roleid FROM vtiger_user2role', '', array()) as $r) {
            $o['user_role'][(int) $r['userid']] = $r['roleid'];
        }
        foreach ($this->fetchAll('SELECT roleid, rolename, parentrole FROM vtiger_role', '', array()) as $r) {
            $o['roles'][$r['roleid']] = $r;
        }
        foreach ($this->fetchAll('SELECT groupid, groupname FROM vtiger_groups', '', array()) as $g) {
            $o['group_names'][(int) $g['groupid']] = $g['groupname'];
        }
        $pairs = array(
            'members' => 'SELECT groupid AS g, userid AS v FROM vtiger_users2group',
            'subgroups' => 'SELECT groupid AS g, containsgroupid AS v FROM vtiger_group2grouprel',
            'group_roles' => 'SELECT groupid AS g, roleid AS v FROM vtiger_group2role',
            'group_rs' => 'SELECT groupid AS g, roleandsubid AS v FROM vtiger_group2rs',
        );
        foreach ($pairs as $key => $sql) {
            foreach ($this->fetchAll($sql, '', array()) as $p) {
                $o[$key][(int) $p['g']][] = $p['v'];
            }
        }
        return $o;
    }

    private function roleUsers(array $o, string $roleId, bool $withSubordinates): array
    {
        $roleIds = array($roleId);
        if ($withSubordinates && isset($o['roles'][$roleId])) {
            $prefix = (string) $o['roles'][$roleId]['parentrole'] . '::';
            foreach ($o['roles'] as $id => $r) {
                if (strpos((string) $r['parentrole'], $prefix) === 0) {
                    $roleIds[] = (string) $id;
                }
            }
        }
        $out = array();
        foreach ($o['user_role'] as $uid => $rid) {
            if (in_array((string) $rid, $roleIds, true)) {
                $out[] = $uid;
            }
        }
        return $out;
    }

    private function groupUsers(array $o, int $groupId, array &$seen): array
    {
        if (isset($seen[$groupId])) {
            return array(); // a cycle in nested groups
        }
        $seen[$groupId] = true;
        $out = isset($o['members'][$groupId]) ? array_map('intval', $o['members'][$groupId]) : array();
        foreach (isset($o['group_roles'][$groupId]) ? $o['group_roles'][$groupId] : array() as $rid) {
            $out = array_merge($out, $this->roleUsers($o, (string) $rid, false));
        }
        foreach (isset($o['group_rs'][$groupId]) ? $o['group_rs'][$groupId] : array() as $rid) {
            $out = array_merge($out, $this->roleUsers($o, (string) $rid, true));
        }
        foreach (isset($o['subgroups'][$groupId]) ? $o['subgroups'][$groupId] : array() as $sub) {
            $out = array_merge($out, $this->groupUsers($o, (int) $sub, $seen));
        }
        return $out;
    }

    /**
     * Recipients of one schedule: 'entries' as configured (kind, id, label),
     * 'list' resolved (name, email, via, external), 'error' for a column
     * that is not the JSON Vtiger writes.
     */
    private function resolveRecipients(string $recipientsJson, string $specificJson, array $o, array $domains): array
    {
        $entries = array();
        $list = array();
        $error = null;
        $byEmail = array();
        $addUser = function ($uid, $via) use ($o, $domains, &$list, &$byEmail) {
            if (!isset($o['users'][$uid]) || (int) $o['users'][$uid]['deleted'] !== 0) {
                return; // Vtiger skips deleted users
            }
            $u = $o['users'][$uid];
            $email = trim((string) $u['email1']);
            $key = strtolower($email);
            if ($email === '' || isset($byEmail[$key])) {
                return;
            }
            $byEmail[$key] = true;
            $name = trim($u['first_name'] . ' ' . $u['last_name']);
            $list[] = array('name' => $name !== '' ? $name : (string) $u['user_name'], 'email' => $email,
                'via' => $via, 'external' => self::isExternal($email, $domains));
        };

        $decoded = trim($recipientsJson) === '' ? array() : json_decode($recipientsJson, true);
        if (!is_array($decoded)) {
            $error = 'recipients: not a JSON list';
            $decoded = array();
        }
        foreach ($decoded as $entry) {
            if (!is_string($entry)) {
                continue;
            }
            $parts = explode('::', $entry, 2);
            $id = isset($parts[1]) ? $parts[1] : '';
            // Classified by substring, as Vtiger's ScheduleReports model does.
            if (strpos($entry, 'USER') !== false) {
                $uid = (int) $id;
                $label = isset($o['users'][$uid]) ? (string) $o['users'][$uid]['user_name'] : $entry;
                $entries[] = array('kind' => 'user', 'id' => $id, 'label' => $label);
                $addUser($uid, 'user ' . $label);
            } elseif (strpos($entry, 'GROUP') !== false) {
                $gid = (int) $id;
                $label = isset($o['group_names'][$gid]) ? (string) $o['group_names'][$gid] : $entry;
                $entries[] = array('kind' => 'group', 'id' => $id, 'label' => $label);
                $seen = array();
                foreach ($this->groupUsers($o, $gid, $seen) as $uid) {
                    $addUser($uid, 'group ' . $label);
                }
            } elseif (strpos($entry, 'ROLE') !== false) {
                $label = isset($o['roles'][$id]) ? (string) $o['roles'][$id]['rolename'] : $entry;
                $entries[] = array('kind' => 'role', 'id' => $id, 'label' => $label);
                foreach ($this->roleUsers($o, $id, false) as $uid) {
                    $addUser($uid, 'role ' . $label);
                }
            } else {
                $entries[] = array('kind' => 'unknown', 'id' => $entry, 'label' => $entry);
            }
        }

        $specific = trim($specificJson) === '' ? '' : json_decode($specificJson, true);
        if ($specific !== null && !is_string($specific)) {
            $error = ($error ? $error . '; ' : '') . 'specificemails: not a JSON string';
            $specific = '';
        }
        foreach (explode(',', (string) $specific) as $email) {
            $email = trim($email);
            if ($email === '') {
                continue;
            }
            $entries[] = array('kind' => 'email', 'id' => $email, 'label' => $email);
            $key = strtolower($email);
            if (isset($byEmail[$key])) {
                continue;
            }
            $byEmail[$key] = true;
            $list[] = array('name' => '', 'email' => $email, 'via' => 'specific address',
                'external' => self::isExternal($email, $domains));
        }
        return array('entries' => $entries, 'list' => $list, 'error' => $error);
    }

    // ------------------------------------------------------------------
    // Small helpers
    // ------------------------------------------------------------------

    /** @var array|null [sql, types, args] of the last query when capturing */
    private $lastSql;
    /** @var bool */
    private $capture = false;

    private function fetchAll(string $sql, string $types, array $args): array
    {
        if ($this->capture) {
            $this->lastSql = array($sql, $types, $args);
            return array();
        }
        $stmt = $this->prepared($sql, $types, $args);
        $res = $stmt->get_result();
        if ($res === false) {
            $err = $stmt->error;
            $stmt->close();
            throw new RuntimeException('dxtracker query failed: ' . $err);
        }
        $rows = $res->fetch_all(MYSQLI_ASSOC);
        $res->free();
        $stmt->close();
        return $rows;
    }

    private function exec(string $sql, string $types, array $args): void
    {
        $stmt = $this->prepared($sql, $types, $args);
        $stmt->close();
    }

    private function prepared(string $sql, string $types, array $args): mysqli_stmt
    {
        $stmt = $this->db->prepare($sql);
        if ($stmt === false) {
            throw new RuntimeException('dxtracker query failed: ' . $this->db->error);
        }
        if ($types !== '') {
            $refs = array($types);
            foreach ($args as $k => $v) {
                $refs[] = &$args[$k];
            }
            call_user_func_array(array($stmt, 'bind_param'), $refs);
        }
        if (!$stmt->execute()) {
            $err = $stmt->error;
            $stmt->close();
            throw new RuntimeException('dxtracker query failed: ' . $err);
        }
        return $stmt;
    }

    /** Now in UTC with microseconds, as the DATETIME(6) columns hold it. */
    public static function nowUtc(): string
    {
        $t = microtime(true);
        $s = (int) floor($t);
        return gmdate('Y-m-d H:i:s', $s) . sprintf('.%06d', (int) (($t - $s) * 1000000));
    }

    /**
     * Cuts $s to at most $n characters (the columns count characters, not
     * bytes), replacing invalid UTF-8 first so the result is always valid.
     */
    public static function clip(string $s, int $n): string
    {
        if (!preg_match('//u', $s)) {
            $s = htmlspecialchars_decode(htmlspecialchars($s, ENT_NOQUOTES | ENT_SUBSTITUTE, 'UTF-8'), ENT_NOQUOTES);
        }
        if (strlen($s) <= $n) {
            return $s;
        }
        $chars = 0;
        $len = strlen($s);
        for ($i = 0; $i < $len; $i++) {
            if ((ord($s[$i]) & 0xC0) !== 0x80) {
                if ($chars === $n) {
                    break;
                }
                $chars++;
            }
        }
        return substr($s, 0, $i);
    }
}

/**
 * The captured bytes of one event, read from dxt_content_chunk one row at a
 * time (each at most 1 MiB of gzip), inflated incrementally and handed to a
 * writer as they come, so memory stays bounded whatever the size. The
 * SHA-256 and size of what was sent are compared with the stored ones at
 * the end.
 */
final class Dxt_ContentStream
{
    /** Compressed bytes fed to inflate per step: bounds the inflated piece. */
    const FEED = 8192;

    public $eventId;
    public $contentId;
    public $name;
    public $mediaType;
    public $size;
    public $sha256;
    public $compression;
    public $chunkCount;
    public $truncated;

    /** After send(): bytes sent, their SHA-256, and what went wrong if anything. */
    public $sentBytes = 0;
    public $sentSha256 = '';
    public $error = null;

    /** @var mysqli */
    private $db;

    public function __construct(mysqli $db, int $eventId, array $meta)
    {
        $this->db = $db;
        $this->eventId = $eventId;
        $this->contentId = (int) $meta['id'];
        $this->name = $meta['name'];
        $this->mediaType = $meta['media_type'];
        $this->size = (int) $meta['size'];
        $this->sha256 = strtolower((string) $meta['sha256']);
        $this->compression = (string) $meta['compression'];
        $this->chunkCount = (int) $meta['chunk_count'];
        $this->truncated = (bool) $meta['truncated'];
    }

    /** File name to offer: the stored name, or event-<id>.bin. */
    public function downloadName(): string
    {
        $n = trim(str_replace(array("\r", "\n", "\0", '/', '\\'), ' ', (string) $this->name));
        return $n !== '' ? $n : 'event-' . $this->eventId . '.bin';
    }

    /** Media type to send (application/octet-stream when unknown or odd). */
    public function contentType(): string
    {
        $t = trim((string) $this->mediaType);
        return preg_match('#^[A-Za-z0-9!\#$&^_.+-]+/[A-Za-z0-9!\#$&^_.+-]+(\s*;\s*[A-Za-z0-9_-]+=[A-Za-z0-9_.-]+)*$#D', $t)
            ? $t : 'application/octet-stream';
    }

    /**
     * Content-Disposition for a name: an ASCII fallback in filename= and the
     * exact UTF-8 name in filename* (RFC 6266 / 5987).
     */
    public static function contentDisposition(string $name): string
    {
        $ascii = preg_match('//u', $name) ? preg_replace('/[^\x20-\x7e]/u', '_', $name) : preg_replace('/[^\x20-\x7e]/', '_', $name);
        $ascii = str_replace(array('"', '\\'), '_', $ascii);
        return 'attachment; filename="' . $ascii . '"; filename*=UTF-8\'\'' . rawurlencode($name);
    }

    /**
     * Streams the original bytes to $write (default: echo and flush). Returns
     * true when every chunk was there and the bytes match the stored size and
     * SHA-256; false otherwise, with $this->error saying why (the bytes
     * already written cannot be taken back: callers log the failure).
     */
    public function send(?callable $write = null): bool
    {
        if ($write === null) {
            $write = function ($bytes) {
                echo $bytes;
                flush();
            };
        }
        $hash = hash_init('sha256');
        $this->sentBytes = 0;
        $emit = function ($bytes) use ($write, $hash) {
            if ($bytes === '' || $bytes === false) {
                return;
            }
            hash_update($hash, $bytes);
            $this->sentBytes += strlen($bytes);
            $write($bytes);
        };
        $gzip = $this->compression === 'gzip';
        if (!$gzip && $this->compression !== 'none' && $this->compression !== '') {
            $this->error = 'unknown compression ' . $this->compression;
            return false;
        }
        $inflate = $gzip ? inflate_init(ZLIB_ENCODING_GZIP) : null;
        $stmt = $this->db->prepare('SELECT data FROM dxt_content_chunk WHERE content_id = ? AND seq = ?');
        if ($stmt === false) {
            $this->error = 'read chunks: ' . $this->db->error;
            return false;
        }
        $seq = 0;
        $contentId = $this->contentId;
        $stmt->bind_param('ii', $contentId, $seq);
        try {
            for (; ; $seq++) {
                if (!$stmt->execute()) {
                    $this->error = 'read chunk ' . $seq . ': ' . $stmt->error;
                    return false;
                }
                $res = $stmt->get_result();
                $row = $res ? $res->fetch_row() : null;
                if ($res) {
                    $res->free();
                }
                if (!$row) {
                    break;
                }
                $data = $row[0];
                $row = null;
                if (!$gzip) {
                    $emit($data);
                    continue;
                }
                for ($off = 0, $n = strlen($data); $off < $n; $off += self::FEED) {
                    $out = @inflate_add($inflate, substr($data, $off, self::FEED), ZLIB_SYNC_FLUSH);
                    if ($out === false) {
                        $this->error = 'chunk ' . $seq . ' is not valid gzip';
                        return false;
                    }
                    $emit($out);
                }
            }
        } finally {
            $stmt->close();
        }
        if ($gzip) {
            $out = @inflate_add($inflate, '', ZLIB_FINISH);
            if ($out === false) {
                $this->error = 'gzip stream is incomplete';
                return false;
            }
            $emit($out);
        }
        $this->sentSha256 = hash_final($hash);
        if ($seq !== $this->chunkCount) {
            $this->error = sprintf('found %d chunks, expected %d', $seq, $this->chunkCount);
            return false;
        }
        if ($this->sentBytes !== $this->size) {
            $this->error = sprintf('sent %d bytes, expected %d', $this->sentBytes, $this->size);
            return false;
        }
        if (!hash_equals($this->sha256, $this->sentSha256)) {
            $this->error = 'SHA-256 mismatch: stored ' . $this->sha256 . ', sent ' . $this->sentSha256;
            return false;
        }
        return true;
    }
}

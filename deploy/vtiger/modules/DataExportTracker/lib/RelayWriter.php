<?php
require_once __DIR__ . '/Config.php';
require_once __DIR__ . '/ClientIp.php';
require_once __DIR__ . '/Capture.php';
require_once __DIR__ . '/IntakeWriter.php';
require_once __DIR__ . '/EventRepository.php';

/**
 * The relay: for installations where no reverse proxy can put the daemon's
 * beacon endpoint on Vtiger's origin, tracker.js posts its beacon to the
 * extension instead, and this class writes it as a `copy` intake row
 * (CONTRACTS §5) that the daemon turns into an event like any other.
 *
 * The beacon body is the one of CONTRACTS §6, validated the same way; the
 * user is the one of the Vtiger session, never a field of the body (the
 * token in the body is not needed and is ignored).
 *
 * A `contextmenu` beacon is not a take-out: a right-click only opens the
 * menu. It is written as a `contextmenu` hint row without content, exactly
 * as the daemon's beacon endpoint writes it; the daemon never turns a hint
 * into an event, it only marks a copy by the same user within seconds
 * after it as made through the context menu. If the user does pick Copy
 * there, the browser fires a `copy` event and tracker.js sends a `copy`
 * beacon: that one is the take-out.
 *
 * The details keys are those of the daemon's beacon writer (via "relay"
 * instead of "beacon"), so both producers become the same kind of event.
 *
 * Framework-independent: takes a mysqli, uses no Vtiger class.
 */
final class Dxt_RelayWriter
{
    /** Largest beacon body accepted, in bytes (CONTRACTS §6). */
    const MAX_BODY = 131072;

    const CONTENT_NAME = 'copied-text.txt';
    const CONTENT_TYPE = 'text/plain; charset=utf-8';

    /**
     * Decodes a raw beacon body.
     *
     * @throws Dxt_RelayException 413 when larger than 128 KiB, 400 when it
     *         is not a JSON object.
     */
    public static function parseBody(string $body): array
    {
        if (strlen($body) > self::MAX_BODY) {
            throw new Dxt_RelayException(413, 'beacon larger than 128 KiB');
        }
        $v = json_decode($body, true, 8);
        if (!is_array($v) || ($v && array_keys($v) === range(0, count($v) - 1))) {
            throw new Dxt_RelayException(400, 'beacon is not a JSON object');
        }
        return $v;
    }

    /**
     * Checks a decoded beacon and returns it normalised: kind, url, module,
     * view, record (strings or null), chars, rows, ts (ints or null), text
     * (cut to $maxChars characters) and truncated.
     *
     * @throws Dxt_RelayException 400 naming the first wrong field.
     */
    public static function normalize(array $b, int $maxChars): array
    {
        $kind = isset($b['kind']) ? $b['kind'] : null;
        if (!is_string($kind) || !in_array($kind, array('copy', 'cut', 'contextmenu'), true)) {
            throw new Dxt_RelayException(400, 'kind: want "copy", "cut" or "contextmenu"');
        }
        $out = array('kind' => $kind);
        foreach (array('chars', 'rows', 'ts') as $f) {
            $out[$f] = null;
            if (!array_key_exists($f, $b) || $b[$f] === null) {
                continue;
            }
            $v = $b[$f];
            if (is_float($v) && floor($v) === $v && abs($v) < 9.0e15) {
                $v = (int) $v; // 17.0 from a client that does float maths
            }
            if (!is_int($v) || $v < 0) {
                throw new Dxt_RelayException(400, $f . ': want a whole number, 0 or more');
            }
            $out[$f] = $v;
        }
        $limits = array('url' => 2048, 'module' => 100, 'view' => 100, 'record' => 64);
        foreach ($limits as $f => $max) {
            $out[$f] = null;
            if (!array_key_exists($f, $b) || $b[$f] === null || $b[$f] === '') {
                continue;
            }
            $v = $b[$f];
            if (is_int($v) && $f === 'record') {
                $v = (string) $v;
            }
            if (!is_string($v)) {
                throw new Dxt_RelayException(400, $f . ': want a string');
            }
            $out[$f] = Dxt_EventRepository::clip($v, $max);
        }
        $text = '';
        if (array_key_exists('text', $b) && $b['text'] !== null) {
            if (!is_string($b['text'])) {
                throw new Dxt_RelayException(400, 'text: want a string');
            }
            $text = $b['text'];
        }
        $full = Dxt_EventRepository::clip($text, PHP_INT_MAX); // valid UTF-8
        $cut = Dxt_EventRepository::clip($full, max(0, $maxChars));
        $textChars = self::countChars($cut);
        $truncated = strlen($cut) < strlen($full) || ($out['chars'] !== null && $out['chars'] > $textChars);
        if ($out['chars'] === null) {
            $out['chars'] = self::countChars($full);
        }
        $out['text'] = $cut;
        $out['truncated'] = $truncated;
        return $out;
    }

    /**
     * Validates $beacon and writes it for the session's user $userId: a copy
     * or cut as one `copy` intake row with the text as its content, a
     * contextmenu as a `contextmenu` hint row without content. Returns the
     * new dxt_intake id, or 0 when copy tracking is off (nothing written).
     *
     * @throws Dxt_RelayException 400 for a malformed beacon, 401 without a user.
     * @throws RuntimeException when the database write fails (already logged).
     */
    public static function write(mysqli $db, int $userId, array $beacon, array $server, Dxt_Config $config): int
    {
        if ($userId < 1) {
            throw new Dxt_RelayException(401, 'no logged-in user');
        }
        $maxChars = (int) $config->copyMaxChars();
        $b = self::normalize($beacon, $maxChars);
        if (!$config->tracks('copy')) {
            return 0;
        }
        $hint = $b['kind'] === 'contextmenu';
        $details = array(
            'via' => 'relay',
            'action' => $b['kind'],
            'url' => $b['url'],
            'view' => $b['view'],
            'record' => $b['record'],
            'chars' => $b['chars'],
            'rows' => $b['rows'],
            'truncated' => $b['truncated'],
        );
        if ($b['ts'] !== null) {
            $details['client_ts'] = $b['ts'];
        }
        if (!$hint && $b['text'] !== '') {
            // Kept even when the text is not (capture_content off): the
            // daemon merges a double Ctrl+C by this hash.
            $details['text_sha256'] = hash('sha256', $b['text']);
        }
        $ua = isset($server['HTTP_USER_AGENT']) ? Dxt_EventRepository::clip((string) $server['HTTP_USER_AGENT'], 512) : null;
        $row = array(
            'kind' => $hint ? 'contextmenu' : 'copy',
            'occurred_at' => Dxt_EventRepository::nowUtc(),
            'user_id' => $userId,
            'module' => $b['module'],
            'record_count' => $b['rows'] !== null && $b['rows'] > 0 ? $b['rows'] : null,
            'client_ip' => Dxt_ClientIp::from($server, $config->trustedProxies()),
            'user_agent' => $ua,
            'details' => json_encode($details, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE),
            'content_name' => null,
            'content_type' => null,
        );
        $capture = null;
        if (!$hint && $b['text'] !== '' && $config->captureContent()) {
            $capture = new Dxt_Capture(strlen($b['text']));
            $capture->append($b['text']);
            $row['content_name'] = self::CONTENT_NAME;
            $row['content_type'] = self::CONTENT_TYPE;
        }
        $id = (int) Dxt_IntakeWriter::write($db, $row, $capture);
        if ($capture !== null) {
            $capture->close();
        }
        if ($id < 1) {
            throw new RuntimeException('relay: the intake row was not written (see the PHP error log)');
        }
        return $id;
    }

    private static function countChars(string $s): int
    {
        // Every byte that does not continue a UTF-8 sequence starts a character.
        return strlen($s) - preg_match_all('/[\x80-\xbf]/', $s);
    }
}

/** A beacon the relay refuses; getCode() is the HTTP status to answer. */
class Dxt_RelayException extends RuntimeException
{
    public function __construct(int $status, string $message)
    {
        parent::__construct($message, $status);
    }
}

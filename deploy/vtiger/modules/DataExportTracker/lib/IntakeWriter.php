<?php
require_once __DIR__ . '/Db.php';
require_once __DIR__ . '/Capture.php';

/**
 * Writes one take-out for the daemon (CONTRACTS §5): a dxt_intake row and
 * its content as dxt_intake_chunk rows of at most 1 MiB, seq from 0, in ONE
 * transaction, so the daemon sees all of it or nothing.
 *
 * content_size and content_sha256 describe the original bytes. When the
 * capture kept fewer bytes than it saw (capture_max_bytes), the chunks hold
 * the kept prefix and details gets "truncated": true and "captured_bytes".
 *
 * The content is streamed from the capture's temporary stream to the server
 * in pieces (mysqli send_long_data), so neither the file nor even a whole
 * chunk is held in one PHP string, and a small max_allowed_packet is no
 * obstacle.
 */
final class Dxt_IntakeWriter
{
    /** Largest dxt_intake_chunk.data (CONTRACTS §5). */
    const CHUNK_BYTES = 1048576;
    /** Bytes per send_long_data call. */
    const PIECE_BYTES = 262144;
    /** dxt_intake.details is TEXT. */
    const DETAILS_MAX_BYTES = 65535;

    /**
     * @param array $row kind (required), occurred_at (default now),
     *   user_id, module, record_count, client_ip, user_agent, details (array
     *   or JSON text), content_name, content_type; content_size and
     *   content_sha256 only when there is no $content.
     * @return int the new dxt_intake id, or 0 when nothing was written (logged)
     */
    public static function write(mysqli $db, array $row, ?Dxt_Capture $content = null): int
    {
        $result = Dxt_Db::withReportOff(function () use ($db, $row, $content) {
            return self::writeInTransaction($db, $row, $content);
        }, 0);
        return is_int($result) ? $result : 0;
    }

    /** Current time in UTC with microseconds, as DATETIME(6) text. */
    public static function nowUtc(?float $time = null): string
    {
        $t = $time === null ? microtime(true) : $time;
        $sec = (int) floor($t);
        $usec = (int) round(($t - $sec) * 1000000);
        if ($usec >= 1000000) {
            $sec++;
            $usec -= 1000000;
        }
        return gmdate('Y-m-d H:i:s', $sec) . sprintf('.%06d', $usec);
    }

    /**
     * $s as valid UTF-8 (bad bytes become '?') of at most $maxChars
     * characters; null stays null.
     */
    public static function clip(?string $s, int $maxChars): ?string
    {
        if ($s === null) {
            return null;
        }
        if (!preg_match('//u', $s)) {
            if (function_exists('mb_convert_encoding')) {
                $s = (string) mb_convert_encoding($s, 'UTF-8', 'UTF-8');
            } else {
                $s = (string) preg_replace('/[\x80-\xff]/', '?', $s);
            }
        }
        if (strlen($s) <= $maxChars) {
            return $s;
        }
        if (function_exists('mb_substr')) {
            return mb_substr($s, 0, $maxChars, 'UTF-8');
        }
        return preg_match('/^.{0,' . min($maxChars, 60000) . '}/us', $s, $m) ? $m[0] : '';
    }

    private static function writeInTransaction(mysqli $db, array $row, ?Dxt_Capture $content): int
    {
        $kind = isset($row['kind']) ? (string) $row['kind'] : '';
        if ($kind === '') {
            Dxt_Log::error('intake not written: no kind');
            return 0;
        }
        $details = self::details(isset($row['details']) ? $row['details'] : null, $content);
        $size = null;
        $sha = null;
        if ($content !== null) {
            $size = $content->size();
            $sha = $content->sha256();
        } else {
            $size = isset($row['content_size']) && $row['content_size'] !== null ? (int) $row['content_size'] : null;
            $sha = isset($row['content_sha256']) ? self::clip((string) $row['content_sha256'], 64) : null;
        }

        $vals = array(
            'kind' => self::clip($kind, 32),
            'occurred_at' => isset($row['occurred_at']) && $row['occurred_at'] ? (string) $row['occurred_at'] : self::nowUtc(),
            'user_id' => self::intOrNull(isset($row['user_id']) ? $row['user_id'] : null),
            'module' => self::clip(self::strOrNull(isset($row['module']) ? $row['module'] : null), 100),
            'record_count' => self::intOrNull(isset($row['record_count']) ? $row['record_count'] : null),
            'client_ip' => self::clip(self::strOrNull(isset($row['client_ip']) ? $row['client_ip'] : null), 45),
            'user_agent' => self::clip(self::strOrNull(isset($row['user_agent']) ? $row['user_agent'] : null), 512),
            'details' => $details,
            'content_name' => self::clip(self::strOrNull(isset($row['content_name']) ? $row['content_name'] : null), 255),
            'content_type' => self::clip(self::strOrNull(isset($row['content_type']) ? $row['content_type'] : null), 100),
            'content_size' => $size,
            'content_sha256' => $sha,
        );

        if (!@$db->begin_transaction()) {
            Dxt_Log::error('intake not written: cannot start a transaction: ' . $db->error);
            return 0;
        }
        $ok = false;
        $id = 0;
        try {
            $id = self::insertIntake($db, $vals);
            if ($id > 0 && $content !== null && $content->storedSize() > 0) {
                $ok = self::insertChunks($db, $id, $content);
            } else {
                $ok = $id > 0;
            }
            if ($ok && !@$db->commit()) {
                Dxt_Log::error('intake not written: commit failed: ' . $db->error);
                $ok = false;
            }
        } finally {
            if (!$ok) {
                @$db->rollback();
            }
        }
        return $ok ? $id : 0;
    }

    private static function insertIntake(mysqli $db, array $v): int
    {
        $stmt = @$db->prepare('INSERT INTO dxt_intake (kind, occurred_at, user_id, module, record_count, client_ip, user_agent, details, content_name, content_type, content_size, content_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
        if (!$stmt) {
            Dxt_Log::error('intake not written: ' . $db->error);
            return 0;
        }
        $stmt->bind_param('ssisisssssis', $v['kind'], $v['occurred_at'], $v['user_id'], $v['module'], $v['record_count'],
            $v['client_ip'], $v['user_agent'], $v['details'], $v['content_name'], $v['content_type'], $v['content_size'], $v['content_sha256']);
        if (!@$stmt->execute()) {
            Dxt_Log::error('intake not written: ' . $stmt->error);
            $stmt->close();
            return 0;
        }
        $id = (int) $db->insert_id;
        $stmt->close();
        if ($id <= 0) {
            Dxt_Log::error('intake not written: no id returned');
        }
        return $id;
    }

    private static function insertChunks(mysqli $db, int $id, Dxt_Capture $content): bool
    {
        $src = $content->stream();
        if ($src === null) {
            return true;
        }
        $stmt = @$db->prepare('INSERT INTO dxt_intake_chunk (intake_id, seq, data) VALUES (?, ?, ?)');
        if (!$stmt) {
            Dxt_Log::error('intake not written: ' . $db->error);
            return false;
        }
        $seq = 0;
        $blob = null;
        $stmt->bind_param('iib', $id, $seq, $blob);
        $left = $content->storedSize();
        try {
            while ($left > 0) {
                $chunkLeft = min(self::CHUNK_BYTES, $left);
                $sent = 0;
                while ($sent < $chunkLeft) {
                    $piece = fread($src, min(self::PIECE_BYTES, $chunkLeft - $sent));
                    if ($piece === false || $piece === '') {
                        Dxt_Log::error('intake not written: the captured content ended early');
                        return false;
                    }
                    if (!@$stmt->send_long_data(2, $piece)) {
                        Dxt_Log::error('intake not written: sending content failed: ' . $stmt->error);
                        return false;
                    }
                    $sent += strlen($piece);
                }
                if (!@$stmt->execute()) {
                    Dxt_Log::error('intake not written: content chunk ' . $seq . ': ' . $stmt->error);
                    return false;
                }
                $left -= $sent;
                $seq++;
            }
        } finally {
            $stmt->close();
        }
        return true;
    }

    /**
     * details as JSON text, with the capture's truncation flagged. Arrays are
     * encoded here; text is kept as given unless a flag must be added.
     *
     * @param mixed $details
     */
    private static function details($details, ?Dxt_Capture $content): ?string
    {
        $flags = array();
        if ($content !== null && $content->truncated()) {
            $flags['truncated'] = true;
            $flags['captured_bytes'] = $content->storedSize();
            if ($content->storeFailed()) {
                $flags['capture_error'] = 'temporary storage failed';
            }
        }
        if ($details === null || $details === '') {
            return $flags ? self::encode($flags) : null;
        }
        if (is_string($details)) {
            if (!$flags) {
                return self::fitDetails($details);
            }
            $decoded = json_decode($details, true);
            if (!is_array($decoded)) {
                Dxt_Log::error('intake details are not a JSON object; the truncation flag goes in a new object');
                $decoded = array('raw_details' => $details);
            }
            $details = $decoded;
        }
        if (!is_array($details)) {
            $details = array('raw_details' => (string) $details);
        }
        foreach ($flags as $k => $v) {
            $details[$k] = $v;
        }
        return self::fitDetails(self::encode($details));
    }

    private static function encode(array $a): string
    {
        $json = json_encode($a, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE | JSON_PARTIAL_OUTPUT_ON_ERROR);
        return is_string($json) ? $json : '{}';
    }

    private static function fitDetails(string $json): string
    {
        if (strlen($json) <= self::DETAILS_MAX_BYTES) {
            return $json;
        }
        Dxt_Log::error('intake details longer than 64 KiB; replaced by a note');
        $decoded = json_decode($json, true);
        $keep = array('details_too_long' => strlen($json));
        if (is_array($decoded)) {
            foreach (array('truncated', 'captured_bytes', 'report_id', 'format', 'mode') as $k) {
                if (array_key_exists($k, $decoded)) {
                    $keep[$k] = $decoded[$k];
                }
            }
        }
        return self::encode($keep);
    }

    /** @param mixed $v */
    private static function intOrNull($v): ?int
    {
        if ($v === null || $v === '' || is_bool($v)) {
            return null;
        }
        if (is_int($v)) {
            return $v;
        }
        $s = trim((string) $v);
        return preg_match('/^-?\d+$/', $s) ? (int) $s : null;
    }

    /** @param mixed $v */
    private static function strOrNull($v): ?string
    {
        if ($v === null) {
            return null;
        }
        return is_scalar($v) ? (string) $v : null;
    }
}

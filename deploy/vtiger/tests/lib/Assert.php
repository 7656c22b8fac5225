<?php
/**
 * Assertions for the PHP test runner (run.php). A failed one throws
 * Dxt_AssertionFailed; the runner reports its message and the test's line.
 */
class Dxt_AssertionFailed extends Exception
{
}

final class Dxt_Assert
{
    public static function fail(string $message): void
    {
        throw new Dxt_AssertionFailed($message);
    }

    public static function true($cond, string $message = 'expected true'): void
    {
        if ($cond !== true) {
            self::fail($message);
        }
    }

    public static function false($cond, string $message = 'expected false'): void
    {
        if ($cond !== false) {
            self::fail($message);
        }
    }

    /** Strict equality (===), with both values in the message. */
    public static function same($expected, $actual, string $message = ''): void
    {
        if ($expected !== $actual) {
            self::fail(($message !== '' ? $message . ': ' : '') . 'expected ' . self::show($expected) . ', got ' . self::show($actual));
        }
    }

    public static function notSame($unexpected, $actual, string $message = ''): void
    {
        if ($unexpected === $actual) {
            self::fail(($message !== '' ? $message . ': ' : '') . 'did not expect ' . self::show($actual));
        }
    }

    public static function contains(string $needle, string $haystack, string $message = ''): void
    {
        if (strpos($haystack, $needle) === false) {
            self::fail(($message !== '' ? $message . ': ' : '') . self::show($needle) . ' not found in ' . self::show(self::cut($haystack)));
        }
    }

    public static function notContains(string $needle, string $haystack, string $message = ''): void
    {
        if (strpos($haystack, $needle) !== false) {
            self::fail(($message !== '' ? $message . ': ' : '') . self::show($needle) . ' found in ' . self::show(self::cut($haystack)));
        }
    }

    /** Byte equality of two long strings, reporting the first difference. */
    public static function sameBytes(string $expected, string $actual, string $message = ''): void
    {
        if ($expected === $actual) {
            return;
        }
        $n = min(strlen($expected), strlen($actual));
        $at = 0;
        while ($at < $n && $expected[$at] === $actual[$at]) {
            $at++;
        }
        self::fail(sprintf('%sbytes differ: %d vs %d bytes, first difference at offset %d (%s vs %s)',
            $message !== '' ? $message . ': ' : '', strlen($expected), strlen($actual), $at,
            self::show(substr($expected, $at, 24)), self::show(substr($actual, $at, 24))));
    }

    private static function cut(string $s): string
    {
        return strlen($s) > 400 ? substr($s, 0, 400) . '...' : $s;
    }

    private static function show($v): string
    {
        if (is_string($v)) {
            return json_encode(self::cut($v), JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE);
        }
        $s = json_encode($v, JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE);
        return $s === false ? var_export($v, true) : $s;
    }
}

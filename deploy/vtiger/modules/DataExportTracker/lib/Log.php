<?php
/**
 * Logging for the extension's server-side code: PHP's own error log
 * (error_log), every line prefixed "[dxtracker] ". Never the exported
 * content, copied text, passwords or secrets: callers pass short
 * descriptions, and exceptions are reduced to class and message.
 *
 * Also the "quiet" scope every probe step runs in: PHP warnings and notices
 * raised inside it go to this log instead of into Vtiger's response (a
 * warning displayed from inside an output handler would even be fatal), and
 * no Throwable escapes it.
 *
 * PHP 7.2+ (Vtiger 7 runs on 7.x).
 */
final class Dxt_Log
{
    const PREFIX = '[dxtracker] ';

    /** @var array<string,bool> keys already logged by once() in this request */
    private static $onceKeys = array();

    /** @var array<int,string> what the active quiet scopes are doing (innermost last) */
    private static $scopes = array();

    /** Writes one line to PHP's error log. */
    public static function error(string $message): void
    {
        // Keep a log line a line: no control characters from the outside.
        $line = preg_replace('/[\x00-\x1f\x7f]+/', ' ', $message);
        if (!is_string($line)) {
            $line = 'unprintable message';
        }
        if (strlen($line) > 2000) {
            $line = substr($line, 0, 2000) . '...';
        }
        error_log(self::PREFIX . $line);
    }

    /** Like error(), but only the first time $key is seen in this request. */
    public static function once(string $key, string $message): void
    {
        if (isset(self::$onceKeys[$key])) {
            return;
        }
        self::$onceKeys[$key] = true;
        self::error($message);
    }

    /** Class and message of a Throwable, for a log line. */
    public static function describe(Throwable $e): string
    {
        return get_class($e) . ': ' . $e->getMessage() . ' (' . basename($e->getFile()) . ':' . $e->getLine() . ')';
    }

    /**
     * Runs $fn so that nothing it does can reach Vtiger: PHP warnings and
     * notices are logged (with $what) instead of shown, and a Throwable is
     * logged and turned into $fallback. Returns what $fn returns.
     *
     * @param callable $fn
     * @param mixed $fallback
     * @return mixed
     */
    public static function quietly(string $what, $fn, $fallback = null)
    {
        self::$scopes[] = $what;
        set_error_handler(array(__CLASS__, 'onPhpError'));
        try {
            return $fn();
        } catch (Throwable $e) {
            self::error($what . ': ' . self::describe($e));
            return $fallback;
        } finally {
            restore_error_handler();
            array_pop(self::$scopes);
        }
    }

    /** @internal error handler of quietly(); public only for set_error_handler. */
    public static function onPhpError(int $severity, string $message, string $file = '', int $line = 0): bool
    {
        // What PHP would not report (error_reporting, or silenced with @)
        // is not logged either; it is still kept from the response.
        if ((error_reporting() & $severity) === 0) {
            return true;
        }
        $what = self::$scopes ? self::$scopes[count(self::$scopes) - 1] : 'probe';
        self::error($what . ': PHP ' . self::severityName($severity) . ': ' . $message . ' (' . basename($file) . ':' . $line . ')');
        return true; // handled: PHP shows nothing
    }

    private static function severityName(int $severity): string
    {
        switch ($severity) {
            case E_WARNING:
            case E_USER_WARNING:
                return 'warning';
            case E_NOTICE:
            case E_USER_NOTICE:
                return 'notice';
            case E_DEPRECATED:
            case E_USER_DEPRECATED:
                return 'deprecated';
            default:
                return 'error ' . $severity;
        }
    }
}

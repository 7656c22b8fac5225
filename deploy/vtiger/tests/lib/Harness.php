<?php
/**
 * Runs the stand-in Vtiger (tests/harness/docroot) for the probe tests:
 * builds a docroot in a temporary folder with or without the probe line in
 * config_override.php (the extension copied in, as the installer does),
 * serves it with PHP's built-in web server on a free 127.0.0.1 port (a real
 * web SAPI: headers and output buffers behave as under Apache or FPM), and
 * talks raw HTTP/1.1 to it so the response is seen byte for byte (Vtiger's
 * report CSV declares a Content-Length longer than its body; the raw
 * client reads to the end of the connection).
 */
final class Dxt_TestHarness
{
    /** What the extension logged in this process since the last call, and clears it. */
    public static function runnerLog(): string
    {
        $file = self::tempDir() . '/runner.log';
        clearstatcache();
        $s = is_file($file) ? (string) file_get_contents($file) : '';
        @file_put_contents($file, '');
        return $s;
    }

    /** The line `dxtracker vtiger install` adds to config_override.php. */
    const PROBE_LINE = "if (is_file(__DIR__ . '/modules/DataExportTracker/probe/bootstrap.php')) { include_once __DIR__ . '/modules/DataExportTracker/probe/bootstrap.php'; } // dxtracker-probe";

    /** @var string|null */
    private static $base;
    /** @var array<string,string> docroot by variant */
    private static $roots = array();
    /** @var array<string,Dxt_TestServer> */
    private static $servers = array();

    /** deploy/vtiger */
    public static function extensionDir(): string
    {
        return dirname(__DIR__, 2);
    }

    /** The fixtures folder of the shared samples, or null when absent. */
    public static function fixturesDir(): ?string
    {
        $env = getenv('DXT_FIXTURES_DIR');
        if ($env !== false && $env !== '' && is_dir($env)) {
            return $env;
        }
        $guess = dirname(self::extensionDir(), 3) . '/shared/fixtures';
        return is_dir($guess) ? $guess : null;
    }

    /** A sample's bytes, or null when the fixtures are absent. */
    public static function sample(string $name): ?string
    {
        $dir = self::fixturesDir();
        if ($dir === null || !is_file($dir . '/samples/' . $name)) {
            return null;
        }
        return file_get_contents($dir . '/samples/' . $name);
    }

    /** A temporary folder removed when the runner ends. */
    public static function tempDir(): string
    {
        if (self::$base === null) {
            self::$base = sys_get_temp_dir() . '/dxt-php-tests-' . getmypid() . '-' . bin2hex(random_bytes(4));
            mkdir(self::$base, 0700, true);
            register_shutdown_function(array(__CLASS__, 'cleanup'));
        }
        return self::$base;
    }

    /** A docroot of the stand-in Vtiger, with or without the probe installed. */
    public static function docroot(bool $probe): string
    {
        $key = $probe ? 'with-probe' : 'without-probe';
        if (isset(self::$roots[$key])) {
            return self::$roots[$key];
        }
        $root = self::tempDir() . '/' . $key;
        self::copyTree(__DIR__ . '/../harness/docroot', $root);
        self::copyTree(self::extensionDir() . '/modules/DataExportTracker', $root . '/modules/DataExportTracker');
        $override = "<?php\n// config_override.php of the stand-in Vtiger\n\$harness_override = true;\n";
        if ($probe) {
            $override .= self::PROBE_LINE . "\n";
        }
        file_put_contents($root . '/config_override.php', $override);
        return self::$roots[$key] = $root;
    }

    /**
     * A running built-in web server for a docroot variant. $ini adds or
     * overrides php -d settings (defaults: output_buffering=4096 as in
     * php.ini-production, display_errors=0, errors logged to a file),
     * $env adds environment variables (DXT_HARNESS_DB_PORT, ...).
     */
    public static function server(bool $probe, array $ini = array(), array $env = array()): Dxt_TestServer
    {
        ksort($ini);
        ksort($env);
        $key = ($probe ? 'p' : 'n') . md5(json_encode(array($ini, $env)));
        if (isset(self::$servers[$key]) && self::$servers[$key]->running()) {
            return self::$servers[$key];
        }
        $root = self::docroot($probe);
        $log = self::tempDir() . '/php-errors-' . $key . '.log';
        touch($log);
        $settings = array_merge(array(
            'output_buffering' => '4096',
            'display_errors' => '0',
            'display_startup_errors' => '0',
            'log_errors' => '1',
            'html_errors' => '0',
            'error_reporting' => (string) E_ALL,
            'error_log' => $log,
            'memory_limit' => '512M',
        ), $ini);
        return self::$servers[$key] = Dxt_TestServer::start($root, $settings, $env, $log);
    }

    /**
     * Runs the stand-in vtigercron.php (CLI, working directory = docroot).
     *
     * @return array{code:int,stdout:string,stderr:string,log:string}
     */
    public static function cron(bool $probe, array $env = array()): array
    {
        $root = self::docroot($probe);
        $log = self::tempDir() . '/cron-' . bin2hex(random_bytes(4)) . '.log';
        touch($log);
        $cmd = array(PHP_BINARY, '-d', 'display_errors=stderr', '-d', 'log_errors=1', '-d', 'error_log=' . $log,
            '-d', 'error_reporting=' . E_ALL, 'vtigercron.php');
        $spec = array(0 => array('file', '/dev/null', 'r'), 1 => array('pipe', 'w'), 2 => array('pipe', 'w'));
        $proc = proc_open($cmd, $spec, $pipes, $root, self::environment($env));
        if (!is_resource($proc)) {
            throw new RuntimeException('cannot run vtigercron.php');
        }
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        $code = proc_close($proc);
        return array('code' => $code, 'stdout' => $out, 'stderr' => $err, 'log' => (string) file_get_contents($log));
    }

    /** The test process's environment plus $extra. */
    public static function environment(array $extra = array()): array
    {
        $env = getenv();
        $fixtures = self::fixturesDir();
        if ($fixtures !== null) {
            $env['DXT_FIXTURES_DIR'] = $fixtures;
        }
        foreach ($extra as $k => $v) {
            $env[$k] = (string) $v;
        }
        return $env;
    }

    /** A TCP port nothing listens on (for "the database is down"). */
    public static function deadPort(): int
    {
        $s = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
        $name = stream_socket_get_name($s, false);
        fclose($s);
        return (int) substr($name, strrpos($name, ':') + 1);
    }

    /**
     * Fails unless two responses are the same: status line, header names in
     * order, header values (Date, Last-Modified and Host only by shape: they
     * name the second and the port), body byte for byte.
     */
    public static function assertSameResponse(Dxt_TestResponse $without, Dxt_TestResponse $with, string $what): void
    {
        Dxt_Assert::same($without->statusLine, $with->statusLine, $what . ': status line');
        $names = function (Dxt_TestResponse $r) {
            return array_map(function ($h) {
                return $h[0];
            }, $r->headers);
        };
        Dxt_Assert::same($names($without), $names($with), $what . ': header names and order');
        foreach ($without->headers as $i => $h) {
            $other = $with->headers[$i][1];
            $n = strtolower($h[0]);
            if ($n === 'date' || $n === 'last-modified') {
                Dxt_Assert::true(strtotime($h[1]) !== false && strtotime($other) !== false && abs(strtotime($h[1]) - strtotime($other)) < 30,
                    $what . ': header ' . $h[0] . ' is a time: ' . $h[1] . ' / ' . $other);
                continue;
            }
            if ($n === 'host') {
                Dxt_Assert::same(1, preg_match('/^127\.0\.0\.1:\d+$/', $other), $what . ': Host header');
                continue;
            }
            Dxt_Assert::same($h[1], $other, $what . ': header ' . $h[0]);
        }
        Dxt_Assert::sameBytes($without->body, $with->body, $what . ': body');
    }

    /** Stops the servers and removes the temporary folder. */
    public static function cleanup(): void
    {
        foreach (self::$servers as $s) {
            $s->stop();
        }
        self::$servers = array();
        if (self::$base !== null && is_dir(self::$base)) {
            self::removeTree(self::$base);
        }
        self::$base = null;
        self::$roots = array();
    }

    private static function copyTree(string $from, string $to): void
    {
        if (!is_dir($to)) {
            mkdir($to, 0755, true);
        }
        foreach (scandir($from) as $entry) {
            if ($entry === '.' || $entry === '..') {
                continue;
            }
            $src = $from . '/' . $entry;
            if (is_dir($src)) {
                self::copyTree($src, $to . '/' . $entry);
            } else {
                copy($src, $to . '/' . $entry);
            }
        }
    }

    private static function removeTree(string $dir): void
    {
        foreach (scandir($dir) as $entry) {
            if ($entry === '.' || $entry === '..') {
                continue;
            }
            $p = $dir . '/' . $entry;
            if (is_dir($p) && !is_link($p)) {
                self::removeTree($p);
            } else {
                @unlink($p);
            }
        }
        @rmdir($dir);
    }
}

/** One `php -S` process. */
final class Dxt_TestServer
{
    /** @var resource */
    private $proc;
    /** @var int */
    public $port;
    /** @var string */
    public $docroot;
    /** @var string */
    public $errorLog;
    /** @var string */
    private $serverLog;
    /** @var array<string,string> headers added to every request of this handle */
    private $extraHeaders = array();

    public static function start(string $docroot, array $ini, array $env, string $errorLog): Dxt_TestServer
    {
        $s = new self();
        $s->docroot = $docroot;
        $s->errorLog = $errorLog;
        $s->serverLog = $errorLog . '.server';
        for ($attempt = 0; $attempt < 5; $attempt++) {
            $s->port = Dxt_TestHarness::deadPort();
            // Under timeout(1) when there is one, so a server outlives a
            // killed test run by an hour at most.
            $cmd = is_executable('/usr/bin/timeout') ? array('/usr/bin/timeout', '-k', '5', '3600', PHP_BINARY) : array(PHP_BINARY);
            foreach ($ini as $k => $v) {
                $cmd[] = '-d';
                $cmd[] = $k . '=' . $v;
            }
            array_push($cmd, '-S', '127.0.0.1:' . $s->port, '-t', $docroot);
            $spec = array(0 => array('file', '/dev/null', 'r'), 1 => array('file', $s->serverLog, 'a'), 2 => array('file', $s->serverLog, 'a'));
            $s->proc = proc_open($cmd, $spec, $pipes, $docroot, Dxt_TestHarness::environment($env));
            if (!is_resource($s->proc)) {
                throw new RuntimeException('cannot start php -S');
            }
            $deadline = microtime(true) + 10;
            while (microtime(true) < $deadline) {
                $c = @stream_socket_client('tcp://127.0.0.1:' . $s->port, $errno, $errstr, 0.2);
                if ($c) {
                    fclose($c);
                    return $s;
                }
                if (!$s->running()) {
                    break; // port taken meanwhile: try another
                }
                usleep(20000);
            }
            $s->stop();
        }
        throw new RuntimeException('php -S did not start: ' . @file_get_contents($s->serverLog));
    }

    /** The same server; requests through the returned handle carry $headers too. */
    public function withHeaders(array $headers): Dxt_TestServer
    {
        $c = clone $this;
        $c->extraHeaders = $headers + $this->extraHeaders;
        return $c;
    }

    public function running(): bool
    {
        if (!is_resource($this->proc)) {
            return false;
        }
        $st = proc_get_status($this->proc);
        return $st['running'];
    }

    public function stop(): void
    {
        if (is_resource($this->proc)) {
            $st = proc_get_status($this->proc);
            if ($st['running']) {
                dxt_test_kill($st['pid']);
            }
            proc_close($this->proc);
        }
        $this->proc = null;
    }

    /**
     * One HTTP/1.1 request; the whole response as sent.
     *
     * @param array<string,string> $headers
     */
    public function request(string $method, string $path, array $headers = array(), ?string $body = null): Dxt_TestResponse
    {
        $c = @stream_socket_client('tcp://127.0.0.1:' . $this->port, $errno, $errstr, 10);
        if (!$c) {
            throw new RuntimeException("cannot connect to php -S: $errstr");
        }
        stream_set_timeout($c, 120);
        $headers = $this->extraHeaders + $headers;
        $req = $method . ' ' . $path . " HTTP/1.1\r\nHost: 127.0.0.1:" . $this->port . "\r\nConnection: close\r\n";
        if (!isset($headers['User-Agent'])) {
            $headers['User-Agent'] = 'dxtracker-php-tests/1.0';
        }
        if ($body !== null) {
            if (!isset($headers['Content-Type'])) {
                $headers['Content-Type'] = 'application/x-www-form-urlencoded';
            }
            $headers['Content-Length'] = (string) strlen($body);
        }
        foreach ($headers as $k => $v) {
            $req .= $k . ': ' . $v . "\r\n";
        }
        $req .= "\r\n" . ($body === null ? '' : $body);
        fwrite($c, $req);
        $raw = stream_get_contents($c);
        fclose($c);
        return Dxt_TestResponse::parse((string) $raw);
    }

    /** The error log written since the last clearLog(). */
    public function log(): string
    {
        clearstatcache();
        return (string) @file_get_contents($this->errorLog);
    }

    public function clearLog(): void
    {
        file_put_contents($this->errorLog, '');
    }
}

/** A parsed raw HTTP response. */
final class Dxt_TestResponse
{
    /** @var string */
    public $raw = '';
    /** @var string */
    public $statusLine = '';
    /** @var int */
    public $status = 0;
    /** @var array<int,array{0:string,1:string}> name, value in order */
    public $headers = array();
    /** @var string */
    public $body = '';

    public static function parse(string $raw): Dxt_TestResponse
    {
        $r = new self();
        $r->raw = $raw;
        $end = strpos($raw, "\r\n\r\n");
        if ($end === false) {
            throw new RuntimeException('no HTTP response header in ' . json_encode(substr($raw, 0, 200)));
        }
        $lines = explode("\r\n", substr($raw, 0, $end));
        $r->statusLine = array_shift($lines);
        $r->status = (int) (explode(' ', $r->statusLine)[1] ?? 0);
        foreach ($lines as $l) {
            $colon = strpos($l, ':');
            $r->headers[] = array(substr($l, 0, $colon), trim(substr($l, $colon + 1)));
        }
        $r->body = (string) substr($raw, $end + 4);
        return $r;
    }

    /** The last value of header $name (case-insensitive), or null. */
    public function header(string $name): ?string
    {
        $v = null;
        foreach ($this->headers as $h) {
            if (strcasecmp($h[0], $name) === 0) {
                $v = $h[1];
            }
        }
        return $v;
    }
}

/** Ends a child process (SIGTERM, then SIGKILL) by its pid. */
function dxt_test_kill(int $pid): void
{
    if (function_exists('posix_kill')) {
        posix_kill($pid, 15);
        for ($i = 0; $i < 50; $i++) {
            usleep(20000);
            if (!posix_kill($pid, 0)) {
                return;
            }
        }
        posix_kill($pid, 9);
        return;
    }
    exec('kill ' . (int) $pid . ' 2>/dev/null');
}

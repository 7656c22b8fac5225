<?php
/**
 * Capture of a list-view export (action=ExportData, any module) and of a
 * report export (module=Reports&view=ExportReport, GetCSV / GetXLS /
 * GetPrintReport).
 *
 * How the bytes are seen: an output buffer with a callback, started when
 * config_override.php runs (before Vtiger prints anything). The callback
 * returns every byte unchanged and feeds a copy to Dxt_Capture, and the
 * buffer passes output on exactly when the buffer below it would (see
 * start()), so headers go out when they would have and Vtiger's ob_clean()
 * discards what it would have. Headers are PHP's business and are not
 * touched; the response is what Vtiger sends, byte for byte, including the
 * too-long Content-Length Vtiger gives its report CSV.
 *
 * When the record is written: at the end of the request, when all bytes
 * have passed.
 *  - Phase 1, the first shutdown function (registered before Vtiger can
 *    register its own): notes the user, and for XLS and print exports asks
 *    Vtiger's report code for its count while Vtiger's objects and its
 *    report temp tables still exist (Vtiger drops those in a shutdown
 *    function of its own, registered later).
 *  - Phase 2, a shutdown function registered from phase 1, so it runs after
 *    every other one: if the probe's buffer is the top one, flushes it and
 *    writes the record.
 *  - Otherwise a buffer started after the probe's still holds output. In
 *    Vtiger that is csrf-magic's, which WebUI starts on every request and
 *    which keeps everything until PHP flushes all buffers after the shutdown
 *    functions. Then the record is written from the probe's own callback
 *    when PHP hands it the final bytes.
 * Vtiger calling exit() changes nothing: shutdown functions and the final
 * flush run anyway.
 *
 * A response that is not an export is not recorded: an HTTP error status,
 * a CSV/XLS response without an attachment (Vtiger's JSON error or a
 * redirect to the login page), a print view without Vtiger's print table
 * (the permission-denied page).
 */
final class Dxt_WebExportProbe
{
    /** First bytes kept to recognise a print view. */
    const SNIFF_BYTES = 65536;

    const FORMATS = array('GetCSV' => 'CSV', 'GetXLS' => 'XLS', 'GetPrintReport' => 'PRINT');

    /** @var string listview_export or report_export */
    private $kind;
    /** @var array */
    private $dbconfig;
    /** @var Dxt_Config */
    private $config;
    /** @var string */
    private $occurredAt;
    /** @var array request facts for details */
    private $params;
    /** @var string|null CSV, XLS, PRINT for reports */
    private $format;
    /** @var int|null */
    private $reportId;
    /** @var string|null */
    private $clientIp;
    /** @var string|null */
    private $userAgent;
    /** @var Dxt_Capture */
    private $capture;
    /** @var int output buffer level of the probe's buffer */
    private $level = 0;

    /** @var bool phase 1 has run */
    private $shutdownSeen = false;
    /** @var bool PHP ended the probe's buffer */
    private $outputEnded = false;
    /** @var bool the buffer was ended before the request finished (by Vtiger's code) */
    private $endedEarly = false;
    /** @var int bytes output after the record was written, not captured */
    private $lateBytes = 0;
    /** @var bool */
    private $finished = false;

    /** @var int|null */
    private $userId;
    /** @var int|null */
    private $vtigerCount;
    /** @var string|null */
    private $vtigerCountNote;

    private function __construct()
    {
    }

    /**
     * Starts capturing this request's output.
     *
     * @param string $kind listview_export or report_export
     */
    public static function start(string $kind, array $dbconfig, Dxt_Config $config, float $started, array $request, array $server): void
    {
        $p = new self();
        $p->kind = $kind;
        $p->dbconfig = $dbconfig;
        $p->config = $config;
        $p->occurredAt = Dxt_IntakeWriter::nowUtc($started);
        $p->clientIp = Dxt_ClientIp::from($server, $config->trustedProxies());
        $p->userAgent = isset($server['HTTP_USER_AGENT']) && is_string($server['HTTP_USER_AGENT']) ? $server['HTTP_USER_AGENT'] : null;

        $countCsv = true;
        $sniff = 0;
        if ($kind === 'report_export') {
            $mode = isset($request['mode']) ? (string) $request['mode'] : '';
            $formats = self::FORMATS;
            $p->format = isset($formats[$mode]) ? $formats[$mode] : null;
            $p->reportId = isset($request['record']) && is_scalar($request['record']) && preg_match('/^\d+$/', (string) $request['record'])
                ? (int) $request['record'] : null;
            $countCsv = $p->format === 'CSV';
            $sniff = $p->format === 'PRINT' ? self::SNIFF_BYTES : 0;
            $p->params = array(
                'mode' => $mode,
                'record' => Dxt_Probe::param(isset($request['record']) ? $request['record'] : null, 64),
                'advanced_filter' => Dxt_Probe::param(isset($request['advanced_filter']) ? $request['advanced_filter'] : null, 8192),
                'advanced_filter_raw' => isset($request['advanced_filter']) ? $request['advanced_filter'] : null,
            );
        } else {
            $p->params = self::listviewParams($request);
        }
        $p->capture = new Dxt_Capture($config->captureMaxBytes(), $countCsv, $config->captureContent(), $sniff);

        // The probe's buffer must not change when output leaves: that decides
        // when PHP sends the headers (a header() after the first byte is
        // sent fails) and what Vtiger's ob_clean() throws away. So it holds
        // exactly what the buffer below it would hold: it hands bytes on at
        // the same chunk size as that buffer (php.ini output_buffering), and
        // at once when there is none.
        $below = ob_get_level() > 0 ? ob_get_status(false) : null;
        $chunk = is_array($below) && isset($below['chunk_size']) ? (int) $below['chunk_size'] : 1;
        if (!ob_start(array($p, 'onOutput'), $chunk, PHP_OUTPUT_HANDLER_STDFLAGS)) {
            Dxt_Log::error('cannot start the output buffer; this export is not recorded');
            return;
        }
        $p->level = ob_get_level();
        register_shutdown_function(array($p, 'onShutdown'));
    }

    /** Request facts of a list-view export, for details. */
    private static function listviewParams(array $r): array
    {
        $g = function ($k, $max = 2048) use ($r) {
            return Dxt_Probe::param(isset($r[$k]) ? $r[$k] : null, $max);
        };
        return array(
            'mode' => $g('mode', 64),
            'module' => $g('module', 100),
            'source_module' => $g('source_module', 100),
            'viewname' => $g('viewname', 64),
            'selected_ids_count' => Dxt_Probe::idCount(isset($r['selected_ids']) ? $r['selected_ids'] : null),
            'excluded_ids_count' => Dxt_Probe::idCount(isset($r['excluded_ids']) ? $r['excluded_ids'] : null),
            'page' => $g('page', 32),
            'search_key' => $g('search_key', 200),
            'operator' => $g('operator', 32),
            'search_value' => $g('search_value', 1024),
            'search_params' => $g('search_params', 8192),
            'tag_params' => $g('tag_params', 2048),
            'orderby' => $g('orderby', 200),
            'sortorder' => $g('sortorder', 16),
            'export_type' => $g('export_type', 32),
        );
    }

    /**
     * The output callback: every byte goes on unchanged. Never throws, never
     * lets PHP print a warning (output from inside a handler is fatal).
     *
     * @internal public only for ob_start
     */
    public function onOutput($buffer, $phase)
    {
        $buffer = (string) $buffer;
        set_error_handler(array('Dxt_Log', 'onPhpError'));
        try {
            if (($phase & PHP_OUTPUT_HANDLER_CLEAN) === 0 && $buffer !== '') {
                if ($this->finished) {
                    $this->lateBytes += strlen($buffer);
                } else {
                    $this->capture->append($buffer);
                }
            }
            if (($phase & PHP_OUTPUT_HANDLER_FINAL) !== 0) {
                $this->outputEnded = true;
                if (!$this->shutdownSeen) {
                    $this->endedEarly = true;
                } elseif (!$this->finished) {
                    $this->finish();
                }
                if ($this->lateBytes > 0) {
                    Dxt_Log::error(sprintf('%d bytes were sent after the export was recorded; the captured file lacks them', $this->lateBytes));
                }
            }
        } catch (Throwable $e) {
            Dxt_Log::error('capture: ' . Dxt_Log::describe($e));
        } finally {
            restore_error_handler();
        }
        return $buffer;
    }

    /** @internal phase 1 (see the class comment) */
    public function onShutdown(): void
    {
        $this->shutdownSeen = true;
        Dxt_Log::quietly('export shutdown', function () {
            $this->userId = Dxt_Probe::currentUserId();
            if ($this->kind === 'report_export' && ($this->format === 'XLS' || $this->format === 'PRINT') && $this->reportId !== null
                && self::requestSucceeded()
                && ($this->format === 'PRINT' || stripos((string) Dxt_Probe::header(headers_list(), 'Content-Disposition'), 'attachment') !== false)) {
                $note = null;
                $this->vtigerCount = Dxt_VtigerBridge::exportCount($this->reportId, $this->params['advanced_filter_raw'], $note);
                $this->vtigerCountNote = $note;
            }
        });
        register_shutdown_function(array($this, 'onLateShutdown'));
    }

    /**
     * Whether Vtiger finished the request normally: no error status, no
     * fatal error. Vtiger's report code is not called after a failure.
     */
    private static function requestSucceeded(): bool
    {
        $status = http_response_code();
        if (is_int($status) && $status >= 400) {
            return false;
        }
        $err = error_get_last();
        return !(is_array($err) && in_array($err['type'], array(E_ERROR, E_PARSE, E_CORE_ERROR, E_COMPILE_ERROR, E_USER_ERROR, E_RECOVERABLE_ERROR), true));
    }

    /** @internal phase 2 (see the class comment) */
    public function onLateShutdown(): void
    {
        Dxt_Log::quietly('export shutdown', function () {
            if ($this->finished) {
                return;
            }
            if ($this->outputEnded) {
                $this->finish();
                return;
            }
            if (ob_get_level() === $this->level && $this->isTopBuffer()) {
                ob_flush(); // passes the rest through onOutput
                $this->finish();
            }
            // else: a later buffer still holds output; onOutput finishes.
        });
    }

    private function isTopBuffer(): bool
    {
        $status = ob_get_status(false);
        return is_array($status) && isset($status['name']) && $status['name'] === __CLASS__ . '::onOutput';
    }

    /** Decides whether this was an export, and writes the intake row. */
    private function finish(): void
    {
        if ($this->finished) {
            return;
        }
        $this->finished = true;
        Dxt_Log::quietly('export record', function () {
            try {
                $this->record();
            } finally {
                $this->capture->close();
            }
        });
    }

    private function record(): void
    {
        $headers = headers_list();
        $status = http_response_code();
        $status = is_int($status) ? $status : null;
        $disposition = Dxt_Probe::header($headers, 'Content-Disposition');
        $contentType = Dxt_Probe::header($headers, 'Content-Type');

        if ($status !== null && $status >= 400) {
            return;
        }
        if ($this->format === 'PRINT') {
            // Vtiger's print template lays the report out in a table of class printReport.
            if (strpos($this->capture->head(), 'printReport') === false) {
                return;
            }
            if ($contentType === null) {
                $contentType = self::defaultContentType();
            }
        } elseif ($disposition === null || stripos($disposition, 'attachment') === false) {
            return;
        }

        $db = Dxt_Db::connect($this->dbconfig);
        if ($db === null) {
            return;
        }
        try {
            $details = array(
                'probe' => Dxt_Probe::VERSION,
                'path' => $this->kind === 'report_export' ? 'report' : 'listview',
                'http_status' => $status,
            );
            $module = null;
            $recordCount = null;
            $name = Dxt_Probe::dispositionFileName($disposition);

            if ($this->kind === 'report_export') {
                $report = $this->reportId !== null ? self::reportInfo($db, $this->reportId) : null;
                $module = $report !== null ? $report['primarymodule'] : null;
                $details['report_id'] = $this->reportId;
                $details['report_name'] = $report !== null ? $report['name'] : null;
                $details['report_type'] = $report !== null ? $report['reporttype'] : null;
                $details['format'] = $this->format;
                $details['mode'] = $this->params['mode'];
                if ($this->params['advanced_filter'] !== null && $this->params['advanced_filter'] !== '') {
                    $details['advanced_filter'] = $this->params['advanced_filter'];
                }
                if ($this->format === 'CSV') {
                    $recordCount = $this->capture->csvDataRows();
                    $details['record_count_source'] = 'csv_rows';
                } else {
                    $recordCount = $this->vtigerCount;
                    $details['record_count_source'] = $recordCount !== null ? 'vtiger_count_query' : null;
                    if ($recordCount === null) {
                        $details['record_count_note'] = $this->vtigerCountNote !== null ? $this->vtigerCountNote : 'not counted';
                    }
                }
                if ($this->format === 'PRINT' && $name === null) {
                    $name = ($report !== null && $report['name'] !== null ? $report['name'] : 'report-' . $this->reportId) . '.html';
                }
            } else {
                $p = $this->params;
                $module = is_string($p['source_module']) && $p['source_module'] !== '' ? $p['source_module'] : (is_string($p['module']) ? $p['module'] : null);
                foreach ($p as $k => $v) {
                    if ($v !== null && $v !== '') {
                        $details[$k] = $v;
                    }
                }
                if ($contentType !== null && stripos($contentType, 'calendar') !== false) {
                    // Calendar's export without type=csv is an iCalendar file.
                    $recordCount = $this->icalComponents();
                    $details['record_count_source'] = $recordCount !== null ? 'ical_components' : null;
                    if ($recordCount === null) {
                        $details['record_count_note'] = 'the iCalendar file was not kept whole (capture_content, capture_max_bytes)';
                    }
                } else {
                    $recordCount = $this->capture->csvDataRows();
                    $details['record_count_source'] = 'csv_rows';
                }
            }

            $details['content_captured'] = $this->capture->keepsContent();
            if ($this->endedEarly) {
                // Vtiger's code removed the probe's buffer: what followed was not seen.
                $details['capture_incomplete'] = 'output buffer ended by the application';
            }

            $row = array(
                'kind' => $this->kind,
                'occurred_at' => $this->occurredAt,
                'user_id' => $this->userId !== null ? $this->userId : Dxt_Probe::currentUserId(),
                'module' => $module,
                'record_count' => $recordCount,
                'client_ip' => $this->clientIp,
                'user_agent' => $this->userAgent,
                'details' => $details,
                'content_name' => $name,
                'content_type' => $contentType,
            );
            $id = Dxt_IntakeWriter::write($db, $row, $this->capture);
            if ($id === 0) {
                Dxt_Log::error($this->kind . ' not recorded (see the error above)');
            }
        } finally {
            @$db->close();
        }
    }

    /**
     * Events and to-dos (BEGIN:VEVENT / BEGIN:VTODO lines) of a kept
     * iCalendar file; null when it was not kept whole.
     */
    private function icalComponents(): ?int
    {
        if ($this->capture->truncated() || $this->capture->storeFailed()) {
            return null;
        }
        $in = $this->capture->stream();
        if ($in === null) {
            return null;
        }
        $n = 0;
        $carry = '';
        while (!feof($in)) {
            $piece = fread($in, Dxt_Capture::SLICE);
            if ($piece === false) {
                return null;
            }
            $text = $carry . $piece;
            $cut = strrpos($text, "\n");
            if ($cut === false) {
                $carry = $text;
                continue;
            }
            $carry = (string) substr($text, $cut + 1);
            $n += preg_match_all('/^BEGIN:(?:VEVENT|VTODO)\r?$/mi', substr($text, 0, $cut + 1));
        }
        return $n + preg_match_all('/^BEGIN:(?:VEVENT|VTODO)\r?$/mi', $carry);
    }

    /** Report name (HTML entities decoded, as Vtiger shows it), type and primary module. */
    private static function reportInfo(mysqli $db, int $reportId): ?array
    {
        $rows = Dxt_Db::select($db, 'SELECT r.reportname, r.reporttype, m.primarymodule FROM vtiger_report r LEFT JOIN vtiger_reportmodules m ON m.reportmodulesid = r.reportid WHERE r.reportid = ?', array($reportId));
        if (!$rows) {
            return null;
        }
        $r = $rows[0];
        return array(
            'name' => $r['reportname'] === null ? null : html_entity_decode($r['reportname'], ENT_QUOTES, 'UTF-8'),
            'reporttype' => $r['reporttype'],
            'primarymodule' => $r['primarymodule'] !== null && $r['primarymodule'] !== '' ? $r['primarymodule'] : null,
        );
    }

    /** The Content-Type PHP sends when the script sets none. */
    private static function defaultContentType(): ?string
    {
        $type = ini_get('default_mimetype');
        if (!is_string($type) || $type === '') {
            return null;
        }
        $charset = ini_get('default_charset');
        return $type . (is_string($charset) && $charset !== '' && stripos($type, 'text/') === 0 ? '; charset=' . $charset : '');
    }
}

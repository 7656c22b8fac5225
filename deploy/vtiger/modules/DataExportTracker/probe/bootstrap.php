<?php
/**
 * dxtracker probe entry.
 *
 * Vtiger's config.php (index.php, webservice.php) and vtigercron.php include
 * config_override.php on every request; `dxtracker vtiger install` adds one
 * guarded line there that includes this file. So this file must cost next to
 * nothing: it looks at the request parameters and the script name, and for
 * anything that is not an export (nearly every request) it returns without
 * loading another file or touching the database.
 *
 * For an export it loads Probe.php, which captures the response as it
 * passes (unchanged) and writes a dxt_intake row at the end of the request.
 *
 * It defines functions only (no variables): config_override.php runs in
 * Vtiger's global scope, and a variable set here would be Vtiger's.
 */
if (!function_exists('dxt_probe_route')) {
    /**
     * Which take-out path a request is, from its parameters and script:
     * 'listview_export', 'report_export', 'scheduled_report' or null.
     */
    function dxt_probe_route(array $request, array $server)
    {
        $script = '';
        if (isset($server['SCRIPT_FILENAME']) && is_string($server['SCRIPT_FILENAME'])) {
            $script = $server['SCRIPT_FILENAME'];
        } elseif (isset($server['SCRIPT_NAME']) && is_string($server['SCRIPT_NAME'])) {
            $script = $server['SCRIPT_NAME'];
        }
        $slash = strrpos(strtr($script, '\\', '/'), '/');
        $base = $slash === false ? $script : substr($script, $slash + 1);

        if ($base === 'vtigercron.php') {
            return 'scheduled_report';
        }
        if ($base !== 'index.php') {
            return null;
        }
        // Vtiger's front controller runs the action when one is named, else the view.
        if (isset($request['action']) && $request['action'] !== '') {
            return $request['action'] === 'ExportData' ? 'listview_export' : null;
        }
        if (isset($request['view'], $request['module'], $request['mode'])
            && $request['view'] === 'ExportReport' && $request['module'] === 'Reports'
            && ($request['mode'] === 'GetCSV' || $request['mode'] === 'GetXLS' || $request['mode'] === 'GetPrintReport')) {
            return 'report_export';
        }
        return null;
    }

    /** Starts the probe for an export; never lets anything reach Vtiger. */
    function dxt_probe_boot($dbconfig)
    {
        if (PHP_VERSION_ID < 70200 || !isset($_SERVER) || !is_array($_SERVER)) {
            return;
        }
        $kind = dxt_probe_route(isset($_REQUEST) && is_array($_REQUEST) ? $_REQUEST : array(), $_SERVER);
        if ($kind === null) {
            return;
        }
        $probe = __DIR__ . '/Probe.php';
        if (!is_file($probe)) {
            return;
        }
        set_error_handler('dxt_probe_boot_error');
        try {
            include_once $probe;
            if (class_exists('Dxt_Probe', false)) {
                Dxt_Probe::start($kind, is_array($dbconfig) ? $dbconfig : null);
            }
        } catch (Throwable $e) {
            error_log('[dxtracker] probe start failed: ' . get_class($e) . ': ' . $e->getMessage());
        } finally {
            restore_error_handler();
        }
    }

    /** Error handler while the probe starts: log, never show. */
    function dxt_probe_boot_error($severity, $message, $file = '', $line = 0)
    {
        error_log('[dxtracker] probe start: PHP error ' . $severity . ': ' . $message . ' (' . basename((string) $file) . ':' . $line . ')');
        return true;
    }

    dxt_probe_boot(isset($dbconfig) ? $dbconfig : (isset($GLOBALS['dbconfig']) ? $GLOBALS['dbconfig'] : null));
}

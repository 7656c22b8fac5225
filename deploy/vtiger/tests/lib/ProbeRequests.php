<?php
/**
 * Requests of the probe tests against the stand-in Vtiger: the real list
 * export form body (from the samples, or the same fields), report export
 * URLs, and the expected bytes of each export.
 */
final class Dxt_ProbeRequests
{
    /** The form body Vtiger 8's export dialog posts, with fields replaced. */
    public static function listviewBody(array $replace = array()): string
    {
        $sample = Dxt_TestHarness::sample('listview-export-Contacts-all.request-body.txt');
        if ($sample === null) {
            $sample = '__vtrftk=sid%3Aabc%2C1796412061&module=Contacts&source_module=Contacts&action=ExportData&viewname=7&selected_ids=&excluded_ids=&page=1&search_key=&operator=&search_value=&search_params=%5B%5B%5D%5D&orderby=&sortorder=&tag_params=%5B%5D&mode=ExportAllData';
        }
        parse_str(trim($sample), $fields);
        foreach ($replace as $k => $v) {
            $fields[$k] = $v;
        }
        return http_build_query($fields);
    }

    public static function reportPath(string $mode, int $record = 26, array $extra = array()): string
    {
        return '/index.php?' . http_build_query(array_merge(array('module' => 'Reports', 'view' => 'ExportReport', 'mode' => $mode, 'record' => $record), $extra));
    }

    /** POSTs a list-view export to $server. */
    public static function listview(Dxt_TestServer $server, array $headers = array(), array $replace = array()): Dxt_TestResponse
    {
        return $server->request('POST', '/index.php', $headers + array('X-Harness-User' => '5'), self::listviewBody($replace));
    }

    /** GETs a report export from $server. */
    public static function report(Dxt_TestServer $server, string $mode, array $headers = array(), int $record = 26, array $extra = array()): Dxt_TestResponse
    {
        return $server->request('GET', self::reportPath($mode, $record, $extra), $headers + array('X-Harness-User' => '1'));
    }

    /** The bytes the stand-in serves for an unmodified list-view export. */
    public static function listviewSample(): string
    {
        $s = Dxt_TestHarness::sample('listview-export-Contacts-all.csv');
        if ($s === null) {
            require_once __DIR__ . '/../harness/docroot/harness/common.php';
            $s = harness_generated_csv(50);
        }
        return $s;
    }

    /**
     * Fails unless the extension logged nothing and PHP raised nothing about
     * it (the stand-in report code's deliberate notice aside).
     */
    public static function assertQuietLog(Dxt_TestServer $server, string $what): void
    {
        $log = (string) preg_replace('/^.*harness notice from the report code.*$\n?/m', '', $server->log());
        Dxt_Assert::notContains('[dxtracker]', $log, $what . ': dxtracker log lines');
        Dxt_Assert::notContains('DataExportTracker', $log, $what . ': PHP messages from the extension');
    }
}

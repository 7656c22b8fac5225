<?php
/** Dxt_CsvCounter: data rows of a CSV fed in pieces of any size. */

/** Counts $csv fed in pieces of $size bytes (0: one piece). */
function probe_csv_rows(string $csv, int $size = 0): int
{
    $c = new Dxt_CsvCounter();
    if ($size <= 0) {
        $c->feed($csv);
    } else {
        for ($i = 0; $i < strlen($csv); $i += $size) {
            $c->feed(substr($csv, $i, $size));
        }
    }
    $c->finish();
    return $c->dataRows();
}

/** Same count whatever the piece size, including one byte at a time. */
function probe_assert_rows(int $expected, string $csv, string $what): void
{
    foreach (array(0, 1, 2, 3, 5, 7, 64) as $size) {
        Dxt_Assert::same($expected, probe_csv_rows($csv, $size), $what . ' (pieces of ' . $size . ')');
    }
}

function testCsvCountsPlainRows()
{
    probe_assert_rows(3, "a,b\n1,2\n3,4\n5,6\n", 'LF');
    probe_assert_rows(0, "a,b\n", 'header only');
    probe_assert_rows(0, '', 'empty');
}

function testCsvQuotedNewlinesAreData()
{
    probe_assert_rows(2, "name,addr\n\"Smith\",\"Line 1\nLine 2\"\n\"Jones\",\"A\r\nB\r\nC\"\n", 'quoted LF and CRLF');
    probe_assert_rows(1, "h\n\"a\"\"\nb\"\"c\"\n", 'escaped quotes around a newline');
    probe_assert_rows(2, "h\n\"\"\"quoted\"\"\",x\n\"\",y\n", 'escaped quotes and empty quoted field');
}

function testCsvBomIsNotData()
{
    probe_assert_rows(2, "\xEF\xBB\xBF\"Contact Id\",Name\n1,a\n2,b\n", 'BOM');
    probe_assert_rows(0, "\xEF\xBB\xBF", 'BOM only');
    probe_assert_rows(1, "\xEF\xBB\xBFh\nx", 'BOM, last line without newline');
}

function testCsvCrlfAndLoneCr()
{
    probe_assert_rows(2, "a,b\r\n1,2\r\n3,4\r\n", 'CRLF');
    probe_assert_rows(2, "a,b\r1,2\r3,4\r", 'lone CR');
    probe_assert_rows(2, "a,b\r\n1,2\r\n3,4", 'CRLF, last line without newline');
}

function testCsvLastLineWithoutNewlineCounts()
{
    probe_assert_rows(2, "a,b\n1,2\n3,4", 'LF');
    probe_assert_rows(1, "a\n\"open quote never closed\nstill open", 'unclosed quote at the end');
    probe_assert_rows(1, "a\n\"x\"", 'quoted last field without newline');
}

function testCsvEmptyLinesAreNotRecords()
{
    probe_assert_rows(2, "\n\na,b\n\n1,2\n\n\n3,4\n\n", 'blank lines');
    probe_assert_rows(1, "a\r\n\r\n1\r\n\r\n", 'blank CRLF lines');
}

function testCsvSamplesHaveFiftyRows()
{
    foreach (array('listview-export-Contacts-all.csv', 'report-export-26.csv', 'scheduled-report-26-attachment.csv') as $name) {
        $csv = Dxt_TestHarness::sample($name);
        if ($csv === null) {
            $csv = "\xEF\xBB\xBFh\n" . str_repeat("\"a\nb\",c\n", 50);
        }
        probe_assert_rows(50, $csv, $name);
    }
}

function testCsvMatchesPhpParserOnGeneratedExport()
{
    require_once __DIR__ . '/harness/docroot/harness/common.php';
    $csv = harness_generated_csv(3000);
    // PHP's own parser, record by record, as the reference.
    $fp = fopen('php://temp', 'w+');
    fwrite($fp, $csv);
    rewind($fp);
    $n = 0;
    while (($row = fgetcsv($fp, 0, ',', '"', '')) !== false) {
        if ($row !== array(null)) {
            $n++;
        }
    }
    fclose($fp);
    Dxt_Assert::same(3001, $n, 'reference parser');
    foreach (array(0, 1000, 65536, 4093) as $size) {
        Dxt_Assert::same(3000, probe_csv_rows($csv, $size), 'pieces of ' . $size);
    }
}

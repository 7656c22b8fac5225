<?php
/**
 * Dxt_CsvCounter on hostile input: bytes that are not UTF-8, NUL and other
 * control bytes, byte order marks where they do not belong, quotes and
 * line endings in every combination, cut into pieces at every place.
 *
 * CSV counting exists only in PHP (the probe counts as it streams), so
 * this file is the "fuzz target" for it: a seeded random differential test
 * against a byte-by-byte reference counter, plus fixed cases. Run it alone
 * with: php deploy/vtiger/tests/run.php CsvCounterHostile
 */

/** The rules of Dxt_CsvCounter, one byte at a time: the reference. */
function csv_reference_records(string $s): int
{
    if (strncmp($s, Dxt_CsvCounter::BOM, 3) === 0) {
        $s = (string) substr($s, 3);
    }
    $records = 0;
    $inQuote = false;
    $atStart = true;
    $n = strlen($s);
    for ($i = 0; $i < $n; $i++) {
        $ch = $s[$i];
        if ($inQuote) {
            if ($ch === '"') {
                $inQuote = false; // "" reopens at the next byte: same count
            }
            continue;
        }
        if ($ch === '"') {
            $inQuote = true;
            $atStart = false;
            continue;
        }
        if ($ch === "\r" || $ch === "\n") {
            if ($ch === "\r" && $i + 1 < $n && $s[$i + 1] === "\n") {
                $i++;
            }
            if (!$atStart) {
                $records++;
                $atStart = true;
            }
            continue;
        }
        $atStart = false;
    }
    return $atStart ? $records : $records + 1;
}

/** Records of $csv fed to the streaming counter in the given piece sizes (cycled). */
function csv_stream_records(string $csv, array $sizes): int
{
    $c = new Dxt_CsvCounter();
    $i = 0;
    $k = 0;
    $len = strlen($csv);
    if (!$sizes) {
        $c->feed($csv);
    }
    while ($sizes && $i < $len) {
        $size = $sizes[$k++ % count($sizes)];
        $c->feed((string) substr($csv, $i, $size));
        if ($k % 5 === 0) {
            $c->feed(''); // empty writes happen (ob callbacks with nothing)
        }
        $i += $size;
    }
    $c->finish();
    return $c->records();
}

function csv_hostile_assert(int $records, string $csv, string $what): void
{
    Dxt_Assert::same($records, csv_reference_records($csv), $what . ': reference');
    foreach (array(array(), array(1), array(2), array(3), array(1, 2, 7), array(4093), array(5, 1, 1, 64)) as $sizes) {
        Dxt_Assert::same($records, csv_stream_records($csv, $sizes), $what . ' (pieces ' . json_encode($sizes) . ')');
    }
}

function testCsvCounterNonUtf8AndControlBytesAreJustData()
{
    // Shift_JIS export (Excel in Japan): 0x82 0xA0 etc. are not UTF-8.
    csv_hostile_assert(3, "\x96\xbc\x91\x4f,\x83\x81\x81\x5b\x83\x8b\r\n\x8e\x52\x93\x63,a@example.jp\r\n\"\x97\xe9\x96\xd8\r\n\",b\r\n", 'Shift_JIS');
    csv_hostile_assert(3, "h\n\xff\xfe\xfd\n\xc0\xaf\"\xc3\"\n", 'invalid UTF-8 sequences');
    csv_hostile_assert(3, "a\x00b\n\x00\n\"\x00\n\x00\"\n", 'NUL bytes, also inside quotes');
    csv_hostile_assert(2, "a\x1a\x0b\x0c\n\x7f,\x1b[31m\n", 'control bytes');
    csv_hostile_assert(2, "\xff\xfeh\x00\n\x001\x00\n", 'UTF-16 BOM is data, not a BOM');
    csv_hostile_assert(2, "h\n\xEF\xBB\xBF1\n", 'UTF-8 BOM after the start is data');
    csv_hostile_assert(2, "\xEF\xBB\xBF\xEF\xBB\xBFh\n1\n", 'two BOMs: the second is data');
    csv_hostile_assert(1, "\xEF\xBB", 'half a BOM is data');
    csv_hostile_assert(0, "\xEF\xBB\xBF\r\n\r\n", 'BOM and blank lines only');
}

function testCsvCounterQuotesAndLineEndingsInEveryCombination()
{
    csv_hostile_assert(2, "\"a\rb\"\r\"c\r\nd\"\r\n", 'CR and CRLF inside quotes, lone CR outside');
    csv_hostile_assert(1, "\"\"\"\"\"\"\n", 'only escaped quotes');
    csv_hostile_assert(2, "a\"b\nc\"d\ne\n", 'quote inside an unquoted field opens a quoted run');
    csv_hostile_assert(1, "\"never closed\n\n\n", 'open quote swallows the rest');
    csv_hostile_assert(2, "a\r\r\r\nb\n\r", 'runs of mixed line endings');
    csv_hostile_assert(3, "\r\na\r\n\"\"\r\n\"\r\n\"\r\n", 'empty quoted field is a record');
    csv_hostile_assert(1, str_repeat('"', 1001), 'odd run of quotes');
    csv_hostile_assert(0, str_repeat("\r\n", 1000), 'only line endings');
    csv_hostile_assert(1000, str_repeat("\"x\ny\",\"\"\"\"\r", 1000), 'many records with quoted newlines');
}

/**
 * Seeded random CSVs over an alphabet of the bytes that matter, fed in
 * random pieces: the streaming counter agrees with the reference every
 * time. 3,000 documents, each cut three ways.
 */
function testCsvCounterAgreesWithReferenceOnRandomHostileInput()
{
    $alphabet = array('a', 'b', ',', ';', '"', '""', "\n", "\r", "\r\n", "\n\n", Dxt_CsvCounter::BOM, "\xEF", "\xBB\xBF",
        "\xff", "\xfe", "\x00", "\x82\xa0", "\xe3\x81\x82", ' ', "\t");
    mt_srand(20261204);
    for ($doc = 0; $doc < 3000; $doc++) {
        $csv = '';
        $len = mt_rand(0, 40);
        for ($i = 0; $i < $len; $i++) {
            $csv .= $alphabet[mt_rand(0, count($alphabet) - 1)];
        }
        $want = csv_reference_records($csv);
        for ($cut = 0; $cut < 3; $cut++) {
            $sizes = array();
            for ($i = mt_rand(0, 4); $i > 0; $i--) {
                $sizes[] = mt_rand(1, 9);
            }
            $got = csv_stream_records($csv, $sizes);
            if ($got !== $want) {
                Dxt_Assert::fail(sprintf('document %d %s in pieces %s: %d records, reference %d',
                    $doc, json_encode(bin2hex($csv)), json_encode($sizes), $got, $want));
            }
        }
    }
}

function testCsvCounterOnAFiveMegabyteHostileExportStaysFast()
{
    $row = "\"\xff\x00\r\n\"\"x\",\xEF\xBB\xBF,\x82\xa0\r\n";
    $n = intdiv(5 << 20, strlen($row));
    $csv = Dxt_CsvCounter::BOM . "h\r\n" . str_repeat($row, $n);
    $start = microtime(true);
    $rows = csv_stream_records($csv, array(65536));
    $secs = microtime(true) - $start;
    Dxt_Assert::same($n + 1, $rows, 'records');
    Dxt_Assert::true($secs < 5, sprintf('5 MiB counted in %.2f s', $secs));
}

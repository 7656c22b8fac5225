<?php
// Shared pieces of the stand-in Vtiger: fixture files (the real Vtiger 8
// export samples when the fixtures folder is there, generated stand-ins
// otherwise), generated CSV rows and the harness's own database connection.

/** Path of a sample file in the fixtures folder, or null when absent. */
function harness_sample($name)
{
    $dir = getenv('DXT_FIXTURES_DIR');
    if ($dir === false || $dir === '') {
        return null;
    }
    $path = rtrim($dir, '/') . '/samples/' . $name;
    return is_file($path) ? $path : null;
}

/** One generated contact row: commas, quotes, line breaks inside fields, UTF-8. */
function harness_row($i)
{
    return array(
        'Mr.',
        'First' . $i,
        'CON' . $i,
        $i % 3 === 0 ? "Smith, Jr. $i" : "Smith$i",
        '+1-555-' . sprintf('%04d', $i % 10000),
        $i % 5 === 0 ? "Acme \"Global\" $i" : "Acme $i",
        '+1-555-9' . sprintf('%03d', $i % 1000),
        'Web Site',
        '',
        $i % 7 === 0 ? "Head of\nPurchasing" : 'Buyer',
        'Purchasing',
        'user' . $i . '@example.com',
        '1980-01-' . sprintf('%02d', 1 + $i % 28),
        $i % 11 === 0 ? "Line one\r\nLine two, with comma" : 'Main Street ' . $i,
        'Zürich',
        'ZH',
        sprintf('%05d', $i),
        'Schweiz',
        'jsmith',
        '2026-12-04 19:00:00',
    );
}

/** Header of the generated rows. */
function harness_header()
{
    return array('Salutation', 'First Name', 'Contact Id', 'Last Name', 'Office Phone', 'Organization Name',
        'Mobile Phone', 'Lead Source', 'Home Phone', 'Title', 'Department', 'Primary Email', 'Date of Birth',
        'Mailing Street', 'Mailing City', 'Mailing State', 'Mailing Zip', 'Mailing Country', 'Assigned To',
        'Created Time');
}

/** Generated CSV (header + $rows rows) as fputcsv writes it. */
function harness_generated_csv($rows)
{
    $fp = fopen('php://temp', 'w+');
    fputcsv($fp, harness_header());
    for ($i = 1; $i <= $rows; $i++) {
        fputcsv($fp, harness_row($i));
    }
    rewind($fp);
    $s = stream_get_contents($fp);
    fclose($fp);
    return $s;
}

/** The harness's own connection (Vtiger's, in this stand-in), on the real test port. */
function harness_db()
{
    static $db = null;
    if ($db === null) {
        mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
        $db = new mysqli(
            getenv('DXT_TEST_DB_HOST') !== false ? getenv('DXT_TEST_DB_HOST') : '127.0.0.1',
            getenv('DXT_TEST_DB_USER') !== false ? getenv('DXT_TEST_DB_USER') : 'root',
            getenv('DXT_TEST_DB_PASS') !== false ? getenv('DXT_TEST_DB_PASS') : '',
            getenv('DXT_TEST_DB_NAME') !== false ? getenv('DXT_TEST_DB_NAME') : 'vtiger',
            (int) (getenv('DXT_TEST_DB_PORT') !== false ? getenv('DXT_TEST_DB_PORT') : 3306)
        );
        $db->set_charset('utf8mb4');
    }
    return $db;
}

/** Report names the stand-in knows (Vtiger reads them from vtiger_report). */
function harness_report_name($id)
{
    return (int) $id === 26 ? 'Lab Contacts Export Report' : 'Report ' . (int) $id;
}

/** A stand-in for Vtiger's BIFF .xls when the samples are absent. */
function harness_fake_xls()
{
    $s = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
    for ($i = 0; strlen($s) < 16384; $i++) {
        $s .= chr(($i * 37 + 11) % 256);
    }
    return $s;
}

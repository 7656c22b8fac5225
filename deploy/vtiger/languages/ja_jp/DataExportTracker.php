<?php
/** Data Export Tracker モジュールのラベル（日本語）。 */
$languageStrings = array(
    'DataExportTracker' => 'データ持ち出し監視',
    'SINGLE_DataExportTracker' => 'データ持ち出し監視',
    'LBL_DATA_EXPORT_TRACKER' => 'データ持ち出し監視',
);
$jsLanguageStrings = array();

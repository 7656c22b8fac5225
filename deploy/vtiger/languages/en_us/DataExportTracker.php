<?php
/** Data Export Tracker module labels (English). */
$languageStrings = array(
    'DataExportTracker' => 'Data Export Tracker',
    'SINGLE_DataExportTracker' => 'Data Export Tracker',
    'LBL_DATA_EXPORT_TRACKER' => 'Data Export Tracker',
);
$jsLanguageStrings = array();

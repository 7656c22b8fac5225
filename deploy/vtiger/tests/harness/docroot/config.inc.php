<?php
// Stand-in for Vtiger's config.inc.php: the database settings in Vtiger's
// own shape ($dbconfig, db_port in ':3306' form), taken from the test
// environment. DXT_HARNESS_DB_PORT overrides the port (a dead port makes the
// database "down" for the probe).
$dbconfig = array();
$dbconfig['db_server'] = getenv('DXT_TEST_DB_HOST') !== false ? getenv('DXT_TEST_DB_HOST') : '127.0.0.1';
$dbconfig['db_port'] = ':' . (getenv('DXT_HARNESS_DB_PORT') !== false ? getenv('DXT_HARNESS_DB_PORT') : (getenv('DXT_TEST_DB_PORT') !== false ? getenv('DXT_TEST_DB_PORT') : '3306'));
$dbconfig['db_username'] = getenv('DXT_TEST_DB_USER') !== false ? getenv('DXT_TEST_DB_USER') : 'root';
$dbconfig['db_password'] = getenv('DXT_TEST_DB_PASS') !== false ? getenv('DXT_TEST_DB_PASS') : '';
$dbconfig['db_name'] = getenv('DXT_TEST_DB_NAME') !== false ? getenv('DXT_TEST_DB_NAME') : 'vtiger';
$dbconfig['db_type'] = 'mysqli';
$dbconfig['db_status'] = 'true';

$root_directory = __DIR__ . '/';
$site_URL = '';
$application_unique_key = 'dxtracker-harness-key';
$default_timezone = 'UTC';

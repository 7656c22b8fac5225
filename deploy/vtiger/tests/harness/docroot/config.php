<?php
// Stand-in for Vtiger's config.php: config.inc.php, then config_override.php
// when present (that is where the probe's line goes).
include('config.inc.php');

$THIS_DIR = dirname(__FILE__);

if (file_exists($THIS_DIR . '/config_override.php')) {
    include_once $THIS_DIR . '/config_override.php';
}

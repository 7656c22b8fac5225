<?php
// Stand-in for Vtiger's index.php: config first (so the probe line in
// config_override.php runs before anything is printed), then the pieces of
// Vtiger's web front controller the probe depends on.
include_once 'config.php';
require_once __DIR__ . '/harness/web.php';

harness_web_main();

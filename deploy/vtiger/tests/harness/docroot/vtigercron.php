<?php
// Stand-in for Vtiger's vtigercron.php: config.inc.php and
// config_override.php (which loads the probe), then a scheduled-reports run
// that moves next_trigger_time of every due schedule forward and mails
// nothing. Run with the docroot as working directory, like Vtiger's cron.
require_once 'config.inc.php';

if (file_exists('config_override.php')) {
    include_once 'config_override.php';
}
require_once __DIR__ . '/harness/cron.php';

harness_cron_main();

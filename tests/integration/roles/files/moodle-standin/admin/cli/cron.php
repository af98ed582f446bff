<?php
define('CLI_SCRIPT', true);
require(dirname(dirname(__DIR__)) . '/config.php');
echo "Cron run completed (stand-in).\n";

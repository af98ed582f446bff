<?php
define('CLI_SCRIPT', true);
require(dirname(dirname(__DIR__)) . '/config.php');
echo "Caches purged (stand-in).\n";

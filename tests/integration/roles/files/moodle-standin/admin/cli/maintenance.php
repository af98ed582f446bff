<?php
define('CLI_SCRIPT', true);
require(dirname(dirname(__DIR__)) . '/config.php');
$options = getopt('', array('enable', 'disable'));
$file = $CFG->dataroot . '/climaintenance.html';
if (isset($options['enable'])) {
    file_put_contents($file, "<html><body>Site is under maintenance (stand-in)</body></html>\n");
    echo "== Maintenance mode (CLI) enabled ==\n";
} else if (isset($options['disable'])) {
    if (file_exists($file)) {
        unlink($file);
    }
    echo "== Maintenance mode disabled ==\n";
} else {
    echo file_exists($file) ? "Status: CLI maintenance mode\n" : "Status: disabled\n";
}

<?php
require(__DIR__ . '/config.php');
list($version, $release) = standin_code_version();
$dbversion = standin_db_version();
if ($dbversion === null) {
    http_response_code(303);
    header('Location: ' . $CFG->wwwroot . '/install.php');
    exit(0);
}
header('Content-Type: text/plain');
echo "Moodle stand-in\nrelease: $release\ncode version: $version\ndatabase version: $dbversion\n";

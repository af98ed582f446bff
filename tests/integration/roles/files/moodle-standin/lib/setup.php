<?php
// Stand-in for Moodle's lib/setup.php: the database connection and the maintenance rule.
if (!defined('MOODLE_INTERNAL')) {
    define('MOODLE_INTERNAL', true);
}
global $CFG, $DB;
$CFG->dirroot = dirname(__DIR__);
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
$DB = new mysqli($CFG->dbhost, $CFG->dbuser, $CFG->dbpass, $CFG->dbname);

function standin_code_version() {
    global $CFG;
    $version = null;
    $release = null;
    include($CFG->dirroot . '/version.php');
    return array($version, $release);
}

function standin_db_version() {
    global $CFG, $DB;
    $table = $CFG->prefix . 'config';
    $found = $DB->query("SHOW TABLES LIKE '" . $DB->real_escape_string($table) . "'");
    if ($found->num_rows === 0) {
        return null;
    }
    $row = $DB->query("SELECT value FROM `$table` WHERE name = 'version'")->fetch_row();
    return $row ? $row[0] : null;
}

if (!defined('CLI_SCRIPT') && file_exists($CFG->dataroot . '/climaintenance.html')) {
    http_response_code(503);
    readfile($CFG->dataroot . '/climaintenance.html');
    exit(0);
}

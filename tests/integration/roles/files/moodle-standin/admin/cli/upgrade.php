<?php
define('CLI_SCRIPT', true);
require(dirname(dirname(__DIR__)) . '/config.php');
list($version, $release) = standin_code_version();
$dbversion = standin_db_version();
if ($dbversion === null) {
    fwrite(STDERR, "Database is not yet installed.\n");
    exit(2);
}
if ((float) $dbversion > (float) $version) {
    fwrite(STDERR, "Cannot downgrade from $dbversion to $version.\n");
    exit(1);
}
if ((float) $dbversion == (float) $version) {
    echo "No upgrade needed for the installed version $release.\n";
    exit(0);
}
$table = $CFG->prefix . 'config';
if (file_exists(__DIR__ . '/FAIL_HALFWAY')) {
    // half of the upgrade steps ran: an intermediate version and a new table, then a step dies
    $halfway = (string) (((float) $dbversion + (float) $version) / 2);
    $DB->query("UPDATE `$table` SET value = '" . $DB->real_escape_string($halfway) . "' WHERE name = 'version'");
    $DB->query("CREATE TABLE `{$CFG->prefix}upgrade_partial` (id INT)");
    fwrite(STDERR, "Default exception handler: Error writing to database (stand-in upgrade step failed)\n");
    exit(1);
}
$stmt = $DB->prepare("UPDATE `$table` SET value = ? WHERE name = ?");
foreach (array('version' => (string) $version, 'release' => $release) as $name => $value) {
    $stmt->bind_param('ss', $value, $name);
    $stmt->execute();
}
echo "Command line upgrade from $dbversion to $version completed successfully.\n";

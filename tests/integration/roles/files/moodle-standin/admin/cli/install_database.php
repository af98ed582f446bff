<?php
define('CLI_SCRIPT', true);
require(dirname(dirname(__DIR__)) . '/config.php');
$options = getopt('', array('agree-license', 'lang:', 'adminuser:', 'adminpass:', 'adminemail:', 'fullname:',
                            'shortname:'));
if (!isset($options['agree-license'])) {
    fwrite(STDERR, "You must agree to the license by specifying --agree-license\n");
    exit(1);
}
if (standin_db_version() !== null) {
    fwrite(STDERR, "Database tables already present; CLI installation cannot continue.\n");
    exit(1);
}
list($version, $release) = standin_code_version();
$table = $CFG->prefix . 'config';
$DB->query("CREATE TABLE `$table` (name VARCHAR(190) PRIMARY KEY, value TEXT)");
$stmt = $DB->prepare("INSERT INTO `$table` (name, value) VALUES ('version', ?), ('release', ?), ('siteadmin', ?)");
$admin = isset($options['adminuser']) ? $options['adminuser'] : 'admin';
$stmt->bind_param('sss', $version, $release, $admin);
$stmt->execute();
echo "Installation completed successfully.\n";

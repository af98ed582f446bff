<?php
require(dirname(__DIR__) . '/config.php');
list($version, $release) = standin_code_version();
header('Content-Type: text/html');
echo "<html><body><form id=\"login\" method=\"post\"><input name=\"logintoken\" value=\"standin\">"
    . "<input name=\"username\"><input name=\"password\" type=\"password\"></form>"
    . "<p>release: " . htmlspecialchars($release) . "</p></body></html>\n";

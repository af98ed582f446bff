#!/bin/sh
# Moodle's cron every minute, as the container's user (www-data); waits while no code is deployed.
while true; do
    if [ -f /var/www/moodle/admin/cli/cron.php ] && [ -f /var/www/moodle/config.php ]; then
        php /var/www/moodle/admin/cli/cron.php --keep-alive=0 || echo "cron.php failed ($?)" >&2
    else
        echo "no Moodle code in /var/www/moodle: nothing to run" >&2
    fi
    sleep 60
done

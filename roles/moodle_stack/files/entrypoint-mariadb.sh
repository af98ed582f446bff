#!/bin/sh
# MariaDB container entrypoint: on the first start (empty data volume) initialise the data directory,
# run the SQL files of /docker-entrypoint-initdb.d on a server without networking, then run the server.
set -eu
install -d -o mysql -g mysql -m 0755 /run/mysqld
if [ ! -d /var/lib/mysql/mysql ]; then
    chown mysql:mysql /var/lib/mysql
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db \
        --auth-root-authentication-method=socket >/dev/null
    mariadbd --user=mysql --skip-networking --socket=/run/mysqld/init.sock &
    pid=$!
    tries=0
    until mariadb-admin --socket=/run/mysqld/init.sock ping >/dev/null 2>&1; do
        tries=$((tries + 1))
        [ "$tries" -lt 120 ] || { echo "MariaDB did not start for the initialisation" >&2; exit 1; }
        sleep 0.5
    done
    for sql in /docker-entrypoint-initdb.d/*.sql; do
        [ -f "$sql" ] || continue
        echo "running $sql"
        mariadb --socket=/run/mysqld/init.sock < "$sql"
    done
    mariadb-admin --socket=/run/mysqld/init.sock shutdown
    wait "$pid" || true
fi
exec mariadbd --user=mysql

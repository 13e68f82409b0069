#!/usr/bin/env bash
# photo_ai's entrypoint, in front of Immich's own (which is run unchanged): pg_cron has to
# live in Immich's database, whose name comes from the variables Immich's entrypoint reads.
set -euo pipefail

db="${POSTGRES_DB:-${DB_DATABASE_NAME:-immich}}"
if [[ ! "$db" =~ ^[A-Za-z0-9_-]+$ ]]; then
  echo "photo_ai: database name '$db' is not a plain name; leaving cron.database_name alone" >&2
else
  for conf in /var/postgresql-conf-tpl/postgresql.*.conf; do
    # not writable when the container runs as another user: the image's default stays
    if [ -w "$conf" ]; then
      sed -i "s/^cron.database_name = .*/cron.database_name = '${db}'/" "$conf"
    fi
  done
fi

exec /usr/local/bin/immich-docker-entrypoint.sh "$@"

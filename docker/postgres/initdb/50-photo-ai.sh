#!/usr/bin/env bash
# First start of a new database (Immich's image runs /docker-entrypoint-initdb.d/ then):
# zhparser's text search configuration, pg_cron, and photo_ai as soon as Immich has made
# its tables (docker/postgres/enable.sql).
set -euo pipefail
/usr/local/bin/photo-ai-enable

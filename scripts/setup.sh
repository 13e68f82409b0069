#!/usr/bin/env bash
# Installs everything photo_ai needs on Debian 12, as root. Safe to run again: each
# step checks what is already there and does nothing when it is.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  postgresql-15 postgresql-contrib postgresql-server-dev-15
  postgresql-plpython3-15 postgresql-15-cron python3-jieba
  fonts-wqy-zenhei build-essential ca-certificates
  chromium  # the search page's browser tests (driven by Playwright, never downloaded)
)

step() { printf '==> %s\n' "$*"; }

missing_apt_packages() {
  local pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || echo "$pkg"
  done
}

install_apt_packages() {
  local missing
  missing=$(missing_apt_packages)
  if [ -z "$missing" ]; then step "Debian packages: present"; return; fi
  step "Debian packages: installing $(echo $missing)"
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

step "photo_ai set-up"
install_apt_packages
scripts/build_pgvector.sh
scripts/setup_venv.sh
step "set-up complete"

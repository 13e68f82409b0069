#!/usr/bin/env bash
# Builds pgvector 0.8.x for PostgreSQL 15 from Debian's own source package.
# Bookworm ships no pgvector binary, so the source comes from trixie through a private
# source list and lists directory: the system's apt sources are never touched.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
WANT_SERIES=0.8
SOURCE_SUITE=${PGVECTOR_SOURCE_SUITE:-trixie}
WORK=.cache/pgvector
CONTROL="$("$PG_CONFIG" --sharedir)/extension/vector.control"

installed_version() {
  [ -f "$CONTROL" ] && sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$CONTROL"
}

# The Debian archive this machine already uses (deb822 .sources or one-line sources.list),
# so a local mirror or proxy is honoured; PGVECTOR_SOURCE_MIRROR overrides it.
debian_mirror() {
  if [ -n "${PGVECTOR_SOURCE_MIRROR:-}" ]; then echo "$PGVECTOR_SOURCE_MIRROR"; return; fi
  {
    grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources || true
    grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list || true
  } | awk '{print $2}' | grep -v -- '-security' | grep -m1 '/debian/\?$'
}

version_at_least() {  # $1 >= $2
  [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]
}

have=$(installed_version || true)
if [ -n "$have" ] && version_at_least "$have" "$WANT_SERIES"; then
  echo "==> pgvector $have: present"
  exit 0
fi

echo "==> pgvector: building $WANT_SERIES.x from Debian's $SOURCE_SUITE source package"
mkdir -p "$WORK/lists/partial" "$WORK/src"
mirror=$(debian_mirror) || {
  echo "no Debian archive found in /etc/apt; set PGVECTOR_SOURCE_MIRROR" >&2
  exit 1
}
echo "deb-src $mirror $SOURCE_SUITE main" > "$WORK/sources.list"
APT_OPTS=(
  -o "Dir::Etc::SourceList=$PWD/$WORK/sources.list"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$PWD/$WORK/lists"
  -o "APT::Sandbox::User=root"
)
apt-get "${APT_OPTS[@]}" update -qq
version=$(apt-cache "${APT_OPTS[@]}" showsrc pgvector | sed -n 's/^Version: //p' | sort -V | tail -n1)
case "$version" in
  "$WANT_SERIES".*) ;;
  *) echo "pgvector source in $SOURCE_SUITE is $version, not $WANT_SERIES.x" >&2; exit 1 ;;
esac
# apt checks the files against the signed Sources index, so the download is verified.
(cd "$WORK/src" && rm -rf ./* && apt-get "${APT_OPTS[@]}" source --download-only -qq "pgvector=$version")
upstream=${version%-*}
tar -xzf "$WORK/src/pgvector_${upstream}.orig.tar.gz" -C "$WORK/src"
# OPTFLAGS is emptied so the binary does not depend on this machine's CPU (-march=native).
make -s -C "$WORK/src/pgvector-$upstream" USE_PGXS=1 PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >/dev/null
make -s -C "$WORK/src/pgvector-$upstream" USE_PGXS=1 PG_CONFIG="$PG_CONFIG" OPTFLAGS="" install >/dev/null
echo "==> pgvector $(installed_version): installed"

#!/usr/bin/env python3
"""Builds the photo_ai extension's install and upgrade scripts from sql/ (sql/README.md).

Files under sql/migrations/ are migrations: each runs once, guarded by the ledger table
photo_ai.migration, so one script serves a fresh install and every upgrade. Files under
sql/functions/, sql/triggers/ and sql/data/ are idempotent and run every time, followed by
sql/privileges.sql.
The same body therefore becomes photo_ai--<version>.sql and photo_ai--<old>--<version>.sql
for every released version kept in extensions/photo_ai/released/; only the install script
creates the schema.

The idempotent files may name two values the build writes in: @PYTHON_PATH@, the folder
where `make install` puts the photo_ai_plpython package for this version (under
pg_config's sharedir), and @CJK_RANGES@, the CJK ranges of photo_ai_plpython/cjk.py.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQL = ROOT / "sql"
EXTENSION = ROOT / "extensions" / "photo_ai"
MIGRATION_TAG = "$migration_body$"
RULE = "-" * 79
sys.path.insert(0, str(ROOT))

from photo_ai_plpython import __version__ as PYTHON_PACKAGE_VERSION  # noqa: E402
from photo_ai_plpython.cjk import postgres_class  # noqa: E402


def python_path(pg_config: str, version: str) -> str:
    """Where extensions/photo_ai/Makefile installs the package for this version."""
    sharedir = subprocess.run(
        [pg_config, "--sharedir"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return f"{sharedir}/photo_ai/python/{version}"


def default_version() -> str:
    control = (EXTENSION / "photo_ai.control").read_text()
    match = re.search(r"^default_version\s*=\s*'([^']+)'", control, re.M)
    if not match:
        sys.exit("photo_ai.control has no default_version")
    return match.group(1)


def numbered_files(folder: str) -> list[Path]:
    files = sorted((SQL / folder).glob("*.sql"))
    for path in files:
        if not re.match(r"^\d{3}_[a-z0-9_]+\.sql$", path.name):
            sys.exit(f"{path.relative_to(ROOT)}: name must be NNN_words.sql")
    return files


def migration(path: Path) -> str:
    name = str(path.relative_to(SQL))
    body = path.read_text()
    if MIGRATION_TAG in body:
        sys.exit(f"{name} may not contain {MIGRATION_TAG}")
    digest = hashlib.sha256(body.encode()).hexdigest()
    return f"""
{RULE}
-- migration {name}
do $migration$
declare
    _done text;
begin
    select sha256 into _done from photo_ai.migration where name = '{name}';
    if found then
        if _done is distinct from '{digest}' then
            raise warning 'photo_ai: migration {name} changed after it was applied; not re-run';
        end if;
        return;
    end if;
    execute {MIGRATION_TAG}{body}{MIGRATION_TAG};
    insert into photo_ai.migration (name, sha256) values ('{name}', '{digest}');
end
$migration$;
"""


def idempotent(path: Path, values: dict[str, str]) -> str:
    text = path.read_text()
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    if leftover := re.findall(r"@[A-Z_]+@", text):
        sys.exit(f"{path.relative_to(ROOT)}: unknown placeholder {leftover[0]}")
    return f"\n{RULE}\n-- {path.relative_to(SQL)}\n{text}"


def build_script(version: str, fresh_install: bool, values: dict[str, str]) -> str:
    parts = [(SQL / "head.sql").read_text().replace("@VERSION@", version)]
    if fresh_install:
        parts.append((SQL / "create_schema.sql").read_text())
    parts.append((SQL / "ledger.sql").read_text())
    parts += [migration(p) for p in numbered_files("migrations")]
    for folder in ("functions", "triggers", "data"):
        parts += [idempotent(p, values) for p in numbered_files(folder)]
    # last, so that every function above starts closed to PUBLIC
    parts.append(idempotent(SQL / "privileges.sql", values))
    return "".join(parts)


def released_versions() -> list[str]:
    names = (p.name for p in (EXTENSION / "released").glob("photo_ai--*.sql"))
    return sorted(m.group(1) for n in names if (m := re.match(r"photo_ai--([^-]+)\.sql$", n)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-config", default=os.environ.get("PG_CONFIG", "pg_config"))
    args = parser.parse_args()
    version = default_version()
    released = released_versions()
    if version in released:
        sys.exit(f"{version} is already released: raise default_version in photo_ai.control")
    if version != PYTHON_PACKAGE_VERSION:
        sys.exit(f"photo_ai_plpython is {PYTHON_PACKAGE_VERSION}, the extension {version}")
    values = {
        "@PYTHON_PATH@": python_path(args.pg_config, version),
        "@CJK_RANGES@": postgres_class(),
    }
    for old in EXTENSION.glob("photo_ai--*.sql"):
        old.unlink()
    (EXTENSION / f"photo_ai--{version}.sql").write_text(build_script(version, True, values))
    upgrade = build_script(version, False, values)
    for old in released:
        (EXTENSION / f"photo_ai--{old}--{version}.sql").write_text(upgrade)
    print(f"built photo_ai {version} (upgrades from: {', '.join(released) or 'none'})")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Builds the photo_ai extension's install and upgrade scripts from sql/.

Files under sql/migrations/ are migrations: each runs once, guarded by the ledger table
photo_ai.migration, so one script serves a fresh install and every upgrade. Files under
sql/functions/ and sql/triggers/ are idempotent (CREATE OR REPLACE) and run every time,
followed by sql/privileges.sql.
The same body therefore becomes photo_ai--<version>.sql and photo_ai--<old>--<version>.sql
for every released version kept in extensions/photo_ai/released/; only the install script
creates the schema.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQL = ROOT / "sql"
EXTENSION = ROOT / "extensions" / "photo_ai"
MIGRATION_TAG = "$migration_body$"
RULE = "-" * 79


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


def idempotent(path: Path) -> str:
    name = path.relative_to(SQL)
    return f"\n{RULE}\n-- {name}\n{path.read_text()}"


def build_script(version: str, fresh_install: bool) -> str:
    parts = [(SQL / "head.sql").read_text().replace("@VERSION@", version)]
    if fresh_install:
        parts.append((SQL / "create_schema.sql").read_text())
    parts.append((SQL / "ledger.sql").read_text())
    parts += [migration(p) for p in numbered_files("migrations")]
    parts += [idempotent(p) for p in numbered_files("functions")]
    parts += [idempotent(p) for p in numbered_files("triggers")]
    # last, so that every function above starts closed to PUBLIC
    parts.append(idempotent(SQL / "privileges.sql"))
    return "".join(parts)


def released_versions() -> list[str]:
    names = (p.name for p in (EXTENSION / "released").glob("photo_ai--*.sql"))
    return sorted(m.group(1) for n in names if (m := re.match(r"photo_ai--([^-]+)\.sql$", n)))


def main() -> None:
    version = default_version()
    released = released_versions()
    if version in released:
        sys.exit(f"{version} is already released: raise default_version in photo_ai.control")
    for old in EXTENSION.glob("photo_ai--*.sql"):
        old.unlink()
    (EXTENSION / f"photo_ai--{version}.sql").write_text(build_script(version, True))
    upgrade = build_script(version, False)
    for old in released:
        (EXTENSION / f"photo_ai--{old}--{version}.sql").write_text(upgrade)
    print(f"built photo_ai {version} (upgrades from: {', '.join(released) or 'none'})")


if __name__ == "__main__":
    main()

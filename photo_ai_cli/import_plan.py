"""What an import changes: which file of the folder is which photo.

A photo is its content (SHA-1): files with the same bytes (a copy, a link inside the
folder) are one asset, analysed and found once, with the other files as its copies
(photo_ai.asset_copy). The asset's original_path is the file it was first found at, while
that file still has its content. For each content found in the folder the holder is, in
this order:

1. the oldest asset that has it and whose file still has it (under the folder: the file
   is there with that content; elsewhere: trusted, since the folder tells nothing of it);
2. an asset of the folder whose file no longer has it (moved, renamed, or overwritten by
   other content), which moves to the first file that has it;
3. an asset at one of the files that have it: the file came back from the trash, or its
   content changed;
4. a new asset at the first file that has it (in path order).

Every other file with that content is a copy of the holder. An asset of the folder that
holds nothing goes to the trash: its copies elsewhere follow the holder of its content,
or, where the folder no longer has that content, it moves to one of those copies instead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class File:
    path: str
    checksum: bytes
    taken_at: datetime | None


@dataclass(frozen=True)
class Asset:
    """An asset the import may touch: one under the folder, or one elsewhere with the
    content of a file of the folder."""

    id: str
    path: str
    checksum: bytes | None
    trashed: bool
    in_folder: bool
    copies_elsewhere: tuple[str, ...] = ()  # its copies outside the folder, by path


@dataclass
class Change:
    """One asset written: `kind` is added, changed, restored or moved."""

    kind: str
    asset_id: str
    path: str
    checksum: bytes | None
    taken_at: datetime | None


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0  # files of the folder that are an asset's, as before
    trashed: list[str] = field(default_factory=list)  # asset ids
    copies: dict[str, str] = field(default_factory=dict)  # path under the folder -> asset id
    repointed: dict[str, str] = field(default_factory=dict)  # trashed asset -> holder: copies
    no_longer_copies: list[str] = field(default_factory=list)  # paths elsewhere now assets'

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)


def plan_import(files: list[File], assets: list[Asset]) -> Plan:
    """The changes that bring the assets in line with the folder's files; `assets` oldest
    first (see the module's doc)."""
    by_content: dict[bytes, list[File]] = {}
    for f in sorted(files, key=lambda f: f.path):
        by_content.setdefault(f.checksum, []).append(f)
    at_path = {f.path: f for f in files}
    plan = Plan()
    holders: dict[bytes, tuple[str, str]] = {}  # content -> (asset id, path)
    used: set[str] = set()

    def hold(asset: Asset, kind: str | None, file: File | None) -> None:
        content = file.checksum if file else asset.checksum
        holders[content] = (asset.id, file.path if file else asset.path)
        used.add(asset.id)
        if kind:
            plan.changes.append(Change(kind, asset.id, file.path, file.checksum, file.taken_at))
        elif asset.in_folder:
            plan.unchanged += 1

    def still_there(a: Asset) -> bool:
        if a.in_folder:
            return a.path in at_path and at_path[a.path].checksum == a.checksum
        return not a.trashed

    for a in assets:  # 1. oldest first
        if not a.trashed and a.checksum in by_content and a.checksum not in holders:
            if still_there(a):
                hold(a, None, None)
    for a in assets:  # 2.
        if a.in_folder and not a.trashed and a.id not in used and not still_there(a):
            if a.checksum in by_content and a.checksum not in holders:
                hold(a, "moved", by_content[a.checksum][0])
    at_file: dict[str, list[Asset]] = {}
    for a in assets:
        if a.in_folder:
            at_file.setdefault(a.path, []).append(a)
    for content, group in by_content.items():  # 3. and 4.
        if content in holders:
            continue
        candidates = [a for f in group for a in at_file.get(f.path, []) if a.id not in used]
        # the same content coming back first, then a live asset whose content changed
        candidates.sort(key=lambda a: (a.checksum != content, a.trashed))
        if candidates:
            asset = candidates[0]
            kind = "restored" if asset.trashed else "changed"
            hold(asset, kind, at_path[asset.path])
        else:
            new = Asset(str(uuid.uuid4()), group[0].path, content, False, True)
            hold(new, "added", group[0])
    for content, group in by_content.items():
        holder_id, holder_path = holders[content]
        plan.copies.update({f.path: holder_id for f in group if f.path != holder_path})
    for a in assets:
        if a.in_folder and not a.trashed and a.id not in used:
            _retire(plan, a, holders)
    return plan


def _retire(plan: Plan, asset: Asset, holders: dict[bytes, tuple[str, str]]) -> None:
    """An asset of the folder that holds nothing: to the trash (its copies elsewhere
    follow the holder of its content), or, where only its copies elsewhere still have its
    content, moved to one of them."""
    if asset.checksum in holders:
        plan.trashed.append(asset.id)
        plan.repointed[asset.id] = holders[asset.checksum][0]
    elif asset.copies_elsewhere:
        path = asset.copies_elsewhere[0]
        plan.changes.append(Change("moved", asset.id, path, asset.checksum, None))
        plan.no_longer_copies.append(path)
    else:
        plan.trashed.append(asset.id)

"""The importer: every image under a folder, recursively, once; changes and removals."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from photo_ai_cli import importer
from tests.support.pictures import picture


def assets(conn) -> dict[str, tuple]:
    rows = conn.execute(
        "SELECT original_path, checksum, taken_at, deleted_at FROM photo_ai.asset"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def copies(conn) -> dict[str, str]:
    """Each copy's path, and the path of the asset it is a copy of."""
    rows = conn.execute(
        "SELECT c.path, a.original_path FROM photo_ai.asset_copy c "
        "JOIN photo_ai.asset a ON a.id = c.asset_id"
    ).fetchall()
    return dict(rows)


def live_assets(conn) -> dict[str, str]:
    """Path -> id of the assets not in the trash."""
    rows = conn.execute(
        "SELECT original_path, id::text FROM photo_ai.asset WHERE deleted_at IS NULL"
    ).fetchall()
    return dict(rows)


def queued_generations(conn) -> dict[tuple[str, str], int]:
    rows = conn.execute(
        "SELECT a.original_path, j.task::text, j.generation FROM photo_ai.job j "
        "JOIN photo_ai.asset a ON a.id = j.asset_id"
    ).fetchall()
    return {(r[0], r[1]): r[2] for r in rows}


def library(root: Path) -> dict[str, Path]:
    """Images at several depths and in every format, each of its own content, and what must
    be left alone."""
    files = {
        "top": picture(root / "a.jpg"),
        "upper": picture(root / "B.JPEG", colour=(10, 20, 30), format="JPEG"),
        "png": picture(root / "2024" / "03" / "c.png"),
        "webp": picture(root / "2024" / "d.webp"),
        "gif": picture(root / "e.gif"),
        "tiff": picture(root / "deep" / "er" / "f.tif"),
        # judged by its name only
        "heic_named": picture(root / "g.heic", colour=(10, 20, 30), format="PNG"),
    }
    (root / "notes.txt").write_text("not a picture")
    (root / "movie.mp4").write_bytes(b"\0" * 64)
    (root / "2024" / "raw.cr2").write_bytes(b"\0" * 64)
    picture(root / ".hidden.jpg")
    picture(root / ".thumbnails" / "thumb.jpg")
    outside = picture(root.parent / "outside.jpg")
    (root / "escape.jpg").symlink_to(outside)
    (root / "inside_link.jpg").symlink_to(root / "a.jpg")
    return files


def test_imports_images_recursively_and_skips_the_rest(conn, tmp_path):
    root = tmp_path / "photos"
    files = library(root)
    report = importer.import_folder(conn, root)
    found = assets(conn)
    assert set(found) == {str(p) for p in files.values()}
    assert report.found == report.added + 1 == len(files) + 1
    # the link inside the folder is the same photo as a.jpg: one asset, the link its copy
    assert copies(conn) == {str(root / "inside_link.jpg"): str(files["top"])}
    assert report.copies == 1
    # notes.txt, movie.mp4, raw.cr2, .hidden.jpg, .thumbnails is not walked, escape.jpg
    assert report.skipped == 5
    checksum = found[str(files["top"])][0]
    assert bytes(checksum) == importer.checksum(files["top"]) and len(checksum) == 20
    # every new image got its jobs, in one statement
    assert {task for (_, task) in queued_generations(conn)} == {"ocr", "clip", "faces"}


def test_importing_again_adds_and_queues_nothing(conn, tmp_path):
    root = tmp_path / "photos"
    library(root)
    importer.import_folder(conn, root)
    before, jobs_before = assets(conn), queued_generations(conn)
    report = importer.import_folder(conn, root)
    assert (report.added, report.changed, report.restored, report.trashed) == (0, 0, 0, 0)
    assert report.unchanged == report.found - report.copies == len(before)
    assert assets(conn) == before
    assert queued_generations(conn) == jobs_before


def test_a_changed_file_is_updated_and_queued_again(conn, tmp_path):
    root = tmp_path / "photos"
    files = library(root)
    importer.import_folder(conn, root)
    jobs_before = queued_generations(conn)
    picture(files["png"], colour=(10, 200, 10))  # new content, same path
    report = importer.import_folder(conn, root)
    assert (report.added, report.changed) == (0, 1)
    jobs_after = queued_generations(conn)
    key = str(files["png"])
    assert all(jobs_after[(key, t)] == jobs_before[(key, t)] + 1 for t in ("ocr", "clip"))
    others = {k: v for k, v in jobs_after.items() if k[0] != key}
    assert others == {k: v for k, v in jobs_before.items() if k[0] != key}
    assert (
        conn.execute(
            "SELECT count(*) FROM photo_ai.asset WHERE original_path = %s", [key]
        ).fetchone()[0]
        == 1
    )


def test_a_removed_file_goes_to_the_trash_and_comes_back(conn, tmp_path):
    root = tmp_path / "photos"
    files = library(root)
    importer.import_folder(conn, root)
    kept = files["gif"].read_bytes()
    files["gif"].unlink()
    report = importer.import_folder(conn, root)
    assert report.trashed == 1
    assert assets(conn)[str(files["gif"])][2] is not None  # deleted_at
    files["gif"].write_bytes(kept)
    report = importer.import_folder(conn, root)
    assert (report.restored, report.trashed, report.added) == (1, 0, 0)
    assert assets(conn)[str(files["gif"])][2] is None


def test_another_folder_is_left_alone(conn, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    picture(first / "a.jpg")
    picture(second / "b.jpg", colour=(0, 0, 200))
    importer.import_folder(conn, first)
    importer.import_folder(conn, second)
    # importing `second` must not trash what came from `first` (nor from first-ish names)
    picture(tmp_path / "first-more" / "c.jpg", colour=(0, 200, 0))
    importer.import_folder(conn, tmp_path / "first-more")
    importer.import_folder(conn, first)
    assert all(row[2] is None for row in assets(conn).values())
    assert len(assets(conn)) == 3


def test_taken_at_comes_from_exif(conn, tmp_path):
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2023:12:24 18:30:00"
    path = tmp_path / "photos" / "party.jpg"
    picture(path, format="JPEG", exif=exif.tobytes())
    picture(tmp_path / "photos" / "plain.png", colour=(0, 0, 200))
    importer.import_folder(conn, tmp_path / "photos")
    taken = {
        Path(p).name: t
        for p, t in conn.execute(
            "SELECT original_path, to_char(taken_at AT TIME ZONE current_setting('TimeZone'), "
            "'YYYY-MM-DD HH24:MI') FROM photo_ai.asset"
        )
    }
    assert taken == {"party.jpg": "2023-12-24 18:30", "plain.png": None}


def test_an_unreadable_image_is_still_imported(conn, tmp_path):
    """A broken file is the pipeline's to report (failed_jobs), not the importer's."""
    broken = tmp_path / "photos" / "broken.jpg"
    broken.parent.mkdir()
    broken.write_bytes(b"\xff\xd8\xff not really a jpeg")
    report = importer.import_folder(conn, tmp_path / "photos")
    assert report.added == 1


def test_not_a_folder(conn, tmp_path):
    try:
        importer.import_folder(conn, tmp_path / "missing")
    except NotADirectoryError as e:
        assert "missing" in str(e)
    else:
        raise AssertionError("expected NotADirectoryError")
    assert os.listdir(tmp_path) == []


def duplicates(root: Path) -> dict[str, Path]:
    """One photo four times (a copy, a link and a hard link), and another photo."""
    original = picture(root / "a.jpg")
    (root / "sub").mkdir()
    (root / "sub" / "copy of a.jpg").write_bytes(original.read_bytes())
    (root / "link.jpg").symlink_to(original)
    os.link(original, root / "sub" / "hard.jpg")
    other = picture(root / "b.jpg", colour=(0, 0, 200))
    return {"a": original, "b": other}


def test_identical_files_are_one_photo_with_copies(conn, tmp_path):
    root = tmp_path / "photos"
    files = duplicates(root)
    report = importer.import_folder(conn, root)
    assert (report.found, report.added, report.copies) == (5, 2, 3)
    assert "3 identical to another (kept as copies of one photo)" in report.summary()
    assert set(live_assets(conn)) == {str(files["a"]), str(files["b"])}
    copied = {str(root / p) for p in ("link.jpg", "sub/copy of a.jpg", "sub/hard.jpg")}
    assert copies(conn) == dict.fromkeys(copied, str(files["a"]))
    assert len(queued_generations(conn)) == 2 * 3, "each photo analysed once"
    again = importer.import_folder(conn, root)
    assert (again.added, again.changed, again.unchanged, again.copies) == (0, 0, 2, 3)


def test_the_photo_moves_to_a_copy_when_its_file_goes(conn, tmp_path):
    root = tmp_path / "photos"
    files = duplicates(root)
    importer.import_folder(conn, root)
    asset = live_assets(conn)[str(files["a"])]
    files["a"].unlink()  # the link now leads nowhere: skipped
    report = importer.import_folder(conn, root)
    assert (report.moved, report.trashed, report.added) == (1, 0, 0)
    assert live_assets(conn)[str(root / "sub" / "copy of a.jpg")] == asset
    assert copies(conn) == {str(root / "sub" / "hard.jpg"): str(root / "sub" / "copy of a.jpg")}


def test_a_renamed_file_is_the_same_asset(conn, tmp_path):
    root = tmp_path / "photos"
    files = duplicates(root)
    importer.import_folder(conn, root)
    asset = live_assets(conn)[str(files["b"])]
    files["b"].rename(root / "sub" / "renamed.jpg")
    report = importer.import_folder(conn, root)
    assert (report.moved, report.trashed, report.added) == (1, 0, 0)
    assert live_assets(conn)[str(root / "sub" / "renamed.jpg")] == asset


def test_a_copy_in_another_folder_keeps_the_photo(conn, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    original = picture(first / "a.jpg")
    picture(second / "b.jpg")  # the same bytes
    importer.import_folder(conn, first)
    assert importer.import_folder(conn, second).copies == 1
    asset = live_assets(conn)[str(original)]
    original.unlink()
    report = importer.import_folder(conn, first)
    assert (report.moved, report.trashed) == (1, 0)
    assert live_assets(conn) == {str(second / "b.jpg"): asset}
    assert copies(conn) == {}


def test_duplicates_imported_before_are_folded_into_one_photo(conn, tmp_path):
    """0.2.0's importer made an asset of every file: the next import keeps the oldest."""
    root = tmp_path / "photos"
    files = duplicates(root)
    for path in sorted(root.rglob("*.jpg")):
        conn.execute(
            "INSERT INTO photo_ai.asset (original_path, checksum) VALUES (%s, %s)",
            [str(path), importer.checksum(path)],
        )
    report = importer.import_folder(conn, root)
    assert (report.copies, report.trashed, report.unchanged) == (3, 3, 2)
    assert set(live_assets(conn)) == {str(files["a"]), str(files["b"])}

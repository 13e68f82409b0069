"""The demo's sample photos: the same bytes every time, every format readable, and real OCR
reads what is printed on them; then the whole demo path on a few of them."""

from __future__ import annotations

import threading

import httpx
import pytest

from inference_sidecar.images import decode_image
from photo_ai_cli import importer, progress, sample_photos, search
from photo_ai_cli.local import dsn
from tests.cli.ocr_samples import OCR_SAMPLES


def test_generating_again_writes_nothing(tmp_path):
    first = sample_photos.generate(tmp_path)
    assert len(first.written) == len(sample_photos.SAMPLES)
    contents = {p: p.read_bytes() for p in first.paths}
    mtimes = {p: p.stat().st_mtime_ns for p in first.paths}
    again = sample_photos.generate(tmp_path)
    assert again.written == [] and len(again.unchanged) == len(sample_photos.SAMPLES)
    assert {p: p.read_bytes() for p in again.paths} == contents
    assert {p: p.stat().st_mtime_ns for p in again.paths} == mtimes
    # a damaged file is drawn again
    victim = first.paths[0]
    victim.write_bytes(b"oops")
    assert sample_photos.generate(tmp_path).written == [victim]


def test_every_sample_is_an_image_the_sidecar_decodes(tmp_path):
    result = sample_photos.generate(tmp_path)
    suffixes = {p.suffix for p in result.paths}
    assert {".jpg", ".png", ".webp", ".heic", ".gif", ".tiff"} <= suffixes
    kinds = {s.kind for s in sample_photos.SAMPLES}
    assert kinds == {"receipt", "sign", "screenshot", "scene"}
    for path in result.paths:
        image = decode_image(path.read_bytes(), 50_000_000)
        assert min(image.size) >= 300, path
    # the README beside them is not an image: the importer skips it
    found = list(importer.find_images(tmp_path))
    assert sorted(found) == sorted(result.paths)
    assert (tmp_path / sample_photos.README_NAME).exists()


@pytest.mark.parametrize("sample", [s for s in OCR_SAMPLES if s.words], ids=lambda s: s.path)
def test_real_ocr_reads_the_printed_words(sample, ocr_sidecar, samples_folder):
    answer = httpx.post(
        f"{ocr_sidecar.url}/v1/analyze",
        json={"path": str(samples_folder / sample.path), "tasks": ["ocr"]},
        headers={"x-api-key": ocr_sidecar.key},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    text = answer.json()["results"]["ocr"]["text"].replace(" ", "")
    for word in sample.words:
        assert word in text, f"{word!r} not read from {sample.path}: {text!r}"


def test_import_work_and_search_the_samples(conn, ocr_sidecar, samples_folder):
    """The demo's path on a few samples: import, the worker with progress, OCR search."""
    conn.execute(
        "SELECT photo_ai.configure(sidecar_url => %s, api_key => %s)",
        [ocr_sidecar.url, ocr_sidecar.key],
    )
    report = importer.import_folder(conn, samples_folder)
    assert report.added == len(OCR_SAMPLES)
    work = progress.run_worker(("ocr",), workers=2, dsn=dsn(conn.info.dbname), show=False)
    assert work.errors == []
    assert work.count("done") == len(OCR_SAMPLES)
    # no CLIP or face model: their jobs wait, none failed
    assert work.states["clip"]["failed"] == 0
    assert work.states["clip"]["queued"] == len(OCR_SAMPLES)

    result = search.search(conn, "ocr:停车场", 5)
    assert result.error is None
    assert [h.path for h in result.hits] == [str(samples_folder / "signs/parking.jpg")]
    assert "停车场" in result.hits[0].snippet
    invoices = search.search(conn, "ocr:发票", 5)
    found = {h.path.rsplit("/", 1)[1] for h in invoices.hits}
    assert found == {"增值税专用发票.jpg", "chat.png"}
    printed = search.format_result(invoices, samples_folder)
    assert "receipts/增值税专用发票.jpg" in printed and "ocr#1" in printed

    # without CLIP the semantic arm says it is off, and the OCR arm still answers
    both = search.search(conn, "停车场", 5)
    assert [h.path for h in both.hits] == [str(samples_folder / "signs/parking.jpg")]
    assert any("semantic" in n for n in both.notices)

    # running again finds nothing to do
    again = progress.run_worker(("ocr",), workers=1, dsn=dsn(conn.info.dbname), show=False)
    assert again.summary.get("done", 0) == 0


def test_the_progress_bar_follows_the_queue(conn, ocr_sidecar, samples_folder, capsys):
    conn.execute(
        "SELECT photo_ai.configure(sidecar_url => %s, api_key => %s)",
        [ocr_sidecar.url, ocr_sidecar.key],
    )
    importer.import_folder(conn, samples_folder)
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        with progress.connect(dsn(conn.info.dbname)) as c:
            while True:
                # stop is set only after the worker returned, so the last look sees its commits
                last_look = stop.wait(0.2)
                seen.append(progress.job_states(c).get("ocr", {}).get("done", 0))
                if last_look:
                    return

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        work = progress.run_worker(("ocr",), workers=1, dsn=dsn(conn.info.dbname), show=True)
    finally:
        stop.set()
        watcher.join()
    out = capsys.readouterr().out  # not a terminal: whole lines, the last one complete
    assert f"analysing ocr: {len(OCR_SAMPLES)}/{len(OCR_SAMPLES)} jobs" in out
    assert work.count("done") == len(OCR_SAMPLES)
    assert seen == sorted(seen) and seen[-1] == len(OCR_SAMPLES)

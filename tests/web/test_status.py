"""The status page and the admin actions over HTTP: progress per task, failed photos with
their reasons, the sidecar's models, retrying, and analysing a photo again."""

from __future__ import annotations

import re

from tests.support.database import superuser


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_status_shows_progress_failures_and_the_sidecar(site, assets, web_sidecar):
    html = site.get("/status").text
    for task in ("Text (OCR)", "Meaning (CLIP)", "Faces"):
        assert task in html
    failure = html.split(f'<tr class="failure" data-asset="{assets["broken.jpg"]}">', 1)[1]
    failure = failure.split("</tr>", 1)[0]
    assert "broken.jpg" in failure and "bad_image" in failure
    assert all(task in failure for task in ("Text (OCR)", "Meaning (CLIP)", "Faces"))
    assert f"Running at {web_sidecar.url}" in html
    assert html.count('<tr class="ready">') == 3  # ocr, clip and faces models


def test_status_json_counts_the_jobs(site):
    status = site.get("/status.json").json()
    # the image tasks, and people and tags, computed from the faces and embeddings stored
    assert {t["task"] for t in status["tasks"]} == {"ocr", "clip", "faces", "people", "tags"}
    for task in status["tasks"]:
        # the broken photo has no faces to group, no embedding to tag
        failed = 0 if task["task"] in ("people", "tags") else 1
        assert task["counts"] == {"done": 4, "queued": 0, "running": 0, "failed": failed}
    assert status["failed"] == 3 and status["busy"] is False
    assert status["sidecar"] == {"reachable": True}


def test_a_missing_model_says_what_to_put_where(analysed, modelless_sidecar, serve):
    with superuser(analysed) as conn:
        conn.execute(
            "SELECT photo_ai.configure(sidecar_url => %s, api_key => %s)",
            [modelless_sidecar.url, modelless_sidecar.key],
        )
    html = serve(analysed).get("/status").text
    models = html.split('id="models"', 1)[1].split("</section>", 1)[0]
    assert "clip_cn_vit-b-16.pt" in models and "PHOTO_AI_MODEL_DIR" in models
    assert 'class="missing"' in models


def test_an_unreachable_sidecar_is_shown(analysed, serve):
    with superuser(analysed) as conn:
        conn.execute("SELECT photo_ai.configure(sidecar_url => 'http://127.0.0.1:9')")
    html = serve(analysed).get("/status").text
    assert "Not reachable" in html and "127.0.0.1:9" in html


def test_analyse_again_runs_the_photo_now_and_shows_the_result(analysed, serve, assets):
    invoice = assets["invoice.png"]
    with superuser(analysed) as conn:
        conn.execute("DELETE FROM photo_ai.ocr_result WHERE asset_id = %s", [invoice])
    page = serve(analysed)
    with page.client() as client:
        before = client.get(f"/asset/{invoice}").text
        assert "增值税专用发票" not in before
        response = client.post(f"/asset/{invoice}/reprocess", data={"csrf_token": csrf_of(before)})
        assert response.status_code == 303
        after = client.get(response.headers["location"]).text
    assert 'id="analysed"' in after
    assert "增值税专用发票" in after.split('<ol class="ocr-lines">', 1)[1]


def finished(database: str, asset: str):
    with superuser(database) as conn:
        return conn.execute(
            "SELECT max(finished_at) FROM photo_ai.job WHERE asset_id = %s", [asset]
        ).fetchone()[0]


def test_retrying_a_photo_that_fails_again_says_so(analysed, serve, assets):
    page = serve(analysed)
    before = finished(analysed, assets["broken.jpg"])
    with page.client(follow_redirects=True) as client:
        token = csrf_of(client.get("/status").text)
        html = client.post(
            "/status/retry",
            data={"csrf_token": token, "asset_id": assets["broken.jpg"], "tasks": "ocr,clip,faces"},
        ).text
    outcome = html.split('id="retried"', 1)[1].split("</div>", 1)[0]
    assert outcome.count('class="job failed"') == 3 and "bad_image" in outcome
    assert finished(analysed, assets["broken.jpg"]) > before  # it was run again

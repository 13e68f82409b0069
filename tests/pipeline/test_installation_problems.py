"""A dead or misconfigured sidecar is never a silent wait and never a lost photo: its jobs
wait without using their tries, photo_ai.status says why and what fixes it, and the work
goes on as soon as it is fixed. A photo that times out uses its tries and fails."""

from __future__ import annotations

import psycopg
import pytest

from photo_ai_cli.local import free_port
from tests.support.pipeline import add_assets, database_of, jobs, point_at, run_worker
from tests.support.standin import StandinSidecar


def problems(conn: psycopg.Connection) -> dict[str, str]:
    rows = conn.execute(
        "SELECT DISTINCT task, problem FROM photo_ai.status WHERE problem IS NOT NULL"
    ).fetchall()
    return dict(rows)


@pytest.mark.parametrize("tries", [1, 3])
def test_a_sidecar_that_times_out_uses_a_try_and_the_job_fails_saying_so(conn, library, tries):
    with StandinSidecar(delay=3) as slow:
        conn.execute(
            "SELECT photo_ai.configure(sidecar_url => %s, tasks => '{ocr}', "
            "request_timeout_seconds => 1, max_attempts => %s)",
            [slow.url, tries],
        )
        (asset,) = add_assets(conn, library / "invoice.png")
        run_worker(database_of(conn))

    state, attempts, error = jobs(conn)[(asset, "ocr")]
    assert attempts == 1, "the try is used: a timeout is not retried forever"
    assert "timed out" in error and "1 s" in error
    if tries == 1:
        assert state == "failed"
        failed = conn.execute("SELECT asset_id::text, task FROM photo_ai.failed_jobs").fetchall()
        assert failed == [(asset, "ocr")]
    else:
        assert state == "queued", "tried again later"


def test_a_wrong_api_key_shows_in_status_and_uses_no_tries(conn, library, pipeline_sidecar):
    conn.execute(
        "SELECT photo_ai.configure(sidecar_url => %s, api_key => 'not-the-key-0123456789', "
        "tasks => '{ocr}')",
        [pipeline_sidecar.url],
    )
    (asset,) = add_assets(conn, library / "invoice.png")

    assert run_worker(database_of(conn)) == {"queued": 1}
    assert jobs(conn)[(asset, "ocr")][:2] == ("queued", 0)
    problem = problems(conn)["ocr"]
    assert "401" in problem and "API key" in problem and "api_key" in problem
    assert run_worker(database_of(conn)) == {}, "held: not sent again at once"

    point_at(conn, pipeline_sidecar)  # the right key
    assert run_worker(database_of(conn)) == {"done": 1}
    assert problems(conn) == {}


def test_a_wrong_url_path_is_an_installation_problem_not_bad_photos(
    conn, library, pipeline_sidecar
):
    conn.execute(
        "SELECT photo_ai.configure(sidecar_url => %s, api_key => %s, tasks => '{ocr,clip}')",
        [pipeline_sidecar.url + "/api", pipeline_sidecar.key],
    )
    photos = add_assets(conn, library / "invoice.png", library / "sign.png")

    assert run_worker(database_of(conn)) == {"queued": 4}
    assert conn.execute("SELECT count(*) FROM photo_ai.failed_jobs").fetchone()[0] == 0
    assert {v[:2] for v in jobs(conn).values()} == {("queued", 0)}
    problem = problems(conn)
    assert problem.keys() == {"ocr", "clip"} and "sidecar_url" in problem["ocr"]

    point_at(conn, pipeline_sidecar)
    assert run_worker(database_of(conn)) == {"done": 4 + 2}  # and their tags
    assert len(photos) == 2


def test_a_task_the_sidecar_does_not_know_waits_alone(conn, library, pipeline_sidecar):
    """A task registered in the database but unknown to an older sidecar: 422 for it, which
    is no photo's fault; the other tasks go on."""
    point_at(conn, pipeline_sidecar)
    conn.execute(
        "INSERT INTO photo_ai.task (name, store, description) "
        "VALUES ('colour', 'photo_ai.write_clip(uuid,jsonb)', 'a task of a newer sidecar')"
    )
    conn.execute("SELECT photo_ai.configure(tasks => '{ocr,colour}')")
    (asset,) = add_assets(conn, library / "invoice.png")

    assert run_worker(database_of(conn)) == {"done": 1, "queued": 1}

    assert jobs(conn)[(asset, "ocr")][0] == "done"
    assert jobs(conn)[(asset, "colour")][:2] == ("queued", 0)
    assert problems(conn).keys() == {"colour"} and "refused" in problems(conn)["colour"]


def test_an_outage_holds_the_work_and_ends_as_soon_as_the_sidecar_answers(conn, library):
    port = free_port()
    conn.execute(
        "SELECT photo_ai.configure(sidecar_url => %s, tasks => '{ocr}')",
        [f"http://127.0.0.1:{port}"],
    )
    (asset,) = add_assets(conn, library / "invoice.png")
    assert run_worker(database_of(conn)) == {"queued": 1}
    assert jobs(conn)[(asset, "ocr")][:2] == ("queued", 0), "an outage uses no tries"
    assert f"127.0.0.1:{port}" in problems(conn)["ocr"]

    # ten minutes of outage: the next real try is a minute away ...
    conn.execute("UPDATE photo_ai.problem SET since = now() - interval '10 minutes'")
    conn.execute("SELECT photo_ai.hold_work('sidecar', 'unreachable', 'still down')")
    wait = conn.execute("SELECT retry_at - now() FROM photo_ai.problem").fetchone()[0]
    assert wait.total_seconds() == pytest.approx(60, abs=1)

    # ... but a worker that finds the sidecar answering again goes on at once
    with StandinSidecar(port=port):
        summary = run_worker(database_of(conn), until_idle=False, max_seconds=8)
    assert summary == {"done": 1}
    assert problems(conn) == {}


def test_a_dead_sidecar_loses_nothing(conn, library, pipeline_sidecar):
    conn.execute("SELECT photo_ai.configure(sidecar_url => 'http://127.0.0.1:9')")
    photos = add_assets(conn, library / "invoice.png", library / "sign.png")
    run_worker(database_of(conn))
    assert {v[:2] for v in jobs(conn).values()} == {("queued", 0)}
    assert (
        "127.0.0.1:9"
        in conn.execute("SELECT DISTINCT sidecar_error FROM photo_ai.status").fetchone()[0]
    )

    point_at(conn, pipeline_sidecar)
    assert run_worker(database_of(conn)) == {"done": (3 + 2) * len(photos)}  # people, tags

"""Leases that live, and results that never outlive their photo: a worker renews its lease
photo by photo and commits each photo's results; a result is stored only while its photo
exists and its job is this claim's; workers and ai_reprocess never deadlock."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.support.database import superuser
from tests.support.pipeline import (
    add_assets,
    database_of,
    image_tasks_only,
    in_thread,
    jobs,
    point_at,
    run_worker,
)
from tests.support.standin import StandinSidecar

RESULT_TABLES = ("job", "ocr_result", "clip_embedding", "face_scan", "face")


def rows_of(conn: psycopg.Connection, asset: str) -> dict[str, int]:
    """How many rows each photo_ai table holds for an asset."""
    return {
        table: conn.execute(
            f"SELECT count(*) FROM photo_ai.{table} WHERE asset_id = %s", [asset]
        ).fetchone()[0]
        for table in RESULT_TABLES
    }


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_two_workers_send_each_photo_once_when_a_photo_outlasts_half_the_lease(conn):
    photos = [f"/photos/{n}.jpg" for n in range(4)]
    with StandinSidecar(delay=1.5) as standin:
        conn.execute(
            "SELECT photo_ai.configure(sidecar_url => %s, lease_seconds => 2, tasks => '{clip}')",
            [standin.url],
        )
        image_tasks_only(conn)
        add_assets(conn, *photos)
        workers = [
            in_thread(run_worker, database_of(conn), until_idle=False, max_seconds=9)
            for _ in range(2)
        ]
        for thread, _ in workers:
            thread.join(timeout=60)

    assert sorted(standin.photos_sent()) == sorted(p.rsplit("/", 1)[1] for p in photos)
    assert {v[:2] for v in jobs(conn).values()} == {("done", 1)}


def test_a_worker_killed_mid_batch_keeps_the_photos_it_finished(conn):
    with StandinSidecar(delay=0.5) as standin:
        conn.execute(
            "SELECT photo_ai.configure(sidecar_url => %s, lease_seconds => 2, tasks => '{clip}')",
            [standin.url],
        )
        image_tasks_only(conn)
        add_assets(conn, *[f"/photos/{n}.jpg" for n in range(6)])

        def finished() -> int:
            return conn.execute(
                "SELECT count(*) FROM photo_ai.job WHERE state = 'done'"
            ).fetchone()[0]

        def work_until_killed() -> None:
            with pytest.raises(psycopg.errors.AdminShutdown):
                run_worker(database_of(conn), batch_size=16)

        worker, _ = in_thread(work_until_killed)
        wait_until(lambda: finished() >= 2)
        conn.execute(
            "SELECT pg_terminate_backend(substr(worker_id, 9)::int) FROM photo_ai.job "
            "WHERE state = 'running' LIMIT 1"
        )
        worker.join(timeout=30)
        kept = finished()
        assert kept >= 2
        assert conn.execute("SELECT count(*) FROM photo_ai.clip_embedding").fetchone()[0] == kept

        time.sleep(2.2)  # the dead worker's lease runs out
        assert run_worker(database_of(conn)) == {"done": 6 - kept}
    assert len(standin.photos_sent()) <= 6 + 1, "at most the photo in hand is sent again"


@pytest.mark.parametrize("how", ["delete", "trash"])
def test_a_photo_deleted_while_the_sidecar_works_on_it_leaves_nothing(conn, library, how):
    with StandinSidecar() as standin:
        conn.execute("SELECT photo_ai.configure(sidecar_url => %s)", [standin.url])
        (asset,) = add_assets(conn, library / "faces.png")
        standin.gate = gate = __import__("threading").Event()
        worker, summary = in_thread(run_worker, database_of(conn))
        assert standin.started.wait(timeout=30), "the worker asked the sidecar"

        if how == "delete":
            conn.execute("DELETE FROM photo_ai.asset WHERE id = %s", [asset])
        else:
            conn.execute("UPDATE photo_ai.asset SET deleted_at = now() WHERE id = %s", [asset])
        gate.set()  # the sidecar answers with results for all three tasks
        worker.join(timeout=30)

    assert summary == [{"superseded": 3}]
    assert rows_of(conn, asset) == dict.fromkeys(RESULT_TABLES, 0)


def test_ai_reprocess_while_a_worker_runs_on_the_same_photos_never_deadlocks(
    conn, library, pipeline_sidecar
):
    point_at(conn, pipeline_sidecar)
    photos = add_assets(conn, *[library / "faces.png"] * 3)
    worker, summary = in_thread(run_worker, database_of(conn), batch_size=1)
    errors = []
    with superuser(database_of(conn)) as admin:
        for _ in range(3):
            for asset in photos:
                try:
                    admin.execute("SELECT ai_reprocess(%s, immediate => true)", [asset])
                except psycopg.errors.DeadlockDetected as e:
                    errors.append(e)
    worker.join(timeout=120)

    assert errors == [] and not worker.is_alive()
    run_worker(database_of(conn))
    assert {v[0] for v in jobs(conn).values()} == {"done"}
    assert conn.execute("SELECT count(*) FROM photo_ai.face").fetchone()[0] == 2 * 3

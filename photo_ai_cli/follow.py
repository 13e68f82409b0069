"""`photo-ai work --follow`: the worker as a long-running service.

Each of N threads holds a connection that LISTENs on photo_ai_jobs (the queue's NOTIFY,
sent when jobs are queued) and runs `CALL photo_ai.run_worker(until_idle => true)` as soon
as there is work; between runs it waits for a notification, or at most `poll_seconds`, so a
missed notification costs seconds, not forever (retries and waiting work come due without
one). A connection that breaks (the database restarting) is made again, with a growing
pause. On SIGTERM or Ctrl-C every running statement is cancelled and each connection gives
back the jobs it held (photo_ai.release_held_jobs), so nothing is left running.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from photo_ai_cli import config, db, local
from photo_ai_cli.background import BackgroundProgram, DidNotStart

__all__ = ["DidNotStart", "FollowOptions", "FollowingWorkers", "follow", "start_in_background"]

CHANNEL = "photo_ai_jobs"
APPLICATION_NAME = "photo-ai work --follow"  # how its connections show in pg_stat_activity
RECONNECT_MAX_S = 30.0
STARTED = "following the photo_ai queue"
# Long enough to drain a large queue in one call; run_worker returns as soon as it is idle.
RUN_SECONDS = 3600


@dataclass
class FollowOptions:
    workers: int = 2
    batch_size: int = 8
    poll_seconds: float = 30.0
    dsn: str | None = None


@dataclass
class _Worker:
    name: str
    connection: psycopg.Connection | None = None
    busy: bool = False  # inside run_worker: a stop must cancel it
    lock: threading.Lock = field(default_factory=threading.Lock)


class FollowingWorkers:
    def __init__(self, options: FollowOptions, log: Callable[[str], None] | None = None):
        self.options = options
        self.dsn = options.dsn or local.dsn()
        self.log = log or (lambda line: print(line, flush=True))
        self.stopping = threading.Event()
        self.workers = [_Worker(f"worker {n + 1}") for n in range(options.workers)]

    def run(self) -> int:
        """Works until stop() (or SIGTERM / SIGINT, when run in the main thread)."""
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: self.stop())
        threads = [
            threading.Thread(target=self._follow, args=(w,), name=w.name, daemon=True)
            for w in self.workers
        ]
        self.log(f"{STARTED} with {len(threads)} workers")
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.5)
        self.log("stopped; no job is left running")
        return 0

    def stop(self) -> None:
        self.stopping.set()
        for worker in self.workers:
            with worker.lock:
                if worker.busy and worker.connection is not None:
                    worker.connection.cancel_safe()

    def _follow(self, worker: _Worker) -> None:
        pause = 1.0
        while not self.stopping.is_set():
            try:
                with psycopg.connect(
                    self.dsn, autocommit=True, connect_timeout=10, application_name=APPLICATION_NAME
                ) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    worker.connection, pause = conn, 1.0
                    self._work_while_connected(worker, conn)
            except psycopg.OperationalError as e:
                if self.stopping.is_set():
                    break
                self.log(f"{worker.name}: database unavailable ({_first_line(e)}); "
                         f"again in {pause:.0f} s")  # fmt: skip
                self.stopping.wait(pause)
                pause = min(pause * 2, RECONNECT_MAX_S)
            finally:
                worker.connection = None

    def _work_while_connected(self, worker: _Worker, conn: psycopg.Connection) -> None:
        while not self.stopping.is_set():
            started, analysed_since = time.monotonic(), db.database_now(conn)
            summary = self._run_once(worker, conn)
            if summary:
                counts = ", ".join(f"{n} {state}" for state, n in sorted(summary.items()))
                self.log(f"{worker.name}: {counts} in {time.monotonic() - started:.1f} s")
                self._settle_faces(worker, conn, analysed_since)
            self._wait_for_work(conn)

    def _settle_faces(self, worker: _Worker, conn: psycopg.Connection, since) -> None:
        """The queue is drained: the faces of the photos this run analysed that were left
        waiting while they arrived are settled now."""
        people = db.settle_faces(conn, since)
        if people and people["grouped"]:
            self.log(f"{worker.name}: people: {people['grouped']} faces grouped, "
                     f"{people['persons_founded']} new persons")  # fmt: skip

    def _wait_for_work(self, conn: psycopg.Connection) -> None:
        """Until a notification comes, the poll interval passes, or the service stops (looked
        at every second, so that stopping never waits for the poll interval)."""
        deadline = time.monotonic() + self.options.poll_seconds
        while not self.stopping.is_set() and time.monotonic() < deadline:
            wait = min(1.0, deadline - time.monotonic())
            if any(True for _ in conn.notifies(timeout=wait, stop_after=1)):
                return

    def _run_once(self, worker: _Worker, conn: psycopg.Connection) -> dict:
        with worker.lock:
            if self.stopping.is_set():
                return {}
            worker.busy = True
        try:
            return conn.execute(
                "CALL photo_ai.run_worker(max_seconds => %s, batch_size => %s, until_idle => true)",
                [RUN_SECONDS, self.options.batch_size],
            ).fetchone()[0]
        except psycopg.errors.QueryCanceled:
            released = conn.execute("SELECT photo_ai.release_held_jobs()").fetchone()[0]
            self.log(f"{worker.name}: stopped, {released} unfinished jobs given back")
            return {}
        finally:
            with worker.lock:
                worker.busy = False


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def background_service() -> BackgroundProgram:
    """The worker service `make demo` leaves running (state in <state dir>/worker/)."""
    return BackgroundProgram(
        "worker", "photo_ai_cli", config.state_dir() / "worker", marks=("work", "--follow")
    )


def start_in_background(workers: int = 2) -> tuple[int, bool]:
    """Starts `photo-ai work --follow` in the background unless it runs already; returns its
    pid and whether this call started it."""
    service = background_service()
    found = service.running()
    if found is not None:
        return found[0], False
    database = local.dsn()
    process = service.launch(
        ["work", "--follow", "--workers", str(workers)],
        {"workers": workers, "database": database},
        env=os.environ | {"PHOTO_AI_DSN": database},
    )
    service.wait_until(process, lambda: STARTED in service.log_tail(5), 30, "the worker service")
    return process.pid, True


def follow(options: FollowOptions) -> int:
    try:
        return FollowingWorkers(options).run()
    except KeyboardInterrupt:  # a second Ctrl-C
        print("interrupted", file=sys.stderr)
        return 130

"""Running the worker with a progress bar.

Worker connections run `CALL photo_ai.run_worker(..., until_idle => true)` in threads,
exactly as pg_cron or any SQL client would; this thread polls photo_ai.status twice a
second and draws one tqdm bar over the jobs of the tasks whose model the sidecar has.
Jobs of a task without its model wait in the queue (they are counted apart, not failed).
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import psycopg
from tqdm import tqdm

from photo_ai_cli import local
from photo_ai_cli.db import connect

POLL_S = 0.5


@dataclass
class WorkReport:
    seconds: float = 0.0
    summary: Counter = field(default_factory=Counter)  # run_worker's counts, all workers
    states: dict[str, Counter] = field(default_factory=dict)  # task -> state -> jobs
    tasks: tuple[str, ...] = ()  # the tasks the bar followed
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False

    def count(self, state: str, tasks: tuple[str, ...] | None = None) -> int:
        tasks = self.tasks if tasks is None else tasks
        return sum(self.states.get(t, Counter())[state] for t in tasks)

    @property
    def waiting(self) -> dict[str, int]:
        """Jobs left queued per task (a missing model, or a retry later)."""
        return {
            t: c["queued"] + c["running"]
            for t, c in self.states.items()
            if c["queued"] + c["running"]
        }


def job_states(conn: psycopg.Connection) -> dict[str, Counter]:
    states: dict[str, Counter] = {}
    for task, state, jobs in conn.execute(
        "SELECT task::text, state::text, jobs FROM photo_ai.status"
    ):
        states.setdefault(task, Counter())[state] += jobs
    return states


def _worker(dsn: str, max_seconds: int, batch_size: int, out: list, stop: threading.Event):
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            out.append(conn)  # so the main thread can cancel it on Ctrl-C
            if stop.is_set():
                return
            summary = conn.execute(
                "CALL photo_ai.run_worker(max_seconds => %s, batch_size => %s, until_idle => true)",
                [max_seconds, batch_size],
            ).fetchone()[0]
            out.append(summary or {})
    except psycopg.errors.QueryCanceled:
        out.append({})
    except Exception as e:  # reported by the main thread
        out.append(e)


def run_worker(
    tasks: tuple[str, ...],
    workers: int = 2,
    batch_size: int = 4,
    max_seconds: int = 1800,
    dsn: str | None = None,
    show: bool = True,
) -> WorkReport:
    """Works the queue until it is idle (or max_seconds), drawing progress over `tasks`."""
    dsn = dsn or local.dsn()
    report = WorkReport(tasks=tasks)
    stop = threading.Event()
    outs: list[list] = [[] for _ in range(workers)]
    threads = [
        threading.Thread(
            target=_worker, args=(dsn, max_seconds, batch_size, outs[i], stop), daemon=True
        )
        for i in range(workers)
    ]
    started = time.monotonic()
    with connect(dsn) as conn:
        first = job_states(conn)
        total = sum(sum(first.get(t, Counter()).values()) for t in tasks)
        desc = "analysing " + "+".join(tasks)
        interactive = show and sys.stdout.isatty()
        bar = tqdm(
            total=total,
            unit="job",
            desc=desc,
            disable=not interactive,
            file=sys.stdout,
            dynamic_ncols=True,
        )
        lines = _PlainProgress(desc) if show and not interactive else None
        for thread in threads:
            thread.start()
        try:
            while True:
                alive = any(t.is_alive() for t in threads)
                states = job_states(conn)
                total = sum(sum(states.get(t, Counter()).values()) for t in tasks)
                finished = sum(
                    states.get(t, Counter())[s] for t in tasks for s in ("done", "failed")
                )
                bar.total = total
                bar.n = finished
                failed = sum(states.get(t, Counter())["failed"] for t in tasks)
                bar.set_postfix_str(f"failed {failed}" if failed else "", refresh=False)
                bar.refresh()
                if lines:
                    lines.show(finished, total, failed, final=not alive)
                report.states = states
                if not alive:
                    break
                time.sleep(POLL_S)
        except KeyboardInterrupt:
            report.interrupted = True
            stop.set()
            for out in outs:
                for item in out:
                    if isinstance(item, psycopg.Connection):
                        item.cancel_safe()
            for thread in threads:
                thread.join(timeout=10)
            report.states = job_states(conn)
        finally:
            bar.close()
    report.seconds = time.monotonic() - started
    for out in outs:
        for item in out:
            if isinstance(item, dict):
                report.summary.update({k: int(v) for k, v in item.items()})
            elif isinstance(item, Exception):
                report.errors.append(f"{type(item).__name__}: {item}".strip())
    return report


class _PlainProgress:
    """Progress as whole lines, for logs and pipes: every 10 s and at the end."""

    def __init__(self, desc: str, every_s: float = 10.0):
        self.desc, self.every_s = desc, every_s
        self.started = self.last = time.monotonic()
        self.shown: tuple | None = None

    def show(self, finished: int, total: int, failed: int, final: bool) -> None:
        now = time.monotonic()
        if (finished, total) == self.shown or (not final and now - self.last < self.every_s):
            return
        self.last, self.shown = now, (finished, total)
        tail = f", {failed} failed" if failed else ""
        print(f"{self.desc}: {finished}/{total} jobs{tail} ({now - self.started:.0f}s)", flush=True)

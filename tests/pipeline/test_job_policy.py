"""The job policy, held to a table: what each outcome does to a job (procrastinate's way of
testing a retry strategy), and how sidecar answers are named."""

from __future__ import annotations

from datetime import timedelta

import pytest
from psycopg.types.json import Jsonb

BASE, LONGEST, TRIES = 10.0, 3600.0, 5

# kind, attempts used -> next state, delay in seconds, whether the try counts, what it holds
POLICY = [
    ("result", 1, "done", 0, True, None),
    ("bad_image", 1, "failed", 0, True, None),
    ("timeout", 1, "queued", 10, True, None),
    ("timeout", 2, "queued", 20, True, None),
    ("timeout", 4, "queued", 80, True, None),
    ("timeout", 5, "failed", 0, True, None),
    ("server_error", 3, "queued", 40, True, None),
    ("write_failed", 1, "queued", 10, True, None),
    ("lease_expired", 1, "queued", 0, True, None),
    ("lease_expired", 5, "failed", 0, True, None),
    ("unreachable", 5, "queued", 0, False, "sidecar"),
    ("unauthorized", 1, "queued", 0, False, "sidecar"),
    ("wrong_url", 1, "queued", 0, False, "sidecar"),
    ("overloaded", 1, "queued", 0, False, "sidecar"),
    ("model_missing", 5, "queued", 0, False, "task"),
    ("model_unavailable", 1, "queued", 0, False, "task"),
    ("refused_request", 1, "queued", 0, False, "task"),
    ("released", 1, "queued", 0, False, None),
]


@pytest.mark.parametrize("kind, attempts, state, delay, uses_try, holds", POLICY)
def test_the_job_policy(conn, kind, attempts, state, delay, uses_try, holds):
    row = conn.execute(
        "SELECT next_state::text, delay, uses_try, holds "
        "FROM photo_ai.job_policy(%s, %s, %s, %s, %s)",
        [kind, attempts, TRIES, BASE, LONGEST],
    ).fetchone()
    assert row == (state, timedelta(seconds=delay), uses_try, holds)


def test_the_retry_delay_stops_growing_at_retry_max_seconds(conn):
    delay = conn.execute(
        "SELECT delay FROM photo_ai.job_policy('timeout', 30, 100, 10, 3600)"
    ).fetchone()[0]
    assert delay == timedelta(hours=1)


def test_an_unknown_outcome_is_an_error_not_a_guess(conn):
    with pytest.raises(Exception, match="unknown job outcome"):
        conn.execute("SELECT * FROM photo_ai.job_policy('surprise', 1, 5, 10, 3600)")


def error(status: int, kind: str | None, detail: str = "why") -> dict:
    body = {"error": {"kind": kind, "detail": detail}} if kind else {"detail": "Not Found"}
    return {"status": status, "body": body, "url": "http://sidecar:3003"}


# a sidecar answer -> the kind of outcome it is for the ocr job
ANSWERS = [
    ({"status": 200, "body": {"results": {"ocr": {}}, "errors": {}}}, "result"),
    ({"status": 200, "body": {"results": {"clip": {}}, "errors": {}}}, "server_error"),
    ({"status": 0, "kind": "timeout", "error": "timed out"}, "timeout"),
    ({"status": 0, "kind": "unreachable", "error": "refused"}, "unreachable"),
    ({"status": -1, "kind": "unreadable_file", "error": "cannot read"}, "bad_image"),
] + [
    (error(status, said), kind)
    for status, said, kind in [
        (422, "bad_image", "bad_image"), (403, "forbidden_path", "bad_image"),
        (404, "not_found", "bad_image"), (413, "too_many_pixels", "bad_image"),
        (401, "unauthorized", "unauthorized"), (401, None, "unauthorized"),
        (404, None, "wrong_url"), (405, None, "wrong_url"), (200, "not_json", "wrong_url"),
        (503, "model_missing", "model_missing"), (503, "model_unavailable", "model_unavailable"),
        (422, "bad_request", "refused_request"), (429, None, "overloaded"),
        (503, None, "overloaded"), (500, "internal", "server_error"), (502, None, "server_error"),
    ]
]  # fmt: skip


@pytest.mark.parametrize("answer, kind", ANSWERS)
def test_what_a_sidecar_answer_means_for_a_job(conn, answer, kind):
    found = conn.execute(
        "SELECT kind FROM photo_ai.answer_outcome(%s, 'ocr')", [Jsonb(answer)]
    ).fetchone()[0]
    assert found == kind


def test_the_reason_for_an_installation_problem_says_what_fixes_it(conn):
    details = {
        kind: conn.execute(
            "SELECT detail FROM photo_ai.answer_outcome(%s, 'ocr')", [Jsonb(answer)]
        ).fetchone()[0]
        for answer, kind in ANSWERS
        if kind in ("unauthorized", "wrong_url", "refused_request")
    }
    assert "401" in details["unauthorized"] and "api_key" in details["unauthorized"]
    assert "sidecar_url" in details["wrong_url"]
    assert "Upgrade" in details["refused_request"]

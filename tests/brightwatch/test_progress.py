"""When a loop counts as stuck (brightwatch.progress): failing too long, or work waiting
and no good batch too long; idle with nothing waiting is healthy however old."""

from __future__ import annotations

import pytest

from brightwatch.progress import Beat, Progress, Watch
from brightwatch.settings import HealthSettings

# (what, [(t, progress)], stuck after the last one, reason contains)
CASES = [
    (
        "idle for an hour with nothing waiting",
        [(0, Progress(last_good_at=-3600)), (100, Progress(last_good_at=-3600))],
        False,
        None,
    ),
    (
        "never had a batch, nothing waiting",
        [(0, Progress()), (1000, Progress())],
        False,
        None,
    ),
    (
        "a batch failing since 40 s (the consumer knows since when)",
        [(100, Progress(last_good_at=0, consecutive_failures=9, failing_since=60))],
        True,
        "failing for 40 s (9 consecutive failures)",
    ),
    (
        "a batch failing for 20 s only",
        [(100, Progress(last_good_at=0, consecutive_failures=3, failing_since=80))],
        False,
        None,
    ),
    (
        "failures seen for 31 s, source does not say since when",
        [
            (0, Progress(last_good_at=-5, consecutive_failures=1)),
            (31, Progress(last_good_at=-5, consecutive_failures=6)),
        ],
        True,
        "failing for 31 s",
    ),
    (
        "failures, then a good batch, then failures again: counted from the good batch",
        [
            (0, Progress(last_good_at=-5, consecutive_failures=1)),
            (31, Progress(last_good_at=20, consecutive_failures=2)),
        ],
        False,
        None,
    ),
    (
        "messages waiting 50 s, no good batch (a handler hanging on a lock)",
        [
            (0, Progress(last_good_at=-100, backlog=3)),
            (25, Progress(last_good_at=-100, backlog=40)),
            (50, Progress(last_good_at=-100, backlog=80)),
        ],
        True,
        "80 waiting, no good batch for 50 s",
    ),
    (
        "messages waiting all along but batches going through",
        [(t, Progress(last_good_at=t - 1, backlog=500)) for t in range(0, 100, 10)],
        False,
        None,
    ),
    (
        "a backlog that emptied in between starts again",
        [
            (0, Progress(last_good_at=-100, backlog=3)),
            (30, Progress(last_good_at=-100, backlog=0)),
            (60, Progress(last_good_at=-100, backlog=3)),
        ],
        False,
        None,
    ),
]


@pytest.mark.parametrize(("what", "seen", "stuck", "reason"), CASES, ids=[c[0] for c in CASES])
def test_watch(
    what: str, seen: list[tuple[float, Progress]], stuck: bool, reason: str | None
) -> None:
    watch = Watch(failing_after_s=30, stalled_after_s=45)
    verdict = None
    for t, p in seen:
        verdict = watch.judge("elevators", p, now=t)
    assert verdict is not None and verdict.stuck is stuck, verdict
    if reason:
        assert verdict.reason is not None and reason in verdict.reason


def test_beat_counts_failures_until_a_good_pass() -> None:
    outside = [0]
    beat = Beat(failures=lambda: outside[0])
    assert beat() == Progress(counters={"batches": 0, "failures": 0})
    beat.failed()
    outside[0] += 2  # the loop's own reconnect failures
    p = beat()
    assert p.consecutive_failures == 3 and p.failing_since is not None
    beat.good()
    p = beat()
    assert p.consecutive_failures == 0 and p.failing_since is None
    assert p.last_good_at is not None and p.counters == {"batches": 1, "failures": 3}


def test_default_thresholds_show_a_stuck_worker_within_60_s() -> None:
    # quality.md: `/healthz` names a stuck component within 60 s; the API sees it one
    # heartbeat after the process does
    h = HealthSettings()
    assert h.failing_after_s + h.heartbeat_interval_s < 60
    assert h.stalled_after_s + h.heartbeat_interval_s < 60
    assert h.heartbeat_stale_s > 2 * h.heartbeat_interval_s  # one late beat is not silence

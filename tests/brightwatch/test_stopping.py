"""A stop is bounded: a thread that never returns cannot hold `serve` or the demo after
Ctrl-C (`cli.leave`), the vision inference's pool leaves no thread behind once closed
(the demo's own test checks that a whole demo stops with no thread left), and a frozen
process, in which no Python thread runs any more, is ended by the watchdog (health)."""

from __future__ import annotations

import threading
import time

from brightwatch.vision.inference import Inference
from tests.support.fresh import fresh


def test_a_thread_that_never_returns_is_named_and_cannot_hold_the_process() -> None:
    done = fresh(
        """
        import threading
        from brightwatch.cli import leave
        threading.Thread(target=threading.Event().wait, name="bw-stuck").start()
        raise SystemExit(leave(3, within_s=1.0))
        """
    )
    assert done.returncode == 3, done.stderr
    assert "bw-stuck still running 1 s after the components stopped" in done.stderr
    # every thread's stack, the stuck one's wait included, for whoever reads the log
    assert "in wait" in done.stderr


def test_threads_that_end_in_time_are_waited_for() -> None:
    # in a process of its own: `leave` waits for every thread of its process
    done = fresh(
        """
        import threading, time
        from brightwatch.cli import leave
        finished = threading.Event()
        def work():
            time.sleep(0.5)
            finished.set()
        threading.Thread(target=work, name="bw-finishing").start()
        code = leave(0, within_s=10)
        print("finished" if finished.is_set() else "not waited for", code)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "finished 0"


def test_closed_inference_keeps_no_thread() -> None:
    inference = Inference([], parallel=2)
    assert inference.map(lambda n: n * 2, [1, 2, 3, 4]) == [2, 4, 6, 8]
    pooled = [t for t in threading.enumerate() if t.name.startswith("bw-vision-infer")]
    assert pooled  # the parallel runs used the pool
    inference.close()
    for t in pooled:
        t.join(5)
    assert not any(t.is_alive() for t in pooled)


def test_a_frozen_process_prints_its_stacks_and_ends() -> None:
    # a regular expression's backtracking holds the interpreter (no Python thread runs,
    # as in a native deadlock) for about 15 s here; the watchdog ends it after 1 s
    started = time.monotonic()
    done = fresh(
        """
        import re, threading
        from brightwatch.health import Watchdog
        Watchdog(1.0, threading.Event()).start()
        threading.Event().wait(0.5)
        def frozen():
            re.match(r"(a+)+$", "a" * 28 + "b")
        frozen()
        print("not ended")
        """
    )
    assert done.returncode == 1, done.stderr
    assert "not ended" not in done.stdout
    assert "Timeout (0:00:01)!" in done.stderr
    assert "in frozen" in done.stderr  # where it froze
    assert time.monotonic() - started < 12


def test_a_busy_process_and_a_stopped_watchdog_are_left_alone() -> None:
    done = fresh(
        """
        import threading, time
        from brightwatch.health import Watchdog
        stop = threading.Event()
        Watchdog(1.0, stop).start()
        def spin():
            end = time.monotonic() + 2
            while time.monotonic() < end:
                sum(range(10_000))
        busy = [threading.Thread(target=spin) for _ in range(3)]
        for t in busy:
            t.start()
        for t in busy:
            t.join()
        stop.set()  # stopped: the timer is cancelled, a later stillness is no freeze
        time.sleep(0.5)
        import re
        re.match(r"(a+)+$", "a" * 26 + "b")  # frozen about 3 s: past the 1 s
        time.sleep(0.5)
        print("still here")
        """
    )
    assert done.returncode == 0, done.stderr
    assert "still here" in done.stdout

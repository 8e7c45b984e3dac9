"""vision.frames.read_ahead: the offline tools decode the next picture on a thread while
the current one is inferred; order, errors and an early stop must be as without it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from brightwatch.vision.frames import FrameSourceError, read_ahead


def _threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "bw-read-ahead"}


def test_items_come_in_order_and_the_thread_ends() -> None:
    before = _threads()
    assert list(read_ahead(iter(range(50)), depth=3)) == list(range(50))
    assert _threads() == before


def test_an_error_comes_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise FrameSourceError("cannot read image broken.jpg")

    seen: list[int] = []
    with pytest.raises(FrameSourceError, match="broken.jpg"):
        for item in read_ahead(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_it_reads_ahead_while_the_caller_works() -> None:
    produced: list[int] = []

    def items() -> Iterator[int]:
        for k in range(10):
            produced.append(k)
            yield k

    it = read_ahead(items(), depth=2)
    assert next(it) == 0
    deadline = time.monotonic() + 5
    while len(produced) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    # without the caller asking: `depth` items waiting and one more in the thread's hands
    # (blocked until there is room), never the whole source
    assert produced == [0, 1, 2, 3]
    assert next(it) == 1
    it.close()


def test_stopping_early_stops_the_thread() -> None:
    before = _threads()

    def endless() -> Iterator[int]:
        k = 0
        while True:
            yield k
            k += 1

    it = read_ahead(endless(), depth=2)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()
    assert _threads() == before

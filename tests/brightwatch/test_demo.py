"""The README's first command: `brightwatch demo` with nothing configured.

Elevators must be updating at GET /api/v1/elevators within 60 s, and Ctrl-C must stop
everything (embedded PostgreSQL and broker included) cleanly.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from brightwatch.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_shows_live_elevators_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BW_")}
    env.update(BW_DATA_DIR=str(tmp_path / "data"), BW_HTTP_ADDR=f"127.0.0.1:{port}")
    log = (tmp_path / "demo.log").open("w+")
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "brightwatch", "demo", "--elevators", "10", "--kitchens", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        token = None
        seen: dict[str, int] = {}
        live = False
        while time.monotonic() - started < 90 and not live:
            time.sleep(1)
            assert proc.poll() is None, Path(log.name).read_text()[-3000:]
            if token is None:
                m = re.search(r"^\s+admin token\s+(\S+)", Path(log.name).read_text(), re.M)
                token = m.group(1) if m else None
                continue
            r = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/elevators",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 200, r.text
            items = r.json()["items"]
            assert len(items) == 10
            counts = {e["elevator_id"]: e["messages"] or 0 for e in items}
            # updating: messages keep arriving for the elevators seen before
            live = bool(seen) and any(counts[k] > seen.get(k, 0) > 0 for k in counts)
            seen = counts
        elapsed = time.monotonic() - started
        assert live, f"no elevator updated within {elapsed:.0f} s: {seen}"
        print(f"demo: elevators updating {elapsed:.1f} s after start")
        assert elapsed < 60 + 15  # 60 s target; 15 s for a loaded shared CI machine's start-up
        health = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
        assert {k: health[k] for k in ("status", "db", "mqtt")} == {
            "status": "ok",
            "db": "ok",
            "mqtt": "ok",
        }
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(45)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("demo did not stop within 45 s of Ctrl-C") from None
    assert code == 0, Path(log.name).read_text()[-3000:]
    leftovers = subprocess.run(
        ["pgrep", "-f", str(tmp_path)], capture_output=True, text=True
    ).stdout
    assert not leftovers.strip(), f"servers left running: {leftovers}"

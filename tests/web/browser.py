"""A real server and a real headless Chromium for the browser tests (system Chromium,
driven by Playwright; no browser download)."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from brightwatch.api.app import create_app
from brightwatch.embedded import free_port, wait_for_port
from brightwatch.runtime import Runtime

REPO = Path(__file__).resolve().parents[2]
# test artefacts (screenshots, timings): $BW_TEST_ARTEFACTS, else test-artefacts/ (ignored by
# git). Read at import: the test fixtures clear BW_ variables while a test runs.
ARTIFACTS = Path(os.environ.get("BW_TEST_ARTEFACTS") or REPO / "test-artefacts")
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("needs the system Chromium (scripts/system-deps.sh installs it)")
    raise AssertionError  # unreachable


@contextmanager
def serve(runtime: Runtime) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        create_app(runtime), host="127.0.0.1", port=port, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="bw-test-http", daemon=True)
    thread.start()
    try:
        wait_for_port(port, 20)
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


@contextmanager
def browser() -> Iterator[Any]:
    """One headless Chromium (a module's tests share it; each opens its own context)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def new_page(launched: Any, viewport: dict[str, int] | None = None) -> Any:
    """A page in a fresh context: its own cookies and sessionStorage."""
    context = launched.new_context(viewport=viewport or {"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


@contextmanager
def browser_page(viewport: dict[str, int] | None = None) -> Iterator[Any]:
    with browser() as launched:
        yield new_page(launched, viewport)


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

"""Code run in a fresh interpreter, for what a test process cannot show once something
has been imported: that an import registers plugins, or leaves a module unimported."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def fresh(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` (dedented) with a new interpreter at the repository root."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_fresh(code: str) -> None:
    """Run `code` with a new interpreter at the repository root; its failure fails the test."""
    done = fresh(code)
    assert done.returncode == 0, done.stderr

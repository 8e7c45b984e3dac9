"""Code run in a fresh interpreter, for what a test process cannot show once something
has been imported: that an import registers plugins, or leaves a module unimported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_fresh(code: str) -> None:
    """Run `code` with a new interpreter at the repository root; its failure fails the test."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr

"""bench/RESULTS.md: each benchmark owns one section between its HTML comment markers."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(name: str, block: str) -> None:
    """Replace the `<!-- name:begin -->...<!-- name:end -->` section of RESULTS.md with
    `block` (which carries the markers), or append it when the section is not there yet."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(
        rf"<!-- {re.escape(name)}:begin -->.*?<!-- {re.escape(name)}:end -->", re.S
    )
    text = pattern.sub(block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block
    RESULTS.write_text(text.rstrip() + "\n", encoding="utf-8")

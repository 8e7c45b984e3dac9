"""Prometheus metrics of the rules worker (prefix `brightwatch_rules_`)."""

from __future__ import annotations

from prometheus_client import Histogram

EVALUATION_SECONDS = Histogram(
    "brightwatch_rules_evaluation_seconds",
    "Time to step one batch's messages through the fault rules (database work excluded).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

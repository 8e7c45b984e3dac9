"""Metrics of every MQTT consumer, labelled by component (`ingest`, `elevators`, ...)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

BATCHES = Counter(
    "brightwatch_consumer_batches",
    "Batches a consumer's handler committed and the consumer acknowledged",
    ["component"],
)
FAILURES = Counter(
    "brightwatch_consumer_batch_failures",
    "Handler calls that raised: transient (retried without limit), message (isolated, then"
    " dead-lettered) or dead_letter (a dead letter that could not be stored)",
    ["component", "kind"],
)
RETRIES = Counter(
    "brightwatch_consumer_retries", "Batches (or parts of batches) tried again", ["component"]
)
BACKLOG = Gauge(
    "brightwatch_consumer_backlog",
    "Messages received from the broker and not yet handed to the handler",
    ["component"],
)
LAST_COMMIT = Gauge(
    "brightwatch_consumer_last_commit_timestamp_seconds",
    "When the consumer last acknowledged a committed batch (0: not yet)",
    ["component"],
)

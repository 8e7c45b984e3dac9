"""Prometheus metrics of the ingest worker (prefix `brightwatch_ingest_`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter(
    "brightwatch_ingest_messages",
    "Messages received, by channel (status, event, stats, availability, other).",
    ["channel"],
)
ROWS = Counter(
    "brightwatch_ingest_rows",
    "Rows stored, by table.",
    ["table"],
)
DUPLICATES = Counter(
    "brightwatch_ingest_duplicates",
    "Messages already stored (same device, ts and seq): redeliveries and device repeats.",
)
DEAD_LETTERS = Counter(
    "brightwatch_ingest_dead_letters",
    "Messages refused and written to the dead-letter table, by reason class.",
    ["reason"],
)
AUTO_REGISTERED = Counter(
    "brightwatch_ingest_auto_registered",
    "Devices registered on first sight (BW_UNKNOWN_DEVICES=accept).",
    ["kind"],
)
BATCH_SIZE = Histogram(
    "brightwatch_ingest_batch_size",
    "Messages per committed batch.",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 20_000),
)
COMMIT_SECONDS = Histogram(
    "brightwatch_ingest_commit_seconds",
    "Time to write and commit one batch.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LAG_SECONDS = Histogram(
    "brightwatch_ingest_lag_seconds",
    "Server receive time minus device capture time of stored samples (clock skew included).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)
BACKLOG = Gauge(
    "brightwatch_ingest_backlog",
    "Messages received from the broker and not yet committed.",
)
FAILED_BATCHES = Counter(
    "brightwatch_ingest_failed_batches",
    "Batches whose transaction failed (retried; nothing acknowledged meanwhile).",
)

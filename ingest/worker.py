"""The batch handler of one ingest worker: classify, apply the unknown-device policy,
write, count. The consumer calls it with each batch and acknowledges only when it
returns; when it raises, nothing of the batch is acknowledged and it is tried again.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import psycopg

from brightwatch.contract.topics import Channel, DeviceKind, DeviceTopic
from brightwatch.db.deadletters import FloodCap
from brightwatch.ingest import metrics
from brightwatch.ingest.classify import (
    AvailabilityReport,
    Classified,
    DeadLetter,
    InboundLike,
    Limits,
    Sample,
    TopicCache,
    classify,
    dead_letter,
)
from brightwatch.ingest.registry_cache import KnownDevices, key_of
from brightwatch.ingest.settings import IngestSettings
from brightwatch.ingest.writer import BatchWriter, WriteResult

log = logging.getLogger(__name__)

# a bad value the database refuses (a check, an encoding, a range) is the message's
# fault and must not stop the stream; a lost connection is not and must be retried
DATA_ERRORS = (psycopg.DataError, psycopg.IntegrityError, UnicodeEncodeError, OverflowError)
# at most this many stored samples have their lag observed per batch (the histogram's
# lock costs about a microsecond per observation)
LAG_SAMPLES = 100
# more messages than this refused by the database in one batch is not bad input but a
# fault of ours or of the database: stop dead-lettering, retry the batch (nothing lost)
MAX_REFUSED_PER_BATCH = 10


class SystemicWriteError(RuntimeError):
    """The database refuses too many messages of a batch for them all to be bad."""


class Database:
    """One connection, opened when needed and opened again after it broke."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name
        self._conn: psycopg.Connection[Any] | None = None

    def connection(self) -> psycopg.Connection[Any]:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                conn.close()
            self._conn = conn = psycopg.connect(
                self.url,
                autocommit=True,
                application_name=f"brightwatch-{self.name}",
                connect_timeout=10,
            )
        return conn

    def reset(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        self.reset()


@dataclass
class Totals:
    """Running totals of this worker (read by tests, the bench and the logs)."""

    messages: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    batches: int = 0


class IngestWorker:
    def __init__(
        self,
        settings: IngestSettings,
        database_url: str,
        topic_root: str,
        name: str,
        unknown_devices: Literal["accept", "quarantine"],
    ) -> None:
        self.settings = settings
        self.name = name
        self.unknown_devices = unknown_devices
        self.topics = TopicCache(topic_root)
        self.limits = Limits(
            max_future=timedelta(seconds=settings.max_future_skew_s),
            retention=timedelta(days=settings.raw_retention_days),
            dead_letter_max_bytes=settings.dead_letter_max_bytes,
        )
        self.db = Database(database_url, name)
        self.writer = BatchWriter(name, FloodCap(settings.dead_letters_per_device_hour))
        self.known = KnownDevices(settings.registry_refresh_s, settings.unknown_recheck_s)
        self.totals = Totals()
        self._refused = 0  # messages of the current batch the database refused

    def close(self) -> None:
        self.db.close()

    # the consumer's handler
    def __call__(self, batch: Sequence[InboundLike]) -> None:
        started = time.perf_counter()
        classified = classify(batch, self.topics, self.limits)
        try:
            conn = self.db.connection()
            self._apply_registry_policy(conn, classified)
            self._refused = 0
            result = self._write(conn, classified.samples, classified.availability, classified.dead)
        except psycopg.OperationalError:
            self.db.reset()  # the next try opens a new connection
            metrics.FAILED_BATCHES.inc()
            raise
        except Exception:
            metrics.FAILED_BATCHES.inc()
            raise
        self._count(batch, classified, result, time.perf_counter() - started)

    # ------------------------------------------------------------------ policy

    def _apply_registry_policy(self, conn: psycopg.Connection[Any], batch: Classified) -> None:
        keys = {("elevator", e) for e in {s.elevator_id for s in batch.samples}}
        keys.update(key_of(a.device) for a in batch.availability)
        if not keys:
            return
        unknown = self.known.unknown(conn, keys)
        if not unknown:
            return
        if self.unknown_devices == "accept":
            devices = {key_of(a.device): a.device for a in batch.availability}
            register = [
                devices.get(k) or DeviceTopic(DeviceKind.ELEVATOR, Channel.STATUS, k[1])
                for k in unknown
            ]
            self.known.register(conn, register)
            for k in unknown:
                metrics.AUTO_REGISTERED.labels(k[0]).inc()
            return
        reason = "unknown device: {} {} is not registered (BW_UNKNOWN_DEVICES=quarantine)"
        cap = self.limits.dead_letter_max_bytes
        kept: list[Sample] = []
        for s in batch.samples:
            if ("elevator", s.elevator_id) in unknown:
                why = reason.format("elevator", s.elevator_id)
                batch.dead.append(dead_letter(s.topic, s.payload, why, s.received_at, cap))
            else:
                kept.append(s)
        batch.samples = kept
        reports: list[AvailabilityReport] = []
        for a in batch.availability:
            if key_of(a.device) in unknown:
                why = reason.format(a.device.kind.value, a.device.device_key)
                batch.dead.append(dead_letter(a.topic, a.payload, why, a.received_at, cap))
            else:
                reports.append(a)
        batch.availability = reports

    # ------------------------------------------------------------------ writing

    def _write(
        self,
        conn: psycopg.Connection[Any],
        samples: Sequence[Sample],
        availability: Sequence[AvailabilityReport],
        dead: Sequence[DeadLetter],
    ) -> WriteResult:
        """Write the batch; a value the database refuses is isolated by halving the
        batch until the one message is found, and that message is dead-lettered."""
        try:
            return self.writer.write(conn, samples, availability, dead)
        except DATA_ERRORS as exc:
            if conn.broken:
                raise
            if len(samples) <= 1:
                if not samples:
                    raise  # nothing left to blame: a fault of ours, not of a message
                self._refused += 1
                if self._refused > MAX_REFUSED_PER_BATCH:
                    raise SystemicWriteError(
                        f"the database refused more than {MAX_REFUSED_PER_BATCH} messages of one"
                        f" batch ({type(exc).__name__}: {str(exc).splitlines()[0]})"
                    ) from exc
                s = samples[0]
                reason = f"database refused: {type(exc).__name__}: {str(exc).splitlines()[0]}"
                log.warning("dead-lettering %s seq %s: %s", s.elevator_id, s.seq, reason)
                bad = dead_letter(
                    s.topic,
                    s.payload,
                    reason,
                    s.received_at,
                    self.limits.dead_letter_max_bytes,
                )
                result = self.writer.write(conn, [], availability, [*dead, bad])
                result.dead.append(bad)
                return result
            half = len(samples) // 2
            first = self._write(conn, samples[:half], availability, dead)
            second = self._write(conn, samples[half:], [], [])
            for table, n in second.stored.items():
                first.stored[table] = first.stored.get(table, 0) + n
            first.duplicates += second.duplicates
            first.dead.extend(second.dead)
            return first

    # ------------------------------------------------------------------ figures

    def _count(
        self,
        batch: Sequence[InboundLike],
        classified: Classified,
        result: WriteResult,
        elapsed: float,
    ) -> None:
        channels = Counter(m.topic.rpartition("/")[2] for m in batch)
        for channel, n in channels.items():
            label = channel if channel in ("status", "event", "stats", "availability") else "other"
            metrics.MESSAGES.labels(label).inc(n)
        for table, n in result.stored.items():
            metrics.ROWS.labels(table).inc(n)
        metrics.DUPLICATES.inc(result.duplicates)
        dead = [*classified.dead, *result.dead]
        for reason, n in Counter(d.reason_class for d in dead).items():
            metrics.DEAD_LETTERS.labels(reason).inc(n)
        metrics.BATCH_SIZE.observe(len(batch))
        metrics.COMMIT_SECONDS.observe(elapsed)
        samples = classified.samples
        step = max(1, len(samples) // LAG_SAMPLES)
        for s in samples[::step]:
            metrics.LAG_SECONDS.observe(max(0.0, (s.received_at - s.ts).total_seconds()))
        t = self.totals
        t.messages += len(batch)
        t.stored += sum(result.stored.values())
        t.duplicates += result.duplicates
        t.dead_letters += len(dead)
        t.batches += 1

"""The rules worker: terminal messages in, engine steps, alert signals out, state saved.

One batch of MQTT messages is one transaction: the rule states of the elevators in it
are loaded (memory first, then the table), every message is stepped through the engine
in arrival order, the events go to the alert core (`AlertStore.apply_signal`, which
writes the alert, its audit row and the outgoing message, and runs the reactors), the
changed states are saved, the transaction commits, and only then does the consumer
acknowledge the messages to the broker. A crash anywhere before the commit leaves the
messages unacknowledged and the states as they were: the broker delivers them again and
the same events come out once. A redelivery after the commit is dropped by seq.

Timers fire without messages through `tick_due`, run by a ticker thread: each state
carries its next deadline in device time; the worker keeps an estimate of each
terminal's clock offset (server receive time minus `ts`, the smallest seen, allowed to
drift up slowly) to know when that deadline comes on the server's clock.

Replicas: an elevator's messages must all reach one worker, in order, and its state and
timers must move with it when that worker dies. With `[elevators] partitions` set, the
elevators fall into that many partitions owned through leases in PostgreSQL
(`db.partitions`: a fencing epoch checked in every transaction here, a standby buffer of
the others' recent messages replayed on takeover, the deadlines of a new partition
loaded from the table); every replica subscribes to every elevator in its own
persistent session and handles the partitions it owns (`adopt`, `give_up`). Without
partitions one worker handles every elevator (the default); a shared group
(BW_SHARE_GROUP) is then only exact on a broker that dispatches by topic hash.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from brightwatch.alerts.model import AlertSignal
from brightwatch.alerts.store import AlertStore
from brightwatch.contract.clock_offset import device_time, observe_offset, server_time
from brightwatch.contract.decode import decode_elevator
from brightwatch.contract.payloads import (
    ElevatorEvent,
    ElevatorStatus,
    PayloadError,
    decode_availability,
)
from brightwatch.contract.topics import Channel, DeviceKind, TopicError, parse_device_topic
from brightwatch.db.partitions import Fenced, Ownership
from brightwatch.elevators import metrics
from brightwatch.elevators.config import RuleConfig
from brightwatch.elevators.engine import new_state, step, tick
from brightwatch.elevators.inputs import AvailabilityIn, EventIn, Message, StatsIn, StatusIn, to_ms
from brightwatch.elevators.rules import RuleEvent
from brightwatch.elevators.settings import (
    ElevatorSettings,
    RegistryRow,
    ThresholdError,
    thresholds_for,
)
from brightwatch.elevators.state import ElevatorState
from brightwatch.elevators.store import StateRow, load_dues, load_registry, load_states, save_states
from brightwatch.i18n import DEFAULT_LOCALE
from brightwatch.mqttlink.consumer import Inbound

log = logging.getLogger(__name__)

SOURCE = "elevators"

# a message of a partition owned elsewhere, kept as it came for a takeover
Parked = Inbound


def to_signal(elevator_id: str, site_id: str | None, event: RuleEvent) -> AlertSignal:
    return AlertSignal(
        kind="elevator",
        code=event.code,
        severity=event.severity,
        device_id=elevator_id,
        active=event.active,
        at=datetime.fromtimestamp(event.at / 1000, UTC),
        site_id=site_id,
        summary=event.summary,
        details=event.details,
        source=SOURCE,
        summaries=event.summaries,
    )


@dataclass
class Entry:
    """One elevator in memory: its rule state and what the worker knows around it."""

    state: ElevatorState
    cfg: RuleConfig
    site_id: str | None
    registered: bool
    registry_at: float  # server time (s) the registry row was read
    offset_ms: int | None = None
    offset_at: float = 0.0
    saved_key: tuple[Any, ...] | None = None
    saved_clock: int = 0
    dirty: bool = False


def urgent_key(st: ElevatorState) -> tuple[Any, ...]:
    """What must survive a crash exactly: the alerts raised, the rules active, the
    life-safety (P1) timers pending and their inputs. A change here is saved in its
    batch; any other change (a door timer, a counter, the evidence) at most
    `state_save_interval_s` later (see ElevatorSettings.state_save_interval_s)."""
    return (
        tuple(st.rules),
        tuple((k, e.severity, e.label) for k, e in st.emitted.items()),
        st.urgent_due,
        st.ucm_count,
        st.alarm_pressed_at,
        st.alarm_event,
        st.online,
        st.epoch,
    )


@dataclass
class Stats:
    messages: int = 0
    rejected: int = 0
    signals: int = 0
    saved: int = 0
    ticks: int = 0
    batches: int = 0
    last_error: str = ""
    extra: dict[str, int] = field(default_factory=dict)


class RulesWorker:
    def __init__(
        self,
        settings: ElevatorSettings,
        alert_store: AlertStore,
        pool: ConnectionPool,
        topic_root: str,
        unknown_devices: str = "accept",
        max_future: timedelta = timedelta(days=1),
        max_age: timedelta | None = None,
        now: Callable[[], float] = time.time,
        locale: str = DEFAULT_LOCALE,
        ownership: Ownership[Parked] | None = None,
    ) -> None:
        self.settings = settings
        self.ownership = ownership  # None: this worker handles every elevator
        self.locale = locale  # BW_LOCALE: the summaries people read
        self.alert_store = alert_store
        self.pool = pool
        self.topic_root = topic_root
        self.unknown_devices = unknown_devices
        self.max_future = max_future
        self.max_age = max_age  # the raw retention: what ingest cannot store, no rule sees
        self.now = now
        self.cache: OrderedDict[str, Entry] = OrderedDict()
        self.lock = threading.RLock()
        self._dues: dict[str, int] = {}  # elevator -> server ms of its next deadline
        self._heap: list[tuple[int, str]] = []
        self.stats = Stats()
        self._fleet_cfg = RuleConfig.build(settings.fleet(), locale)
        self._topics: dict[str, tuple[str, Channel]] = {}
        self._warned: set[str] = set()

    # ------------------------------------------------------------ messages

    def _topic(self, topic: str) -> tuple[str, Channel] | None:
        known = self._topics.get(topic)
        if known is not None:
            return known
        try:
            parsed = parse_device_topic(self.topic_root, topic)
        except TopicError:
            return None
        if parsed.kind != DeviceKind.ELEVATOR:
            return None
        if len(self._topics) > 500_000:
            self._topics.clear()
        self._topics[topic] = (parsed.device_id, parsed.channel)
        return parsed.device_id, parsed.channel

    def decode(self, item: Inbound) -> tuple[str, Message] | None:
        """(elevator_id, message) or None for what is not ours or not valid (ingest
        dead-letters invalid payloads with their reason; the rules just skip them).

        The contract's decoder, the one ingest uses: what ingest refuses (and dead-letters),
        the rules never see; what it accepts can be stored by the alert core."""
        known = self._topic(item.topic)
        if known is None:
            self.stats.rejected += 1
            return None
        eid, channel = known
        received_ms = to_ms(item.received_at)
        try:
            if channel == Channel.AVAILABILITY:
                online = decode_availability(item.payload) == "online"
                return eid, AvailabilityIn(received_ms, online)  # device time set later
            decoded = decode_elevator(
                channel, item.payload, item.received_at, self.max_future, self.max_age
            )
            m = decoded.message
            ts = to_ms(decoded.ts)
        except PayloadError:
            self.stats.rejected += 1
            return None
        if isinstance(m, ElevatorStatus):
            return eid, StatusIn(ts, m.seq, m)
        if isinstance(m, ElevatorEvent):
            return eid, EventIn(ts, m.seq, m)
        return eid, StatsIn(ts, m.seq, m)

    def handle(self, batch: list[Inbound]) -> None:
        """The consumer's handler: returns after the commit, or raises (nothing acked)."""
        with self.lock:
            self._handle(batch)

    def _handle(self, batch: list[Inbound]) -> None:
        """Step the messages of the partitions this worker handles (under the lock); keep
        the others' as they came, for a takeover (decoded only if one replays them). A
        partition found lost in the fence is given up and the rest stepped again: its new
        owner has the same messages in its standby buffer."""
        own = self.ownership
        grouped: dict[str, list[tuple[Message, int]]] = {}
        for item in batch:
            if own is not None:
                known = self._topic(item.topic)
                if known is not None and not own.handles(known[0]):
                    own.park(known[0], item)
                    continue
            decoded = self.decode(item)
            if decoded is not None:
                eid, msg = decoded
                grouped.setdefault(eid, []).append((msg, to_ms(item.received_at)))
        for _ in range(3):
            if not grouped:
                return
            try:
                self._transaction(list(grouped), partial(self._step_all, grouped))
                break
            except Fenced as lost:
                self.give_up(lost.partitions, lost=True)
                grouped = {e: m for e, m in grouped.items() if own is None or own.handles(e)}
        self.stats.messages += sum(len(v) for v in grouped.values())
        self.stats.batches += 1

    # ------------------------------------------------------------ partitions

    def adopt(self, partitions: frozenset[int]) -> int:
        """Start handling partitions this replica just took: their messages kept in the
        standby buffer first (in arrival order; what the old owner had saved is dropped by
        seq), then their pending deadlines from the table. Returns the messages replayed."""
        own = self.ownership
        if own is None or not partitions:
            return 0
        with self.lock:
            backlog = own.activate(partitions)
            try:
                if backlog:
                    self._handle(backlog)
                with self.pool.connection() as conn:
                    dues = load_dues(conn)
            except Exception:
                self.give_up(partitions, lost=True)  # kept messages stay: adopted again later
                raise
            own.settle(partitions)
            for eid, at in dues:
                if own.partition(eid) in partitions:
                    self._schedule(eid, at)
        return len(backlog)

    def give_up(self, partitions: frozenset[int], lost: bool = False) -> int:
        """Stop handling partitions: their states are saved first unless `lost` (another
        replica owns them now and the fence would refuse), then forgotten here."""
        own = self.ownership
        if own is None or not partitions:
            return 0
        with self.lock:
            ids = [eid for eid in self.cache if own.partition(eid) in partitions]
            if not lost:
                dirty = [eid for eid in ids if self.cache[eid].dirty]
                if dirty:
                    self._transaction(dirty, lambda entries: [], force_save=True)
            own.deactivate(partitions)
            for eid in ids:
                self.cache.pop(eid, None)
            for eid in [e for e in self._dues if own.partition(e) in partitions]:
                del self._dues[eid]
        return len(ids)

    def _step_all(
        self, grouped: dict[str, list[tuple[Message, int]]], entries: dict[str, Entry]
    ) -> list[AlertSignal]:
        started = time.perf_counter()
        signals: list[AlertSignal] = []
        for eid, messages in grouped.items():
            entry = entries.get(eid)
            if entry is None:
                continue  # quarantined: not in the registry
            for msg, received_ms in messages:
                if isinstance(msg, AvailabilityIn):
                    msg = AvailabilityIn(self._device_time(entry, received_ms), msg.online)
                else:
                    self._observe_offset(entry, received_ms - msg.ts)
                entry.state, events = step(entry.state, msg, entry.cfg)
                signals += [to_signal(eid, entry.site_id, e) for e in events]
        metrics.EVALUATION_SECONDS.observe(time.perf_counter() - started)
        return signals

    # ------------------------------------------------------------ timers

    def due_now(self, now_ms: int) -> list[str]:
        out = []
        heap = self._heap
        while heap and heap[0][0] <= now_ms:
            at, eid = heapq.heappop(heap)
            if self._dues.get(eid) == at:
                del self._dues[eid]
                out.append(eid)
        return out

    def tick_due(self) -> int:
        """Fire the deadlines that have come; returns how many elevators were ticked."""
        with self.lock:
            now_ms = round(self.now() * 1000)
            due = self.due_now(now_ms)
            if not due:
                return 0

            def fire(entries: dict[str, Entry]) -> list[AlertSignal]:
                signals: list[AlertSignal] = []
                for eid in due:
                    entry = entries.get(eid)
                    if entry is None:
                        continue
                    entry.state, events = tick(
                        entry.state, entry.cfg, self._device_time(entry, now_ms)
                    )
                    signals += [to_signal(eid, entry.site_id, e) for e in events]
                return signals

            try:
                self._transaction(due, fire)
            except Fenced as lost:
                self.give_up(lost.partitions, lost=True)
                own = self.ownership
                for eid in due:  # the others: at the next tick
                    if own is None or own.handles(eid):
                        self._schedule(eid, now_ms)
                return 0
            except Exception:
                for eid in due:  # try again at the next tick
                    self._schedule(eid, now_ms)
                raise
            self.stats.ticks += len(due)
            return len(due)

    def flush(self) -> int:
        """Save the states left dirty by lazy saving (the ticker calls it now and then)."""
        with self.lock:
            dirty = [eid for eid, e in self.cache.items() if e.dirty]
            if not dirty:
                return 0
            try:
                self._transaction(dirty, lambda entries: [], force_save=True)
            except Fenced as lost:  # their new owner replays what they had not saved
                self.give_up(lost.partitions, lost=True)
                return 0
            return len(dirty)

    def load_dues(self) -> int:
        """Every pending deadline (one worker for every elevator; with partitions,
        `adopt` loads those of each partition taken)."""
        if self.ownership is not None:
            return 0
        with self.pool.connection() as conn:
            dues = load_dues(conn)
        with self.lock:
            for eid, at in dues:
                self._schedule(eid, at)
        return len(dues)

    def _schedule(self, eid: str, at_ms: int | None) -> None:
        if at_ms is None:
            self._dues.pop(eid, None)
            return
        if self._dues.get(eid) == at_ms:
            return
        self._dues[eid] = at_ms
        heapq.heappush(self._heap, (at_ms, eid))
        if len(self._heap) > 4 * len(self._dues) + 1024:  # drop stale entries now and then
            self._heap = [(at, e) for e, at in self._dues.items()]
            heapq.heapify(self._heap)

    # ------------------------------------------------------------ clock offsets

    def _observe_offset(self, entry: Entry, observed_ms: int) -> None:
        entry.offset_ms, entry.offset_at = observe_offset(
            entry.offset_ms, entry.offset_at, observed_ms, self.now()
        )

    @staticmethod
    def _device_time(entry: Entry, server_ms: int) -> int:
        return device_time(server_ms, entry.offset_ms)

    def _server_due(self, entry: Entry) -> int | None:
        due = entry.state.due
        return None if due is None else server_time(due, entry.offset_ms)

    # ------------------------------------------------------------ one transaction

    def _transaction(
        self,
        ids: list[str],
        work: Callable[[dict[str, Entry]], list[AlertSignal]],
        force_save: bool = False,
    ) -> None:
        try:
            with self.pool.connection() as conn, conn.transaction():
                if self.ownership is not None:
                    self.ownership.fence(conn, ids)  # held FOR SHARE until the commit
                entries = self._entries(conn, ids)
                signals = work(entries)
                for signal in signals:
                    self.alert_store.apply_signal(conn, signal)
                saved = self._save(conn, entries, force=force_save or bool(signals))
        except Exception as exc:
            # states were stepped in place: forget them, the table still has the truth
            for eid in ids:
                self.cache.pop(eid, None)
            self.stats.last_error = str(exc)[:200]
            raise
        self.stats.signals += len(signals)
        self.stats.saved += saved
        for eid, entry in entries.items():
            self._schedule(eid, self._server_due(entry))

    def _entries(self, conn: psycopg.Connection[Any], ids: list[str]) -> dict[str, Entry]:
        now = self.now()
        ttl = self.settings.registry_ttl_s
        entries: dict[str, Entry] = {}
        missing = []
        stale = []
        for eid in ids:
            entry = self.cache.get(eid)
            if entry is None:
                missing.append(eid)
                continue
            self.cache.move_to_end(eid)
            entries[eid] = entry
            if now - entry.registry_at > ttl:
                stale.append(eid)
        registry = load_registry(conn, missing + stale) if missing or stale else {}
        for eid in stale:
            entry = entries[eid]
            row = registry.get(eid)
            entry.cfg = self._config(eid, row)
            entry.site_id = row.site_id if row else None
            entry.registered = row is not None
            entry.registry_at = now
        if missing:
            stored = load_states(conn, missing)
            for eid in missing:
                row = registry.get(eid)
                if row is None and self.unknown_devices == "quarantine":
                    continue
                saved = stored.get(eid)
                entry = Entry(
                    state=saved.state if saved else new_state(),
                    cfg=self._config(eid, row),
                    site_id=row.site_id if row else None,
                    registered=row is not None,
                    registry_at=now,
                    offset_ms=saved.clock_offset_ms if saved else None,
                    offset_at=now,
                )
                entry.saved_key = urgent_key(entry.state) if saved else None
                entry.saved_clock = entry.state.clock
                self.cache[eid] = entry
                entries[eid] = entry
        return {eid: entries[eid] for eid in ids if eid in entries}

    def _config(self, eid: str, row: RegistryRow | None) -> RuleConfig:
        if row is None and eid not in self.settings.per_elevator:
            return self._fleet_cfg
        try:
            return RuleConfig.build(thresholds_for(self.settings, eid, row), self.locale)
        except ThresholdError as exc:
            if eid not in self._warned:
                self._warned.add(eid)
                log.warning("%s; using the fleet thresholds for it", exc)
            return self._fleet_cfg

    def _save(self, conn: psycopg.Connection[Any], entries: dict[str, Entry], force: bool) -> int:
        quiet_ms = round(self.settings.state_save_interval_s * 1000)
        rows: list[StateRow] = []
        for eid, entry in entries.items():
            st = entry.state
            key = urgent_key(st)
            if force or key != entry.saved_key or st.clock - entry.saved_clock >= quiet_ms:
                rows.append(StateRow(eid, st, self._server_due(entry), entry.offset_ms))
                entry.saved_key = key
                entry.saved_clock = st.clock
                entry.dirty = False
            else:
                entry.dirty = True
        # keep memory bounded: the least recently heard elevators leave the cache, saved
        saved = {r.elevator_id for r in rows}
        evicted: list[StateRow] = []
        while len(self.cache) > self.settings.state_cache_size:
            eid, old = self.cache.popitem(last=False)
            if old.dirty and eid not in saved:
                evicted.append(StateRow(eid, old.state, self._server_due(old), old.offset_ms))
        if evicted and self.ownership is not None:
            self.ownership.fence(conn, [r.elevator_id for r in evicted])
        return save_states(conn, rows + evicted)

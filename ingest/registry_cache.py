"""Which devices the registry knows, cached, and the unknown-device policy.

interfaces.md, Bad input: messages from devices the registry does not know are
auto-registered (`accept`) or dead-lettered (`quarantine`). Asking the database for
every message would cost a query per batch; the cache holds every known elevator and
camera, reloads itself every `refresh_s` (so deletions are seen) and asks the database
about an unknown device again after `recheck_s` (so a device registered through the API
is accepted that much later at most).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import psycopg

from brightwatch.contract.topics import DeviceKind, DeviceTopic
from brightwatch.registry.auto import register_cameras, register_elevators

log = logging.getLogger(__name__)

DeviceKey = tuple[str, str]  # (device_kind, device_key) as in device_presence


def key_of(device: DeviceTopic) -> DeviceKey:
    return (device.kind.value, device.device_key)


class KnownDevices:
    def __init__(
        self,
        refresh_s: float = 300.0,
        recheck_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        max_negative: int = 100_000,
    ) -> None:
        self.refresh_s = refresh_s
        self.recheck_s = recheck_s
        self.clock = clock
        self.max_negative = max_negative
        self._known: set[DeviceKey] = set()
        self._loaded_at: float | None = None
        self._checked: dict[DeviceKey, float] = {}  # unknown at this time

    def _load(self, conn: psycopg.Connection[Any]) -> None:
        known: set[DeviceKey] = {
            ("elevator", r[0]) for r in conn.execute("SELECT elevator_id FROM elevator")
        }
        known.update(
            ("camera", f"{r[0]}/{r[1]}")
            for r in conn.execute("SELECT site_id, camera_id FROM camera")
        )
        self._known = known
        self._checked.clear()
        self._loaded_at = self.clock()
        log.debug("registry cache: %d devices", len(known))

    def _lookup(self, conn: psycopg.Connection[Any], keys: Iterable[DeviceKey]) -> set[DeviceKey]:
        elevators = [k for kind, k in keys if kind == "elevator"]
        cameras = [k.partition("/") for kind, k in keys if kind == "camera"]
        found: set[DeviceKey] = set()
        if elevators:
            found.update(
                ("elevator", r[0])
                for r in conn.execute(
                    "SELECT elevator_id FROM elevator WHERE elevator_id = ANY(%s)", (elevators,)
                )
            )
        if cameras:
            found.update(
                ("camera", f"{r[0]}/{r[1]}")
                for r in conn.execute(
                    "SELECT c.site_id, c.camera_id FROM camera c"
                    " JOIN unnest(%s::text[], %s::text[]) AS k(site_id, camera_id)"
                    " USING (site_id, camera_id)",
                    ([c[0] for c in cameras], [c[2] for c in cameras]),
                )
            )
        return found

    def unknown(self, conn: psycopg.Connection[Any], keys: Iterable[DeviceKey]) -> set[DeviceKey]:
        """The keys the registry does not know (asking it when the cache cannot tell)."""
        now = self.clock()
        if self._loaded_at is None or now - self._loaded_at >= self.refresh_s:
            self._load(conn)
        missing = set(keys) - self._known
        if not missing:
            return missing
        ask = {k for k in missing if now - self._checked.get(k, -1e18) >= self.recheck_s}
        if ask:
            found = self._lookup(conn, ask)
            self._known |= found
            if len(self._checked) > self.max_negative:
                self._checked.clear()
            for k in ask - found:
                self._checked[k] = now
        return {k for k in missing if k not in self._known}

    def register(self, conn: psycopg.Connection[Any], devices: Iterable[DeviceTopic]) -> int:
        """Auto-register devices (registered_by 'auto'); a camera's unknown site too."""
        elevators = sorted({d.device_id for d in devices if d.kind is DeviceKind.ELEVATOR})
        cameras = sorted(
            {(d.site_id or "", d.device_id) for d in devices if d.kind is DeviceKind.CAMERA}
        )
        with conn.transaction():
            if elevators:
                register_elevators(conn, elevators)
            if cameras:
                register_cameras(conn, cameras)
        # known only once committed: a rolled-back registration must be tried again
        self._known.update(("elevator", e) for e in elevators)
        self._known.update(("camera", f"{s}/{c}") for s, c in cameras)
        for e in elevators:
            self._checked.pop(("elevator", e), None)
        if elevators or cameras:
            log.info(
                "auto-registered %d elevators and %d cameras (BW_UNKNOWN_DEVICES=accept)",
                len(elevators),
                len(cameras),
            )
        return len(elevators) + len(cameras)

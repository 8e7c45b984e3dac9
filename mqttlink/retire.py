"""Retiring a shared-group member that is removed for good: drain its session, then end it.

mosquitto hands a shared subscription's messages round-robin to every member that has a
session, connected or not, and keeps those of an absent member in its session until the
session expires (7 days here): a member removed for good strands its share. A member
that only restarts loses nothing, since it resumes its session under its stable client
id; so the sessions stay persistent, and a member removed for good is retired:

1. connect with its client id, resuming the session (clean start off);
2. unsubscribe its filters at once: no new messages join it, the queued ones still come
   (mosquitto delivers what the session already holds, checked in
   tests/mqttlink/test_retire.py);
3. hand what arrives to the component's normal handler, acknowledging each batch only
   after the handler committed (the BatchConsumer loop, isolation included);
4. once nothing has come for `quiet_s`, end the session: resume it once more with a
   session expiry of 0 (anything still there is handled first), so it ends with that
   connection however the connection ends (3.1.1: a clean-session connect).

A connection lost while draining keeps the session (its expiry stays as it was until
step 4), so a retire that fails can simply be run again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from brightwatch.mqttlink.client import BrokerAddress, make_client
from brightwatch.mqttlink.consumer import BatchConsumer, Handler, Isolation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retired:
    client_id: str
    session_found: bool
    messages: int  # handed to the handler and acknowledged
    ended: bool  # the session is gone


class RetiringConsumer(BatchConsumer):
    """A BatchConsumer that resumes a session, unsubscribes instead of subscribing and
    stops when the session is drained."""

    def __init__(
        self,
        address: BrokerAddress,
        client_id: str,
        topic_filters: Sequence[str],
        handler: Handler,
        *,
        share_group: str | None,
        batch_size: int = 1000,
        isolation: Isolation | None = None,
        name: str | None = None,
        session_expiry_s: int | None = None,
    ) -> None:
        super().__init__(
            address,
            client_id,
            topic_filters,
            handler,
            share_group=share_group,
            batch_size=batch_size,
            batch_wait_s=0.05,
            isolation=isolation,
            name=name or f"retire-{client_id}",
        )
        props = self._connect_kwargs.get("properties")
        if session_expiry_s is not None and props is not None:
            props.SessionExpiryInterval = session_expiry_s  # type: ignore[attr-defined]
        self.session_present: bool | None = None
        self.connected_once = threading.Event()
        self.last_message_at = time.monotonic()

    def _connected(self, client: Any, flags: Any) -> None:
        if self.session_present is None:
            self.session_present = bool(flags.session_present)
        if self.filters:
            client.unsubscribe(list(self.filters))
        self.connected_once.set()

    def _on_message(self, client, userdata, msg):
        self.last_message_at = time.monotonic()
        super()._on_message(client, userdata, msg)

    def drain(self, stop: threading.Event, quiet_s: float, max_s: float) -> bool:
        """Process what the session holds until nothing came for `quiet_s`; True when
        drained (False: stopped, timed out or never connected)."""
        deadline = time.monotonic() + max_s
        if not self.connected_once.wait(min(max_s, 30.0)):
            return False
        if not self.session_present:
            return True  # nothing was kept for this client id
        while not stop.is_set() and time.monotonic() < deadline:
            batch = self._take_batch(stop)
            if batch:
                self._process(batch, stop)
                continue
            quiet = time.monotonic() - self.last_message_at >= quiet_s
            if quiet and self.connected and not self._queue:
                return True
        return False


def retire(
    address: BrokerAddress,
    client_id: str,
    topic_filters: Sequence[str],
    handler: Handler,
    *,
    share_group: str | None,
    isolation: Isolation | None = None,
    quiet_s: float = 3.0,
    max_s: float = 600.0,
    stop: threading.Event | None = None,
) -> Retired:
    """Drain and end the persistent session of `client_id` (see the module docstring).
    The session is ended only when it was drained; otherwise it is left as it was."""
    stop = stop or threading.Event()

    def run(expiry: int | None, quiet: float) -> tuple[bool, RetiringConsumer]:
        consumer = RetiringConsumer(
            address,
            client_id,
            topic_filters,
            handler,
            share_group=share_group,
            isolation=isolation,
            session_expiry_s=expiry,
        )
        consumer.start()
        try:
            return consumer.drain(stop, quiet, max_s), consumer
        finally:
            consumer.close()

    # the session keeps its expiry while draining: a lost connection loses nothing
    drained, first = run(None, quiet_s)
    found, messages = bool(first.session_present), first.acknowledged
    if not found:
        run(0, 0.0)  # the empty session this connect opened goes too
        return Retired(client_id, False, 0, False)
    if not drained:
        log.warning("%s: not drained; the session is kept", client_id)
        return Retired(client_id, True, messages, False)
    # then resumed once more with a session expiry of 0: it ends when this connection
    # does, however that happens (anything still left is handled first)
    if address.protocol == "5":
        ended, last = run(0, min(quiet_s, 1.0))
        messages += last.acknowledged
    else:  # MQTT 3.1.1 has no expiry: a clean-session connect discards the session
        clean, kwargs = make_client(address, client_id, persistent=False)
        clean.connect(address.host, address.port, **kwargs)  # type: ignore[arg-type]
        clean.loop_start()
        clean.disconnect()
        clean.loop_stop()
        ended = True
    log.info(
        "%s: retired (%d messages drained, session %s)",
        client_id,
        messages,
        "ended" if ended else "not ended",
    )
    return Retired(client_id, True, messages, ended)


def end_session(address: BrokerAddress, client_id: str, timeout_s: float = 10.0) -> bool:
    """End the persistent session of `client_id` without reading it: a clean start
    discards what it holds, and a session expiry of 0 ends it with the connection. For
    sessions whose messages other replicas also received (a partitioned rules or vision
    replica removed for good). True when the broker accepted the connection."""
    client, kwargs = make_client(address, client_id, persistent=False)
    accepted = threading.Event()

    def on_connect(c: object, u: object, f: object, rc: Any, p: object = None) -> None:
        if not rc.is_failure:
            accepted.set()

    client.on_connect = on_connect
    client.connect(address.host, address.port, **kwargs)  # type: ignore[arg-type]
    client.loop_start()
    try:
        return accepted.wait(timeout_s)
    finally:
        client.disconnect()
        client.loop_stop()

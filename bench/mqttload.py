"""A load generator for benchmarks: QoS 1 PUBLISH packets encoded before the clock
starts and written to the broker in large chunks, the PUBACKs counted as they return.

Why not paho or mosquitto_pub: paho spends tens of microseconds of Python per publish,
CPU that would be taken from the system under test on a 2-core machine, and
`mosquitto_pub -l` sends every line to one topic while the ingest benchmark needs one
topic per elevator. Pre-encoded packets cost the publisher almost nothing, so the
benchmark measures the broker and the consumer, as the mosquitto_pub baseline does.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterable

from brightwatch.mqttlink.stream import mqtt_string, varint

MAX_PACKET_ID = 65_535


def connect_packet(client_id: str, v5: bool = True, keepalive: int = 60) -> bytes:
    level, props = (5, b"\x00") if v5 else (4, b"")
    body = mqtt_string("MQTT") + bytes([level, 0x02]) + struct.pack("!H", keepalive) + props
    body += mqtt_string(client_id)
    return b"\x10" + varint(len(body)) + body


def publish_packet(topic: bytes, payload: bytes, packet_id: int, v5: bool = True) -> bytes:
    """One QoS 1 PUBLISH (MQTT 5: empty properties); `topic` already UTF-8."""
    body = struct.pack("!H", len(topic)) + topic + struct.pack("!H", packet_id)
    body += (b"\x00" if v5 else b"") + payload
    return b"\x32" + varint(len(body)) + body


def encode_publishes(messages: Iterable[tuple[str, bytes]], v5: bool = True) -> list[bytes]:
    """QoS 1 PUBLISH packets with packet ids 1..65535 in turn."""
    return [
        publish_packet(topic.encode(), payload, i % MAX_PACKET_ID + 1, v5)
        for i, (topic, payload) in enumerate(messages)
    ]


def publish_packets(
    port: int,
    packets: list[bytes],
    *,
    host: str = "127.0.0.1",
    v5: bool = True,
    window: int = 20_000,
    chunk: int = 500,
    timeout: float = 300.0,
) -> float:
    """Send `packets`, keeping at most `window` unacknowledged (so a packet id is never
    reused while in flight); returns the seconds until the last PUBACK arrived."""
    if window >= MAX_PACKET_ID:
        raise ValueError("window must stay below 65535 packet ids")
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(connect_packet(f"bench-load-{time.time_ns()}", v5))
    reply = sock.recv(64)
    if len(reply) < 4 or reply[0] != 0x20 or reply[3] != 0:
        raise ConnectionError(f"broker refused the load generator: {reply!r}")
    acked = 0
    changed = threading.Condition()
    total = len(packets)

    def read_acks() -> None:
        nonlocal acked
        buf = b""
        while acked < total:
            data = sock.recv(65536)
            if not data:
                break
            buf += data
            pos, n = 0, 0
            while pos + 2 <= len(buf):
                length = buf[pos + 1]  # PUBACKs are short: one length byte
                if pos + 2 + length > len(buf):
                    break
                if buf[pos] == 0x40:
                    n += 1
                pos += 2 + length
            buf = buf[pos:]
            with changed:
                acked += n
                changed.notify_all()
        with changed:
            changed.notify_all()

    started = time.monotonic()
    reader = threading.Thread(target=read_acks, daemon=True)
    reader.start()
    sent = 0
    while sent < total:
        with changed:
            while sent - acked > window:
                if not changed.wait(timeout) or not reader.is_alive():
                    raise TimeoutError(f"broker stopped acknowledging at {acked}/{total}")
        end = min(sent + chunk, total)
        sock.sendall(b"".join(packets[sent:end]))
        sent = end
    reader.join(timeout)
    elapsed = time.monotonic() - started
    try:
        sock.sendall(b"\xe0\x00")  # DISCONNECT
    finally:
        sock.close()
    if acked < total:
        raise TimeoutError(f"only {acked} of {total} publishes were acknowledged")
    return elapsed

"""A lean receive-only MQTT session for the ingest hot path (MQTT 5 and 3.1.1).

Same contract as `BatchConsumer` (persistent session, QoS 1, messages handed to the
handler in batches, PUBACK only after the handler returned) at a fraction of the cost:
paho parses every packet with several one-byte `recv` calls, builds a message object
and property set per packet and writes each PUBACK through its own queue and wake-up
pipe, about 60-80 µs of CPU per message. Here one `recv` brings in up to 256 KiB, the
packets in it are sliced out of the buffer in one loop, and the PUBACKs of a committed
batch leave in one `sendall` — about 3 µs per message (bench/RESULTS.md).

What it speaks (the part of MQTT a subscriber needs): CONNECT with a session expiry and
a Receive Maximum (MQTT 5) or clean_session=0 (3.1.1), user name and password, TLS;
SUBSCRIBE with QoS 1; PUBLISH QoS 0/1 in, with the MQTT 5 user property `ts` read;
PUBACK out; PINGREQ / PINGRESP; a server DISCONNECT. It never publishes, announces no
topic aliases (so the broker sends none), and because it subscribes with QoS 1 the
broker never sends it QoS 2. Anything outside that is a protocol error: the connection
is dropped and made again, and the broker redelivers what was not acknowledged.

May import: contract (topic helpers), mqttlink, the standard library.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from brightwatch.mqttlink.client import BrokerAddress
from brightwatch.mqttlink.consumer import BatchLoop, Handler, Inbound, Isolation, user_int

log = logging.getLogger(__name__)

_CONNECT, _CONNACK, _PUBLISH, _PUBACK = 0x10, 0x20, 0x30, 0x40
_SUBSCRIBE, _SUBACK, _PINGREQ, _PINGRESP, _DISCONNECT = 0x82, 0x90, 0xC0, 0xD0, 0xE0
_RECV_BYTES = 256 * 1024

# MQTT 5 property identifiers a server may put on CONNACK, SUBACK, PUBLISH or
# DISCONNECT, by how their value is encoded (MQTT 5.0, 2.2.2.2)
_PROP_BYTE = {0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A}
_PROP_TWO = {0x13, 0x21, 0x22, 0x23}
_PROP_FOUR = {0x02, 0x11, 0x18, 0x27}
_PROP_VARINT = {0x0B}
_PROP_STRING = {0x03, 0x08, 0x12, 0x15, 0x1A, 0x1C, 0x1F}
_PROP_BINARY = {0x09, 0x16}
_PROP_PAIR = 0x26
_SERVER_KEEP_ALIVE = 0x13
_REASON_STRING = 0x1F


class ProtocolError(ConnectionError):
    """The broker sent something this session does not accept; reconnect."""


def varint(n: int) -> bytes:
    """MQTT variable byte integer (remaining length, property lengths)."""
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def mqtt_string(text: str) -> bytes:
    """MQTT UTF-8 string: two-byte length, then the bytes."""
    raw = text.encode("utf-8")
    return struct.pack("!H", len(raw)) + raw


def _read_varint(buf: bytes | bytearray, pos: int, end: int) -> tuple[int, int]:
    """(value, position after it); value -1 when the buffer ends inside it."""
    value, mult = 0, 1
    for _ in range(4):
        if pos >= end:
            return -1, pos
        byte = buf[pos]
        pos += 1
        value += (byte & 0x7F) * mult
        if not byte & 0x80:
            return value, pos
        mult *= 128
    raise ProtocolError("malformed variable byte integer")


def parse_properties(data: bytes) -> dict[int, object]:
    """MQTT 5 properties: id -> value (user properties as a list of pairs)."""
    props: dict[int, object] = {}
    pairs: list[tuple[str, str]] = []
    pos, end = 0, len(data)
    try:
        while pos < end:
            pid = data[pos]
            pos += 1
            if pid in _PROP_BYTE:
                props[pid] = data[pos]
                pos += 1
            elif pid in _PROP_TWO:
                props[pid] = struct.unpack_from("!H", data, pos)[0]
                pos += 2
            elif pid in _PROP_FOUR:
                props[pid] = struct.unpack_from("!I", data, pos)[0]
                pos += 4
            elif pid in _PROP_VARINT:
                value, pos = _read_varint(data, pos, end)
                props[pid] = value
            elif pid in _PROP_STRING or pid in _PROP_BINARY:
                n = struct.unpack_from("!H", data, pos)[0]
                props[pid] = data[pos + 2 : pos + 2 + n]
                pos += 2 + n
            elif pid == _PROP_PAIR:
                kn = struct.unpack_from("!H", data, pos)[0]
                key = data[pos + 2 : pos + 2 + kn]
                pos += 2 + kn
                vn = struct.unpack_from("!H", data, pos)[0]
                value_raw = data[pos + 2 : pos + 2 + vn]
                pos += 2 + vn
                pairs.append((key.decode("utf-8", "replace"), value_raw.decode("utf-8", "replace")))
            else:
                raise ProtocolError(f"unknown MQTT 5 property 0x{pid:02x}")
    except (IndexError, struct.error):
        raise ProtocolError("truncated MQTT 5 properties") from None
    if pos != end:
        raise ProtocolError("truncated MQTT 5 properties")
    if pairs:
        props[_PROP_PAIR] = pairs
    return props


class StreamConsumer(BatchLoop):
    """Receive QoS 1 messages in batches, acknowledge each batch after its handler returned.

    An I/O thread owns the socket (reads, writes, keepalive, reconnections); `run` (the
    caller's thread) hands batches to the handler and queues their PUBACKs for the I/O
    thread. The backlog between them is bounded in messages by the Receive Maximum and
    in bytes by `max_backlog_bytes` (the I/O thread stops reading, TCP pushes back on
    the broker).
    """

    def __init__(
        self,
        address: BrokerAddress,
        client_id: str,
        topic_filters: Sequence[str],
        handler: Handler,
        *,
        share_group: str | None = None,
        batch_size: int = 1000,
        batch_wait_s: float = 0.05,
        receive_maximum: int = 20_000,
        max_retry_delay_s: float = 10.0,
        isolation: Isolation | None = None,
        name: str | None = None,
        keepalive_s: int = 30,
        session_expiry_s: int = 7 * 24 * 3600,
        max_backlog_bytes: int = 256 * 1024 * 1024,
        connect_timeout_s: float = 10.0,
    ) -> None:
        super().__init__(
            address,
            client_id,
            topic_filters,
            share_group,
            handler,
            batch_size,
            batch_wait_s,
            max_retry_delay_s,
            isolation,
            name,
        )
        self.receive_maximum = receive_maximum
        self.keepalive_s = keepalive_s
        self.session_expiry_s = session_expiry_s
        self.max_backlog_bytes = max_backlog_bytes
        self.connect_timeout_s = connect_timeout_s
        self.v5 = address.protocol == "5"

        self._queued_bytes = 0
        self._send_lock = threading.Lock()
        self._outbox: list[tuple[int, bytes]] = []
        # wakes the I/O loop when there is something to send or it must stop
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._last_sent = 0.0
        self._closing = threading.Event()
        self._reader: threading.Thread | None = None
        self.connections = 0

    # ------------------------------------------------------------------ connection

    def _connect_packet(self) -> bytes:
        flags = 0x00  # clean start / clean session off: the broker keeps the session
        if self.address.username is not None:
            flags |= 0x80
            if self.address.password is not None:
                flags |= 0x40
        if self.v5:
            props = (
                b"\x11"
                + struct.pack("!I", self.session_expiry_s)
                + b"\x21"
                + struct.pack("!H", self.receive_maximum)
            )
            header = (
                mqtt_string("MQTT")
                + bytes([5, flags])
                + struct.pack("!H", self.keepalive_s)
                + varint(len(props))
                + props
            )
        else:
            header = mqtt_string("MQTT") + bytes([4, flags]) + struct.pack("!H", self.keepalive_s)
        body = header + mqtt_string(self.client_id)
        if self.address.username is not None:
            body += mqtt_string(self.address.username)
            if self.address.password is not None:
                body += mqtt_string(self.address.password)
        return bytes([_CONNECT]) + varint(len(body)) + body

    def _subscribe_packet(self, packet_id: int) -> bytes:
        body = struct.pack("!H", packet_id) + (b"\x00" if self.v5 else b"")
        for f in self.filters:
            body += mqtt_string(f) + b"\x01"  # QoS 1; MQTT 5 options: local, retain as published
        return bytes([_SUBSCRIBE]) + varint(len(body)) + body

    def _open_socket(self) -> socket.socket:
        sock = socket.create_connection(
            (self.address.host, self.address.port), timeout=self.connect_timeout_s
        )
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.address.tls:
            ctx = ssl.create_default_context(
                cafile=str(self.address.ca_file) if self.address.ca_file else None
            )
            sock = ctx.wrap_socket(sock, server_hostname=self.address.host)
        return sock

    def _read_packet(self, sock: socket.socket, buf: bytearray) -> tuple[int, bytes]:
        """One whole packet during the handshake (CONNACK, SUBACK)."""
        while True:
            if len(buf) >= 2:
                length, pos = _read_varint(buf, 1, len(buf))
                if length >= 0 and len(buf) >= pos + length:
                    header, body = buf[0], bytes(buf[pos : pos + length])
                    del buf[: pos + length]
                    return header, body
            data = sock.recv(_RECV_BYTES)
            if not data:
                raise ConnectionError("connection closed by the broker")
            buf += data

    def _handshake(self, sock: socket.socket, buf: bytearray) -> None:
        sock.sendall(self._connect_packet())
        header, body = self._read_packet(sock, buf)
        if header != _CONNACK or len(body) < 2:
            raise ProtocolError(f"expected CONNACK, got packet type 0x{header:02x}")
        session_present, code = body[0] & 0x01, body[1]
        if code != 0:
            raise ConnectionRefusedError(f"broker refused the connection (reason code {code})")
        if self.v5 and len(body) > 2:
            n, pos = _read_varint(body, 2, len(body))
            props = parse_properties(body[pos : pos + n])
            server_keepalive = props.get(_SERVER_KEEP_ALIVE)
            if isinstance(server_keepalive, int) and server_keepalive:
                self.keepalive_s = server_keepalive  # MQTT 5 3.2.2.3.14: the server's wins
        # subscribing again when the session is present is harmless and repairs a
        # session that lost its subscriptions (a broker restarted without persistence)
        sock.sendall(self._subscribe_packet(1))
        while True:
            header, body = self._read_packet(sock, buf)
            if header == _SUBACK:
                break
            if header & 0xF0 == _PUBLISH:
                # queued messages of a present session may arrive before the SUBACK
                self._take_publishes(bytearray([header]) + varint(len(body)) + body)
                continue
            raise ProtocolError(f"expected SUBACK, got packet type 0x{header:02x}")
        pos = 2
        if self.v5:
            n, pos = _read_varint(body, 2, len(body))
            pos += n
        refused = [c for c in body[pos:] if c >= 0x80]
        if refused:
            raise ConnectionRefusedError(
                f"broker refused the subscription (reason codes {refused}) to {self.filters}"
            )
        log.info(
            "%s: connected to %s (session %s), subscribed to %d filters",
            self.client_id,
            self.address,
            "resumed" if session_present else "new",
            len(self.filters),
        )

    # ------------------------------------------------------------------ receiving

    def _take_publishes(self, buf: bytearray) -> int:
        """Slice every whole packet out of `buf`; returns the bytes consumed."""
        pos, end = 0, len(buf)
        now = datetime.now(UTC)  # one receive time per read: packets of one read arrive together
        mono = time.monotonic()
        generation = self._generation
        v5 = self.v5
        items: list[Inbound] = []
        size = 0
        while pos + 2 <= end:
            header = buf[pos]
            length, body = _read_varint(buf, pos + 1, end)
            if length < 0 or body + length > end:
                break
            stop = body + length
            kind = header & 0xF0
            if kind == _PUBLISH:
                qos = (header >> 1) & 0x03
                if qos > 1:
                    raise ProtocolError("QoS 2 delivery on a QoS 1 subscription")
                tlen = (buf[body] << 8) | buf[body + 1]
                k = body + 2 + tlen
                raw_topic = bytes(buf[body + 2 : k])
                mid = 0
                if qos:
                    mid = (buf[k] << 8) | buf[k + 1]
                    k += 2
                user_ts = user_seq = None
                if v5:
                    plen, k = _read_varint(buf, k, stop)
                    if plen:
                        props = parse_properties(bytes(buf[k : k + plen]))
                        pairs = props.get(_PROP_PAIR)
                        user_ts = user_int(pairs, "ts")  # type: ignore[arg-type]
                        user_seq = user_int(pairs, "seq")  # type: ignore[arg-type]
                    k += plen
                if k > stop:
                    raise ProtocolError("PUBLISH shorter than its headers")
                try:
                    topic = raw_topic.decode("utf-8")
                except UnicodeDecodeError:
                    topic = raw_topic.decode("utf-8", "replace")
                payload = bytes(buf[k:stop])
                size += len(payload)
                items.append(
                    Inbound(
                        topic,
                        payload,
                        now,
                        user_ts,
                        bool(header & 0x01),
                        mid,
                        qos,
                        generation,
                        user_seq,
                        mono,
                    )
                )
            elif kind == _PINGRESP:
                pass
            elif kind == _DISCONNECT:
                reason = buf[body] if length else 0
                raise ConnectionError(f"broker disconnected us (reason code {reason})")
            elif kind in (_PUBACK, _SUBACK, 0x60, 0x70, 0xB0):
                pass  # acknowledgements of nothing we wait for any more
            else:
                raise ProtocolError(f"unexpected packet type 0x{header:02x}")
            pos = stop
        if items:
            with self._wake:
                was_empty = not self._queue
                self._queue.extend(items)
                self._queued_bytes += size
                self.received += len(items)
                # wake the consumer at the first message (it then waits batch_wait_s for
                # the batch to fill) and again when a batch is full
                if was_empty or len(self._queue) >= self.batch_size:
                    self._wake.notify_all()
        return pos

    def _receive(self, sock: socket.socket, buf: bytearray) -> None:
        """The connection's one I/O loop: every read and write of the socket happens here
        (an SSL socket must not be read and written from two threads at once)."""
        sock.setblocking(False)
        ping_sent_at: float | None = None
        if buf:  # publishes that came in the same read as the SUBACK
            del buf[: self._take_publishes(buf)]
        while not self._closing.is_set():
            self._flush(sock)
            now = time.monotonic()
            if now - self._last_sent > self.keepalive_s / 2:
                self._write(sock, bytes([_PINGREQ, 0]))
                ping_sent_at = ping_sent_at or now
            if ping_sent_at is not None and now - ping_sent_at > self.keepalive_s:
                raise ConnectionError("no answer to PINGREQ within the keepalive")
            with self._wake:
                full = self._queued_bytes > self.max_backlog_bytes
            # backpressure: while the handler catches up nothing is read, so TCP makes
            # the broker hold the rest
            watch = [self._wake_r] if full else [sock, self._wake_r]
            pending = sock.pending() if isinstance(sock, ssl.SSLSocket) else 0
            ready = [sock] if pending and not full else select.select(watch, [], [], 1.0)[0]
            if self._wake_r in ready:
                with contextlib.suppress(BlockingIOError):
                    self._wake_r.recv(4096)
            if sock not in ready:
                continue
            try:
                data = sock.recv(_RECV_BYTES)
            except (BlockingIOError, ssl.SSLWantReadError):
                continue
            if not data:
                raise ConnectionError("connection closed by the broker")
            ping_sent_at = None
            buf += data
            used = self._take_publishes(buf)
            if used:
                del buf[:used]

    def _write(self, sock: socket.socket, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                sent = sock.send(view)
            except (BlockingIOError, ssl.SSLWantWriteError):
                select.select([], [sock], [], 1.0)
                continue
            view = view[sent:]
        self._last_sent = time.monotonic()

    def _flush(self, sock: socket.socket) -> None:
        with self._send_lock:
            if not self._outbox:
                return
            out = [data for generation, data in self._outbox if generation == self._generation]
            self._outbox.clear()
        if out:
            self._write(sock, b"".join(out))

    def _reader_loop(self) -> None:
        delay = 0.5
        while not self._closing.is_set():
            buf = bytearray()
            sock: socket.socket | None = None
            try:
                sock = self._open_socket()
                with self._wake:
                    self._generation += 1
                self._handshake(sock, buf)
                self._last_sent = time.monotonic()
                self.connected = True
                self.connections += 1
                self.subscribed.set()
                delay = 0.5
                self._receive(sock, buf)
            except (OSError, ProtocolError) as exc:
                if self._closing.is_set():
                    break
                log.warning("%s: %s; reconnecting in %.1f s", self.client_id, exc, delay)
            except Exception:  # a malformed packet we did not foresee: never stop for good
                if self._closing.is_set():
                    break
                log.exception("%s: unexpected error; reconnecting in %.1f s", self.client_id, delay)
            finally:
                self.connected = False
                self.subscribed.clear()
                if sock is not None:
                    if self._closing.is_set():
                        with contextlib.suppress(OSError):
                            self._flush(sock)
                            sock.setblocking(True)
                            sock.sendall(bytes([_DISCONNECT, 0]))
                    with contextlib.suppress(OSError):
                        sock.close()
            if self._closing.wait(delay):
                break
            delay = min(delay * 2, 30.0)

    # ------------------------------------------------------------------ sending

    def _send(self, data: bytes, generation: int) -> bool:
        """Queue bytes for the I/O loop; False when that connection is gone. (Not gated on
        `connected`: acknowledgements of messages that came with the session before our
        SUBACK are queued too, and sent as soon as the I/O loop runs.)"""
        if generation != self._generation:
            return False
        with self._send_lock:
            self._outbox.append((generation, data))
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        return True

    def _acknowledge(self, batch: list[Inbound]) -> None:
        generation = self._generation
        # a message from an earlier connection is redelivered by the broker on this one
        # and acknowledged then; its old packet id means nothing any more
        ids = [0x40020000 | m.mid for m in batch if m.qos and m.generation == generation]
        if ids and self._send(struct.pack(f"!{len(ids)}I", *ids), generation):
            self.acknowledged += len(ids)

    # ------------------------------------------------------------------ consuming

    def _take_batch(self, stop: threading.Event) -> list[Inbound]:
        with self._wake:
            if not self._queue:
                self._wake.wait(timeout=0.2)
                if not self._queue:
                    return []
            if len(self._queue) < self.batch_size and not stop.is_set():
                # give a partial batch a moment to fill
                self._wake.wait(timeout=self.batch_wait_s)
            n = min(len(self._queue), self.batch_size)
            batch = [self._queue.popleft() for _ in range(n)]
            self._queued_bytes -= sum(len(m.payload) for m in batch)
            self._wake.notify_all()
            return batch

    def start(self) -> None:
        if self._reader is None:
            self._closing.clear()
            self._reader = threading.Thread(
                target=self._reader_loop, name=f"mqtt-{self.client_id}", daemon=True
            )
            self._reader.start()

    def close(self) -> None:
        """Stop the I/O loop; it sends the pending PUBACKs and a DISCONNECT first."""
        self._closing.set()
        with self._wake:
            self._wake.notify_all()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._reader is not None:
            self._reader.join(10)
            self._reader = None

"""Ingest: device messages from MQTT into PostgreSQL/TimescaleDB rows, nothing lost.

What it consumes (QoS 1, persistent session, optionally `$share/<BW_SHARE_GROUP>/...`):
elevator status, event, stats and availability; camera availability (frames and
detections belong to the vision worker). Every message becomes a row, a presence
update or a dead letter with its reason (interfaces.md, Bad input).

Acknowledge after commit
------------------------
The worker never acknowledges a message (PUBACK) before the transaction holding its row
has committed. The consumer (`mqttlink.stream.StreamConsumer`, or the paho-based
`mqttlink.BatchConsumer`) takes up to `batch_size` messages, the handler
(`ingest.worker.IngestWorker`) writes them in one transaction, and only when it returns
are their PUBACKs sent, in one write. If it raises, nothing is acknowledged and the
batch is tried again with backoff (a database restart is waited out this way).

Why nothing is lost: until the broker has a PUBACK, the message stays in the worker's
persistent session (clean start off with a session expiry on MQTT 5, clean session off
on 3.1.1). A worker killed with SIGKILL, a connection cut, a database down: the broker
redelivers every unacknowledged message when the worker (same client id) comes back.
A broker with persistence keeps those sessions across its own restart.

What redelivery costs: messages committed but not yet acknowledged when the worker died
arrive again. The primary key (elevator_id, ts, seq) makes them harmless: the batch's
binary COPY fails on the duplicate key, the batch goes through a scratch table and
`INSERT ... ON CONFLICT DO NOTHING`, and only the rows really inserted count in presence
(messages, sequence gaps), so a redelivery changes nothing and costs one slower batch.
Duplicates a device sends itself are stored once the same way.

The Receive Maximum (MQTT 5 CONNECT property, `BW_INGEST__RECEIVE_MAXIMUM`) bounds how
many unacknowledged messages the broker has in flight to a worker, hence the worker's
memory and its largest batch: the broker stops sending at that many and goes on as the
PUBACKs come back. It must be well above `batch_size`, or batches never fill. MQTT 3.1.1
has no Receive Maximum: the broker's `max_inflight_messages` plays its part (and
mosquitto's `max_queued_messages` must be large enough not to drop QoS 1 messages for a
slow or absent worker). The stream client also caps the received payload bytes waiting
for the handler (`max_backlog_mb`): over it, it stops reading and TCP pushes back.

Scaling: with `BW_SHARE_GROUP` set, every worker subscribes through
`$share/<group>/...` and the broker splits the messages between the group's members.
`BW_INGEST__WORKERS=N` starts N worker processes (each its own client id and session);
more nodes scale the same way. Two workers may hold messages of one device at once;
presence updates lock rows in key order and late messages are accounted for, so counts
stay right (ingest.presence).

Speed: the lean stream client (bench/RESULTS.md) spends about 3 µs per message where
paho spends 60-80 µs; validation has a fast path for the common case; rows go in by
binary COPY; presence is one set-based UPDATE per batch for devices whose messages are
in order. The hot table of presence is updated in place (fillfactor 70, HOT updates).

Modules: `classify` (pure: messages into samples, availability reports, dead letters),
`presence` (pure: gap counting), `registry_cache` (known devices, the unknown-device
policy), `writer` (the SQL adapter), `worker` (the handler: classify, policy, write,
metrics), `maintenance` (partitions, rollups, retention), `metrics`, `settings`. The
shell runs it (`brightwatch/components/ingest.py`: consumers, worker processes, upkeep).

May import: contract, db, mqttlink, registry (auto-registration), psycopg, msgspec,
prometheus_client, the standard library.
"""

-- Device partitions owned through leases (db/partitions.py): the rules and vision workers
-- keep per-device state and timers, so each device has one owner at a time. A component's
-- devices are split into a fixed number of partitions (CRC-32 of the device id modulo the
-- count); a replica owns a partition while it renews its lease (expires_at, on the
-- database's clock). Taking a partition increments its epoch: every transaction that writes
-- a device's state or raises its alerts first reads its partitions' rows FOR SHARE and
-- checks owner and epoch (the fence), so a replica that lost a partition cannot write to it.

CREATE TABLE partition_lease (
    component  text        NOT NULL,
    partition  integer     NOT NULL CHECK (partition >= 0),
    owner      text,
    epoch      bigint      NOT NULL DEFAULT 0,
    expires_at timestamptz NOT NULL DEFAULT '-infinity',
    taken_at   timestamptz,
    PRIMARY KEY (component, partition)
);

-- the replicas taking part, renewed with their leases: each aims at ceil(partitions / live)
CREATE TABLE partition_member (
    component  text        NOT NULL,
    member     text        NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (component, member)
);

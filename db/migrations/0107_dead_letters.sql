-- Dead letters from every consumer (ingest, rules, vision, the outbox relay), labelled for
-- metrics and dashboards, bounded under a flood, and outbox rows that cannot be published.

ALTER TABLE dead_letter
    ADD COLUMN topic_kind   text,   -- elevator_status, camera_frame, ..., outbox, other
    ADD COLUMN device_key   text,   -- elevator_id or site_id/camera_id; '' when none
    ADD COLUMN reason_class text;   -- the bounded vocabulary of contract.deadletter
CREATE INDEX dead_letter_device ON dead_letter (device_key, received_at);

-- Dead letters over a device's hourly cap are not stored one by one: they are counted here
-- (a broken camera or an attacker cannot fill the table, and nothing goes uncounted).
CREATE TABLE dead_letter_suppressed (
    hour          timestamptz NOT NULL,
    device_key    text NOT NULL,
    topic_kind    text NOT NULL,
    reason_class  text NOT NULL,
    suppressed    bigint NOT NULL,
    PRIMARY KEY (hour, device_key, topic_kind, reason_class)
);

-- An outbox row the broker refuses (or paho cannot send) is tried a few times, then set
-- aside as a dead letter so that the rows behind it go out.
ALTER TABLE outbox
    ADD COLUMN attempts   integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error text,
    ADD COLUMN dead_at    timestamptz;
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL AND dead_at IS NULL;

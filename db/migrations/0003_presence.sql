-- Device presence (last seen, availability, seq gaps), availability history, dead letters.

CREATE TABLE device_presence (
    device_kind      text NOT NULL CHECK (device_kind IN ('elevator', 'camera')),
    -- elevator_id, or site_id/camera_id
    device_key       text NOT NULL,
    device_id        text NOT NULL,
    site_id          text,
    availability     text CHECK (availability IN ('online', 'offline')),
    availability_at  timestamptz,
    last_seen        timestamptz,  -- server time of the last message
    last_ts          timestamptz,  -- device time of the last message
    last_seq         bigint,
    messages         bigint NOT NULL DEFAULT 0,
    seq_gaps         bigint NOT NULL DEFAULT 0,  -- messages missing by seq
    last_status      jsonb,        -- the latest elevator status sample (elevators only)
    PRIMARY KEY (device_kind, device_key)
);
CREATE INDEX device_presence_site ON device_presence (site_id) WHERE site_id IS NOT NULL;

CREATE TABLE availability_log (
    id            bigserial PRIMARY KEY,
    device_kind   text NOT NULL,
    device_key    text NOT NULL,
    site_id       text,
    availability  text NOT NULL CHECK (availability IN ('online', 'offline')),
    received_at   timestamptz NOT NULL
);
CREATE INDEX availability_log_device ON availability_log (device_kind, device_key, received_at);

CREATE TABLE dead_letter (
    id            bigserial PRIMARY KEY,
    received_at   timestamptz NOT NULL DEFAULT now(),
    topic         text NOT NULL,
    payload       bytea,          -- capped (BW_INGEST__DEAD_LETTER_MAX_BYTES)
    payload_size  integer NOT NULL,
    reason        text NOT NULL,
    worker        text
);
CREATE INDEX dead_letter_received ON dead_letter (received_at);

-- Outgoing deliveries (webhooks, e-mail, SMS, MQTT notifications) retried with backoff,
-- and kitchen evidence files (pictures that confirmed a violation) with content hashes.

CREATE TABLE delivery (
    id               bigserial PRIMARY KEY,
    channel          text NOT NULL,          -- plugin key: webhook, mqtt, email, sms, ...
    target           text NOT NULL,          -- URL, topic, address, phone number
    subject          text,                   -- what it is about: 'alert:12', 'ticket:7', ...
    payload          jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    last_error       text,
    delivered_at     timestamptz
);
CREATE INDEX delivery_due ON delivery (next_attempt_at) WHERE state = 'pending';
CREATE INDEX delivery_subject ON delivery (subject);

CREATE TABLE evidence (
    id             bigserial PRIMARY KEY,
    site_id        text NOT NULL,
    camera_id      text NOT NULL,
    alert_id       bigint REFERENCES alert ON DELETE SET NULL,
    captured_at    timestamptz NOT NULL,
    path           text NOT NULL,            -- relative to BW_DATA_DIR
    sha256         text NOT NULL,            -- of the file's bytes; checked on every read
    size_bytes     integer NOT NULL,
    width          integer NOT NULL,
    height         integer NOT NULL,
    code           text,                     -- violation code the picture supports
    -- [{"label": "rat", "score": 0.91, "box": [x1, y1, x2, y2], "track": 3}, ...] in pixels
    boxes          jsonb NOT NULL DEFAULT '[]',
    model          text,                     -- name@version of the detector
    zone           text,
    rule           text,                     -- the rule and its parameters that fired
    created_at     timestamptz NOT NULL DEFAULT now(),
    retained_until timestamptz              -- NULL: kept while its case is open
);
CREATE INDEX evidence_alert ON evidence (alert_id);
CREATE INDEX evidence_camera ON evidence (site_id, camera_id, captured_at DESC);

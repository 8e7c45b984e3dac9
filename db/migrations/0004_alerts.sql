-- Alerts with their audit trail, and the transactional outbox of outgoing MQTT messages.

CREATE TABLE alert (
    id               bigserial PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('elevator', 'kitchen')),
    code             text NOT NULL,
    severity         text NOT NULL CHECK (severity IN ('P1', 'P2', 'P3', 'INFO', 'T1', 'T2', 'T3')),
    state            text NOT NULL CHECK (state IN ('firing', 'acknowledged', 'resolved')),
    device_id        text NOT NULL,
    site_id          text,
    fingerprint      text NOT NULL,
    started_at       timestamptz NOT NULL,   -- when the condition began (device time)
    updated_at       timestamptz NOT NULL,   -- last change (server time)
    last_raised_at   timestamptz NOT NULL,   -- last raise (device time), for flaps
    resolved_at      timestamptz,
    resolved_by      text,
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    count            integer NOT NULL DEFAULT 1 CHECK (count >= 1),
    summary          text NOT NULL DEFAULT '',
    evidence_url     text,
    labels           jsonb NOT NULL DEFAULT '{}',
    details          jsonb NOT NULL DEFAULT '{}'
);
-- at most one open alert per fingerprint
CREATE UNIQUE INDEX alert_open_fingerprint ON alert (fingerprint) WHERE state <> 'resolved';
CREATE INDEX alert_fingerprint_recent ON alert (fingerprint, resolved_at DESC);
CREATE INDEX alert_device ON alert (kind, device_id, started_at DESC);
CREATE INDEX alert_site ON alert (site_id, started_at DESC);
CREATE INDEX alert_open ON alert (severity, started_at) WHERE state <> 'resolved';
CREATE INDEX alert_started ON alert (started_at DESC);

-- every state change and action on an alert: who, when, what
CREATE TABLE alert_event (
    id          bigserial PRIMARY KEY,
    alert_id    bigint NOT NULL REFERENCES alert ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    action      text NOT NULL,
    actor       text NOT NULL,
    from_state  text,
    to_state    text,
    note        text,
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_event_alert ON alert_event (alert_id, id);
CREATE INDEX alert_event_at ON alert_event (at);

-- messages written in the same transaction as the change they announce, published by
-- the relay with QoS 1 and marked once the broker has acknowledged them
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    created_at    timestamptz NOT NULL DEFAULT now(),
    topic         text NOT NULL,
    payload       bytea NOT NULL,
    qos           smallint NOT NULL DEFAULT 1 CHECK (qos IN (0, 1, 2)),
    retain        boolean NOT NULL DEFAULT false,
    published_at  timestamptz
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;

CREATE FUNCTION bw_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bw_outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION bw_outbox_notify();

-- Notification pipeline: silences, per-alert notification state (labels, mutes,
-- escalation clock), notification groups and their members, notifications sent (each
-- with its deliveries), so every notification and its outcome can be traced per alert.

CREATE TABLE silence (
    id            bigserial PRIMARY KEY,
    -- Alertmanager API v2 form: [{"name": ..., "value": ..., "isRegex": ..., "isEqual": ...}]
    matchers      jsonb NOT NULL CHECK (jsonb_typeof(matchers) = 'array' AND jsonb_array_length(matchers) > 0),
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL,
    comment       text NOT NULL DEFAULT '',
    activated_at  timestamptz,            -- when the clock first saw it in force
    expired_at    timestamptz,            -- when it ended (early through the API, or at ends_at)
    expired_by    text,
    CHECK (ends_at > starts_at)
);
CREATE INDEX silence_open ON silence (ends_at) WHERE expired_at IS NULL;

-- notification state of each alert
CREATE TABLE alert_notify (
    alert_id            bigint PRIMARY KEY REFERENCES alert ON DELETE CASCADE,
    -- registry labels added at first sight (firm_id, district, ...): routing stays stable
    enrichment          jsonb NOT NULL DEFAULT '{}',
    labels              jsonb NOT NULL DEFAULT '{}',   -- the last label set matched on
    opened_at           timestamptz NOT NULL,          -- server time: escalation clock start
    silenced_by         bigint[] NOT NULL DEFAULT '{}',
    inhibited_by        bigint[] NOT NULL DEFAULT '{}',
    escalation_level    integer NOT NULL DEFAULT 0,
    next_escalation_at  timestamptz
);
CREATE INDEX alert_notify_escalation ON alert_notify (next_escalation_at)
    WHERE next_escalation_at IS NOT NULL;
CREATE INDEX alert_notify_muted ON alert_notify (alert_id)
    WHERE silenced_by <> '{}' OR inhibited_by <> '{}';

CREATE TABLE notify_group (
    id                  bigserial PRIMARY KEY,
    group_key           text NOT NULL UNIQUE,
    route_path          text NOT NULL,
    receiver            text NOT NULL,
    group_labels        jsonb NOT NULL DEFAULT '{}',
    group_wait_s        integer NOT NULL,
    group_interval_s    integer NOT NULL,
    repeat_interval_s   integer NOT NULL,
    created_at          timestamptz NOT NULL,
    last_flush_at       timestamptz,
    next_flush_at       timestamptz
);
CREATE INDEX notify_group_due ON notify_group (next_flush_at) WHERE next_flush_at IS NOT NULL;

CREATE TABLE notify_group_alert (
    group_id   bigint NOT NULL REFERENCES notify_group ON DELETE CASCADE,
    alert_id   bigint NOT NULL REFERENCES alert ON DELETE CASCADE,
    added_at   timestamptz NOT NULL,
    notified   text CHECK (notified IN ('firing', 'resolved')),
    PRIMARY KEY (group_id, alert_id)
);
CREATE INDEX notify_group_alert_alert ON notify_group_alert (alert_id);

CREATE TABLE notification (
    id          bigserial PRIMARY KEY,
    created_at  timestamptz NOT NULL,
    reason      text NOT NULL CHECK (reason IN ('group', 'repeat', 'escalation', 'notice')),
    receiver    text NOT NULL,
    group_key   text,
    status      text NOT NULL CHECK (status IN ('firing', 'resolved')),
    alert_ids   bigint[] NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX notification_alerts ON notification USING gin (alert_ids);
CREATE INDEX notification_created ON notification (created_at);

ALTER TABLE delivery ADD COLUMN notification_id bigint REFERENCES notification ON DELETE SET NULL;
CREATE INDEX delivery_notification ON delivery (notification_id);

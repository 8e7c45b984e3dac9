-- Elevator telemetry on TimescaleDB: hypertables (1-day chunks), compression, retention
-- and a continuous aggregate with the same names and columns as the native variant.

CREATE TABLE elevator_status (
    elevator_id          text NOT NULL,
    ts                   timestamptz NOT NULL,
    seq                  bigint NOT NULL,
    received_at          timestamptz NOT NULL,
    service_mode         text NOT NULL,
    run_state            text NOT NULL,
    direction            text,
    floor                integer NOT NULL,
    door_zone            boolean NOT NULL,
    door_state           text NOT NULL,
    has_person           boolean NOT NULL,
    speed                real NOT NULL,
    load_pct             real,
    power_source         text,
    battery_pct          real,
    safety_circuit       text,
    alarm_button         boolean,
    up_limit             boolean,
    down_limit           boolean,
    car_door_locked      boolean,
    landing_door_locked  boolean,
    vibration_rms        real,
    extra                jsonb,
    PRIMARY KEY (elevator_id, ts, seq)
);

CREATE TABLE elevator_event (
    elevator_id  text NOT NULL,
    ts           timestamptz NOT NULL,
    seq          bigint NOT NULL,
    received_at  timestamptz NOT NULL,
    code         text NOT NULL,
    state        text NOT NULL,
    detail       text,
    extra        jsonb,
    PRIMARY KEY (elevator_id, ts, seq)
);

CREATE TABLE elevator_stats (
    elevator_id  text NOT NULL,
    ts           timestamptz NOT NULL,
    seq          bigint NOT NULL,
    received_at  timestamptz NOT NULL,
    run_count    bigint,
    run_hours    double precision,
    door_cycles  bigint,
    distance_km  double precision,
    extra        jsonb,
    PRIMARY KEY (elevator_id, ts, seq)
);

SELECT create_hypertable(t, 'ts', chunk_time_interval => interval '1 day')
FROM unnest(ARRAY['elevator_status', 'elevator_event', 'elevator_stats']) AS t;

ALTER TABLE elevator_status SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'elevator_id',
    timescaledb.compress_orderby = 'ts DESC, seq DESC'
);
ALTER TABLE elevator_event SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'elevator_id',
    timescaledb.compress_orderby = 'ts DESC, seq DESC'
);
ALTER TABLE elevator_stats SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'elevator_id',
    timescaledb.compress_orderby = 'ts DESC, seq DESC'
);
SELECT add_compression_policy(t, interval '7 days')
FROM unnest(ARRAY['elevator_status', 'elevator_event', 'elevator_stats']) AS t;
-- the service re-applies retention from BW_INGEST__RAW_RETENTION_DAYS at start-up
SELECT add_retention_policy(t, interval '400 days')
FROM unnest(ARRAY['elevator_status', 'elevator_event', 'elevator_stats']) AS t;

-- the native flavour's partition helpers exist here too and do nothing, so callers
-- need not branch
CREATE OR REPLACE FUNCTION bw_ensure_daily_partitions(parent text, from_day date, to_day date)
RETURNS integer LANGUAGE sql AS $$ SELECT 0 $$;
CREATE OR REPLACE FUNCTION bw_drop_daily_partitions_before(parent text, before_day date)
RETURNS integer LANGUAGE sql AS $$ SELECT 0 $$;

CREATE TABLE rollup_dirty (
    bucket      timestamptz PRIMARY KEY,
    touched_at  timestamptz NOT NULL DEFAULT now()
);

CREATE MATERIALIZED VIEW elevator_status_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT elevator_id,
       time_bucket(interval '1 hour', ts) AS bucket,
       count(*) AS samples,
       count(*) FILTER (WHERE run_state = 'running') AS running_samples,
       count(*) FILTER (WHERE has_person) AS person_samples,
       count(*) FILTER (WHERE door_state <> 'closed') AS door_open_samples,
       count(*) FILTER (WHERE power_source = 'battery') AS battery_samples,
       max(speed) AS max_speed,
       avg(load_pct) AS avg_load_pct,
       avg(vibration_rms) AS avg_vibration_rms,
       max(vibration_rms) AS max_vibration_rms,
       min(ts) AS first_ts,
       max(ts) AS last_ts
FROM elevator_status
GROUP BY elevator_id, time_bucket(interval '1 hour', ts)
WITH NO DATA;

SELECT add_continuous_aggregate_policy('elevator_status_hourly',
    start_offset => interval '3 days',
    end_offset => interval '1 hour',
    schedule_interval => interval '5 minutes');

-- continuous aggregates refresh themselves; the function keeps callers flavour-blind
CREATE OR REPLACE FUNCTION bw_refresh_status_hourly(from_bucket timestamptz, to_bucket timestamptz)
RETURNS bigint LANGUAGE sql AS $$ SELECT 0::bigint $$;

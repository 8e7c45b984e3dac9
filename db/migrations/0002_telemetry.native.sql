-- Elevator telemetry on plain PostgreSQL: daily range partitions created ahead by
-- bw_ensure_daily_partitions (called by migrate and by the ingest worker), and an hourly
-- rollup table kept current by the service from the hours marked in rollup_dirty.

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
) PARTITION BY RANGE (ts);

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
) PARTITION BY RANGE (ts);

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
) PARTITION BY RANGE (ts);

CREATE OR REPLACE FUNCTION bw_ensure_daily_partitions(parent text, from_day date, to_day date)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    d date;
    part text;
    created integer := 0;
BEGIN
    -- serialise concurrent creators (several ingest workers, migrate)
    PERFORM pg_advisory_xact_lock(hashtext('bw_partitions'));
    FOR d IN SELECT generate_series(from_day, to_day, interval '1 day')::date LOOP
        part := format('%s_p%s', parent, to_char(d, 'YYYYMMDD'));
        IF to_regclass(part) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                part, parent,
                (d::timestamp AT TIME ZONE 'UTC'), ((d + 1)::timestamp AT TIME ZONE 'UTC'));
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$$;

CREATE OR REPLACE FUNCTION bw_drop_daily_partitions_before(parent text, before_day date)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    r record;
    dropped integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('bw_partitions'));
    FOR r IN
        SELECT c.relname
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = parent AND c.relname ~ ('^' || parent || '_p[0-9]{8}$')
    LOOP
        IF to_date(right(r.relname, 8), 'YYYYMMDD') < before_day THEN
            EXECUTE format('DROP TABLE %I', r.relname);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    RETURN dropped;
END
$$;

SELECT bw_ensure_daily_partitions(t, (now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date + 7)
FROM unnest(ARRAY['elevator_status', 'elevator_event', 'elevator_stats']) AS t;

-- hours touched by ingest since the last refresh (upserted in the ingest transaction, so
-- a refresh that deletes a mark waits for the rows behind it to commit)
CREATE TABLE rollup_dirty (
    bucket      timestamptz PRIMARY KEY,
    touched_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE elevator_status_hourly (
    elevator_id        text NOT NULL,
    bucket             timestamptz NOT NULL,
    samples            bigint NOT NULL,
    running_samples    bigint NOT NULL,
    person_samples     bigint NOT NULL,
    door_open_samples  bigint NOT NULL,
    battery_samples    bigint NOT NULL,
    max_speed          real,
    avg_load_pct       double precision,
    avg_vibration_rms  double precision,
    max_vibration_rms  real,
    first_ts           timestamptz NOT NULL,
    last_ts            timestamptz NOT NULL,
    PRIMARY KEY (elevator_id, bucket)
);
CREATE INDEX elevator_status_hourly_bucket ON elevator_status_hourly (bucket);

CREATE OR REPLACE FUNCTION bw_refresh_status_hourly(from_bucket timestamptz, to_bucket timestamptz)
RETURNS bigint LANGUAGE sql AS $$
    WITH fresh AS (
        SELECT elevator_id,
               date_trunc('hour', ts) AS bucket,
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
        WHERE ts >= from_bucket AND ts < to_bucket
        GROUP BY 1, 2
    ), upserted AS (
        INSERT INTO elevator_status_hourly AS h
        SELECT * FROM fresh
        ON CONFLICT (elevator_id, bucket) DO UPDATE SET
            samples = EXCLUDED.samples,
            running_samples = EXCLUDED.running_samples,
            person_samples = EXCLUDED.person_samples,
            door_open_samples = EXCLUDED.door_open_samples,
            battery_samples = EXCLUDED.battery_samples,
            max_speed = EXCLUDED.max_speed,
            avg_load_pct = EXCLUDED.avg_load_pct,
            avg_vibration_rms = EXCLUDED.avg_vibration_rms,
            max_vibration_rms = EXCLUDED.max_vibration_rms,
            first_ts = EXCLUDED.first_ts,
            last_ts = EXCLUDED.last_ts
        RETURNING 1
    )
    SELECT count(*) FROM upserted
$$;

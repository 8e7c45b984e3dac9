-- Hourly fleet figures per district, for the city dashboard (dashboards/boards/city.py):
-- the per-elevator hourly rollup holds 168,000 rows a week for 1,000 elevators, too many
-- to sum within a panel's 100 ms (quality.md); this holds 5 rows an hour for 5 districts.
-- Same on both flavours: it reads elevator_status_hourly (a table natively, a continuous
-- aggregate on TimescaleDB) and is refreshed by the alerts component (dashboards/rollup.py).

CREATE TABLE elevator_fleet_hourly (
    bucket             timestamptz NOT NULL,
    district           text NOT NULL,        -- '(none)' where the registry has none
    elevators          integer NOT NULL,     -- elevators that reported in the hour
    samples            bigint NOT NULL,
    running_samples    bigint NOT NULL,
    person_samples     bigint NOT NULL,
    door_open_samples  bigint NOT NULL,
    refreshed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bucket, district)
);

CREATE FUNCTION bw_refresh_fleet_hourly(from_bucket timestamptz, to_bucket timestamptz)
RETURNS bigint LANGUAGE sql AS $$
    WITH fresh AS (
        SELECT h.bucket,
               coalesce(nullif(e.district, ''), '(none)') AS district,
               count(*) AS elevators,
               sum(h.samples) AS samples,
               sum(h.running_samples) AS running_samples,
               sum(h.person_samples) AS person_samples,
               sum(h.door_open_samples) AS door_open_samples
        FROM elevator_status_hourly h
        JOIN elevator e ON e.elevator_id = h.elevator_id
        WHERE h.bucket >= from_bucket AND h.bucket < to_bucket
        GROUP BY 1, 2
    ), upserted AS (
        INSERT INTO elevator_fleet_hourly AS f
            (bucket, district, elevators, samples, running_samples, person_samples, door_open_samples)
        SELECT * FROM fresh
        ON CONFLICT (bucket, district) DO UPDATE SET
            elevators = EXCLUDED.elevators,
            samples = EXCLUDED.samples,
            running_samples = EXCLUDED.running_samples,
            person_samples = EXCLUDED.person_samples,
            door_open_samples = EXCLUDED.door_open_samples,
            refreshed_at = now()
        RETURNING 1
    )
    SELECT count(*) FROM upserted
$$;

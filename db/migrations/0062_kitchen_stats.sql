-- Kitchen statistics helpers (alerts.stats): operating hours and camera online time as
-- multiranges, so "camera-hours" is an exact interval computation in SQL.

-- Does a registry day spec ('daily', 'mon-fri', 'sat,sun', 'fri-mon') include this ISO
-- weekday (1 = Monday .. 7 = Sunday)?
CREATE FUNCTION bw_days_match(spec text, isodow integer) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    names text[] := ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
    part text;
    a integer;
    b integer;
BEGIN
    spec := lower(trim(coalesce(spec, 'daily')));
    IF spec IN ('daily', '') THEN
        RETURN true;
    END IF;
    FOREACH part IN ARRAY string_to_array(spec, ',') LOOP
        part := trim(part);
        IF position('-' IN part) > 0 THEN
            a := array_position(names, split_part(part, '-', 1));
            b := array_position(names, split_part(part, '-', 2));
            IF a IS NOT NULL AND b IS NOT NULL
               AND ((a <= b AND isodow BETWEEN a AND b) OR (a > b AND (isodow >= a OR isodow <= b))) THEN
                RETURN true;
            END IF;
        ELSIF array_position(names, part) = isodow THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$$;

-- The functions below are PL/pgSQL rather than SQL so that their plans are cached for
-- the session: the statistics call them once per camera and day.

-- A kitchen's operating hours within [since, until): entries {"days", "open", "close"}
-- in the site's local time; a close at or before the open runs past midnight; no entries
-- means open around the clock.
CREATE FUNCTION bw_operating_hours(hours jsonb, tz text, since timestamptz, until timestamptz)
RETURNS tstzmultirange
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF until <= since THEN
        RETURN '{}'::tstzmultirange;
    END IF;
    IF hours IS NULL OR jsonb_typeof(hours) <> 'array' OR jsonb_array_length(hours) = 0 THEN
        RETURN tstzmultirange(tstzrange(since, until));
    END IF;
    RETURN COALESCE((
        SELECT range_agg(r) FROM (
            SELECT tstzrange(since, until) * tstzrange(
                (d + (e->>'open')::interval) AT TIME ZONE tz,
                (d + (e->>'close')::interval
                   + CASE WHEN (e->>'close')::interval <= (e->>'open')::interval
                          THEN interval '1 day' ELSE interval '0' END) AT TIME ZONE tz
            ) AS r
            FROM generate_series(((since AT TIME ZONE tz)::date - 1)::timestamp,
                                 ((until AT TIME ZONE tz)::date)::timestamp,
                                 interval '1 day') AS d,
                 jsonb_array_elements(hours) AS e
            WHERE bw_days_match(e->>'days', extract(isodow FROM d)::integer)
        ) x WHERE NOT isempty(r)
    ), '{}'::tstzmultirange);
END
$$;

-- When a camera was online within [since, until): its availability messages (each holds
-- until the next one; the state at `since` is the last message before it), less the time
-- a CAMERA_OFFLINE alert of that camera was open (connected but no frames).
CREATE FUNCTION bw_camera_online(site text, camera text, since timestamptz, until timestamptz)
RETURNS tstzmultirange
LANGUAGE plpgsql STABLE AS $$
DECLARE
    key text := site || '/' || camera;
    up tstzmultirange;
    down tstzmultirange;
BEGIN
    WITH log AS (
        (SELECT availability, received_at, id FROM availability_log
         WHERE device_kind = 'camera' AND device_key = key AND received_at < since
         ORDER BY received_at DESC, id DESC LIMIT 1)
        UNION ALL
        (SELECT availability, received_at, id FROM availability_log
         WHERE device_kind = 'camera' AND device_key = key
           AND received_at >= since AND received_at < until)
    ), timed AS (
        SELECT availability, received_at, lead(received_at) OVER (ORDER BY received_at, id) AS next_at
        FROM log
    ), spans AS (
        SELECT GREATEST(received_at, since) AS a, LEAST(COALESCE(next_at, until), until) AS b
        FROM timed WHERE availability = 'online'
    )
    SELECT range_agg(tstzrange(a, b)) INTO up FROM spans WHERE a < b;
    SELECT range_agg(tstzrange(started_at, COALESCE(resolved_at, 'infinity'))) INTO down
    FROM alert
    WHERE kind = 'kitchen' AND code = 'CAMERA_OFFLINE' AND site_id = site AND device_id = camera
      AND started_at < until AND COALESCE(resolved_at, 'infinity') > since
      AND started_at < COALESCE(resolved_at, 'infinity');
    RETURN COALESCE(up, '{}'::tstzmultirange) - COALESCE(down, '{}'::tstzmultirange);
END
$$;

CREATE FUNCTION bw_hours(m tstzmultirange) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN (SELECT COALESCE(sum(extract(epoch FROM upper(r) - lower(r))), 0)::double precision / 3600
            FROM unnest(m) AS r);
END
$$;

-- A camera's hours within [since, until): online at all, online within operating hours,
-- and the operating hours themselves.
CREATE FUNCTION bw_camera_hours(site text, camera text, hours jsonb, tz text,
                                since timestamptz, until timestamptz,
                                OUT online_h double precision,
                                OUT operating_online_h double precision,
                                OUT operating_h double precision)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    m tstzmultirange := bw_camera_online(site, camera, since, until);
    ops tstzmultirange := bw_operating_hours(hours, tz, since, until);
BEGIN
    online_h := bw_hours(m);
    operating_online_h := bw_hours(m * ops);
    operating_h := bw_hours(ops);
END
$$;

-- The same per camera and UTC day, kept by the `alerts` component's stats loop so the
-- statistics need not compute them per request (alerts.stats): a complete row covers
-- the whole day; the current day has a provisional row covering [day, until_at),
-- refreshed every few minutes.
CREATE TABLE camera_hours_daily (
    site_id             text NOT NULL,
    camera_id           text NOT NULL,
    day                 date NOT NULL,          -- from day 00:00 UTC
    until_at            timestamptz NOT NULL,   -- to here (the next midnight when complete)
    complete            boolean NOT NULL,       -- the day is over for good: never recomputed
    online_h            double precision NOT NULL,
    operating_online_h  double precision NOT NULL,
    operating_h         double precision NOT NULL,
    computed_at         timestamptz NOT NULL,
    PRIMARY KEY (site_id, camera_id, day)
);

CREATE INDEX alert_camera_offline ON alert (site_id, device_id, started_at) WHERE code = 'CAMERA_OFFLINE';
CREATE INDEX alert_event_cards ON alert_event (at) WHERE action = 'card_issued';

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

-- A kitchen's operating hours within [since, until): entries {"days", "open", "close"}
-- in the site's local time; a close at or before the open runs past midnight; no entries
-- means open around the clock.
CREATE FUNCTION bw_operating_hours(hours jsonb, tz text, since timestamptz, until timestamptz)
RETURNS tstzmultirange
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN until <= since THEN '{}'::tstzmultirange
        WHEN hours IS NULL OR jsonb_typeof(hours) <> 'array' OR jsonb_array_length(hours) = 0
            THEN tstzmultirange(tstzrange(since, until))
        ELSE COALESCE((
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
        ), '{}'::tstzmultirange)
    END
$$;

-- When a camera was online within [since, until): its availability messages (each holds
-- until the next one), less the time a CAMERA_OFFLINE alert of that camera was open (no
-- frames although the agent was connected).
CREATE FUNCTION bw_camera_online(site text, camera text, since timestamptz, until timestamptz)
RETURNS tstzmultirange
LANGUAGE sql STABLE AS $$
    WITH log AS (
        SELECT availability, received_at,
               lead(received_at) OVER (ORDER BY received_at, id) AS next_at
        FROM availability_log
        WHERE device_kind = 'camera' AND device_key = site || '/' || camera AND received_at < until
    ), spans AS (
        SELECT GREATEST(received_at, since) AS a, LEAST(COALESCE(next_at, until), until) AS b
        FROM log WHERE availability = 'online'
    ), down AS (
        SELECT range_agg(tstzrange(started_at, COALESCE(resolved_at, 'infinity'))) AS m
        FROM alert
        WHERE kind = 'kitchen' AND code = 'CAMERA_OFFLINE' AND site_id = site AND device_id = camera
          AND started_at < until AND COALESCE(resolved_at, 'infinity') > since
          AND started_at < COALESCE(resolved_at, 'infinity')
    )
    SELECT COALESCE((SELECT range_agg(tstzrange(a, b)) FROM spans WHERE a < b), '{}'::tstzmultirange)
         - COALESCE((SELECT m FROM down), '{}'::tstzmultirange)
$$;

CREATE FUNCTION bw_hours(m tstzmultirange) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
    SELECT COALESCE(sum(extract(epoch FROM upper(r) - lower(r))), 0)::double precision / 3600
    FROM unnest(m) AS r
$$;

CREATE INDEX alert_camera_offline ON alert (site_id, device_id, started_at) WHERE code = 'CAMERA_OFFLINE';
CREATE INDEX alert_event_cards ON alert_event (at) WHERE action = 'card_issued';

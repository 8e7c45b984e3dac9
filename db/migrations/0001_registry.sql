-- Registry: firms, sites (kitchens and buildings), cameras, elevators (interfaces.md, HTTP).

CREATE TABLE firm (
    firm_id         text PRIMARY KEY CHECK (firm_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    name            text NOT NULL DEFAULT '',
    credit_rating   text CHECK (credit_rating IN ('A', 'B', 'C', 'D')),
    credit_score    numeric(5, 2) CHECK (credit_score BETWEEN 0 AND 100),
    webhook_url     text,
    contact         jsonb NOT NULL DEFAULT '{}',
    registered_by   text NOT NULL DEFAULT 'api' CHECK (registered_by IN ('api', 'import', 'auto')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE site (
    site_id          text PRIMARY KEY CHECK (site_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    kind             text NOT NULL DEFAULT 'kitchen' CHECK (kind IN ('kitchen', 'building')),
    name             text NOT NULL DEFAULT '',
    -- the business running a kitchen, or the user unit (使用单位) of a building's elevators
    operator         text NOT NULL DEFAULT '',
    address          text NOT NULL DEFAULT '',
    district         text NOT NULL DEFAULT '',
    timezone         text NOT NULL DEFAULT 'Asia/Shanghai',
    -- [{"days": "mon-sun", "open": "06:00", "close": "22:00"}, ...] in the site's timezone
    operating_hours  jsonb NOT NULL DEFAULT '[]',
    night_hours      jsonb NOT NULL DEFAULT '{"start": "22:00", "end": "06:00"}',
    management_score numeric(5, 2) CHECK (management_score BETWEEN 0 AND 100),
    extra            jsonb NOT NULL DEFAULT '{}',
    registered_by    text NOT NULL DEFAULT 'api' CHECK (registered_by IN ('api', 'import', 'auto')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX site_district ON site (district);

CREATE TABLE camera (
    site_id        text NOT NULL REFERENCES site ON DELETE CASCADE,
    camera_id      text NOT NULL CHECK (camera_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    name           text NOT NULL DEFAULT '',
    -- kitchens.md work areas; never changing rooms or toilets
    work_area      text CHECK (work_area IN ('cutting', 'cooking', 'serving', 'washing',
                                             'special_room', 'storage', 'other')),
    is_public      boolean NOT NULL DEFAULT false,
    zones          jsonb NOT NULL DEFAULT '[]',
    schedules      jsonb NOT NULL DEFAULT '{}',
    settings       jsonb NOT NULL DEFAULT '{}',
    registered_by  text NOT NULL DEFAULT 'api' CHECK (registered_by IN ('api', 'import', 'auto')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, camera_id)
);

CREATE TABLE elevator (
    elevator_id            text PRIMARY KEY CHECK (elevator_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    firm_id                text REFERENCES firm,
    standby_firm_id        text REFERENCES firm,
    site_id                text REFERENCES site,
    address                text NOT NULL DEFAULT '',
    district               text NOT NULL DEFAULT '',
    user_unit              text NOT NULL DEFAULT '',
    floor_min              integer,
    floor_max              integer,
    rated_speed            real CHECK (rated_speed > 0 AND rated_speed <= 30),
    install_year           integer CHECK (install_year BETWEEN 1900 AND 2100),
    inspection_valid_until date,
    -- per-elevator overrides of the fault thresholds (elevators.md: every threshold is a default)
    thresholds             jsonb NOT NULL DEFAULT '{}',
    registered_by          text NOT NULL DEFAULT 'api' CHECK (registered_by IN ('api', 'import', 'auto')),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CHECK (floor_min IS NULL OR floor_max IS NULL OR floor_min <= floor_max)
);
CREATE INDEX elevator_firm ON elevator (firm_id);
CREATE INDEX elevator_site ON elevator (site_id);
CREATE INDEX elevator_district ON elevator (district);

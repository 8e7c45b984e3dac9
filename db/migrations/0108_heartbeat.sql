-- What each running replica says about its components (brightwatch/health.py): written
-- every heartbeat interval, read by the API's /healthz to show the whole system. A clean
-- stop deletes its own rows; a row left behind by a process that died goes silent
-- (updated_at ages) and is deleted after the forget interval.
--
-- `component` is a progress source (`elevators`, `ingest`, `alerts.outbox`, ...),
-- `replica` the instance (BW_INSTANCE), unique per running copy of a component.

CREATE TABLE component_heartbeat (
    component            text        NOT NULL,
    replica              text        NOT NULL,
    host                 text        NOT NULL,
    pid                  integer     NOT NULL,
    state                text        NOT NULL CHECK (state IN ('ok', 'stuck')),
    reason               text,
    last_good_at         timestamptz,
    backlog              bigint      NOT NULL DEFAULT 0,
    consecutive_failures integer     NOT NULL DEFAULT 0,
    detail               jsonb       NOT NULL DEFAULT '{}',
    started_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, replica)
);

-- City scale (issue 16): the fleet rollup's own recompute marks, as on TimescaleDB (the
-- columnstore settings of the TimescaleDB variant have no native counterpart: daily
-- partitions are dropped past retention and never compressed).

-- hours whose per-elevator rollup was recomputed (a late sample, a replay) and whose
-- district sums must follow; written by db/timeseries.refresh_rollups, taken by
-- dashboards/rollup.py
CREATE TABLE fleet_rollup_dirty (
    bucket      timestamptz PRIMARY KEY,
    touched_at  timestamptz NOT NULL DEFAULT now()
);

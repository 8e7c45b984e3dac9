-- City-scale TimescaleDB (issue 16): the columnstore option names of TimescaleDB >= 2.18
-- (0002 used the compression names deprecated in 2.18.0; `brightwatch migrate` refuses
-- versions before 2.19.0), and the fleet rollup's own recompute marks.
--
-- The chunk interval, the columnstore policy's `after` and the retention depend on the
-- configured fleet and are applied by `brightwatch migrate` from the settings
-- (db/timescale.py), not here: a migration cannot know the fleet.

ALTER TABLE elevator_status SET (
    timescaledb.enable_columnstore = true,
    timescaledb.segmentby = 'elevator_id',
    timescaledb.orderby = 'ts DESC, seq DESC'
);
ALTER TABLE elevator_event SET (
    timescaledb.enable_columnstore = true,
    timescaledb.segmentby = 'elevator_id',
    timescaledb.orderby = 'ts DESC, seq DESC'
);
ALTER TABLE elevator_stats SET (
    timescaledb.enable_columnstore = true,
    timescaledb.segmentby = 'elevator_id',
    timescaledb.orderby = 'ts DESC, seq DESC'
);

-- hours whose per-elevator rollup was recomputed (a late sample, a replay) and whose
-- district sums must follow; written by db/timeseries.refresh_rollups, taken by
-- dashboards/rollup.py
CREATE TABLE fleet_rollup_dirty (
    bucket      timestamptz PRIMARY KEY,
    touched_at  timestamptz NOT NULL DEFAULT now()
);

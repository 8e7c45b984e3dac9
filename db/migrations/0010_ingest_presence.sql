-- Ingest: what the worker needs beyond the foundation's telemetry tables.

-- device time of last_status, so a late or replayed status never replaces a newer one
ALTER TABLE device_presence ADD COLUMN last_status_at timestamptz;

-- every message of a device updates its presence row: leave room on each page so the
-- update stays a HOT update (no indexed column changes) instead of a new index entry
-- (measured: 70 left a third of the updates non-HOT, 50 none)
ALTER TABLE device_presence SET (fillfactor = 50);

-- ... and vacuum it often: it is rewritten many times a minute, never grows
ALTER TABLE device_presence SET (autovacuum_vacuum_scale_factor = 0.02,
                                 autovacuum_vacuum_cost_delay = 0);

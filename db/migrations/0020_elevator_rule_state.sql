-- Rule state of the elevator fault engine (elevators/), one row per elevator.
-- `state` is elevators.state.ElevatorState in MessagePack: feature start times (the timers),
-- active rules, what the alert core was told, seq bookkeeping. A restarted rules worker
-- reads it back and carries on (elevators.md: a restart must not reset a 30 s trapped
-- timer or fire it twice).

CREATE TABLE elevator_rule_state (
    elevator_id      text PRIMARY KEY CHECK (elevator_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    state            bytea NOT NULL,
    version          integer NOT NULL,
    -- the next deadline in server time (device deadline + clock offset), for the ticker
    due_at           timestamptz,
    -- server receive time minus device ts: the terminal's clock offset estimate, ms
    clock_offset_ms  bigint,
    updated_at       timestamptz NOT NULL DEFAULT now()
)
-- rewritten thousands of times a second: room on each page keeps updates HOT (no index
-- on due_at for the same reason; the worker reads all deadlines once at start-up)
WITH (fillfactor = 50);

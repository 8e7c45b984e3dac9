-- On-demand maintenance plans (elevators.md, 按需维保): every computation of an
-- elevator's plan is kept, with everything it used, so a supervisor can see why an
-- interval changed; the latest row of an elevator is its current plan.

CREATE TABLE maintenance_plan (
    id               bigserial PRIMARY KEY,
    elevator_id      text NOT NULL CHECK (elevator_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    computed_at      timestamptz NOT NULL,
    -- what started the computation: 'daily', a fault code (P1/P2 alert), 'override', 'manual'
    reason           text NOT NULL,
    eligible         boolean NOT NULL,
    -- [{"check", "value", "required", "ok"}, ...]
    eligibility      jsonb NOT NULL DEFAULT '[]',
    risk_score       double precision CHECK (risk_score BETWEEN 0 AND 1),
    -- [{"name", "value", "weight", "contribution", "inputs", "explain", "missing"}, ...]
    factors          jsonb NOT NULL DEFAULT '[]',
    interval_days    integer NOT NULL CHECK (interval_days > 0),
    interval_reason  text NOT NULL DEFAULT '',
    next_due_at      timestamptz,
    -- {"quarterly": {"due_at", "last_done_at"}, "half_yearly": ..., "yearly": ...}
    calendar         jsonb NOT NULL DEFAULT '{}',
    -- the planner's whole input, the overrides applied and the tickets asked for
    inputs           jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX maintenance_plan_latest ON maintenance_plan (elevator_id, computed_at DESC, id DESC);
CREATE INDEX maintenance_plan_due ON maintenance_plan (next_due_at);

-- Recomputations asked for outside the daily pass (a P1/P2 fault, an operator), written
-- by the alert-store reactor in the fault's own transaction and taken by the scheduler of
-- the elevators component, so the alert path does no planning work.
CREATE TABLE maintenance_trigger (
    id            bigserial PRIMARY KEY,
    elevator_id   text NOT NULL,
    reason        text NOT NULL,
    alert_id      bigint,
    requested_at  timestamptz NOT NULL,
    done_at       timestamptz
);
CREATE INDEX maintenance_trigger_pending ON maintenance_trigger (id) WHERE done_at IS NULL;

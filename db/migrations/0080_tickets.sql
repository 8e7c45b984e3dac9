-- Tickets (elevators.md, Tickets): rescue and repair tickets opened from P1/P2 alerts,
-- maintenance tickets opened by the planner, their SLA clocks (server time, kept here so
-- they survive restarts), every transition (who, when, from, to), the photos and
-- documents firms attach (files under BW_DATA_DIR with content hashes), and the standby
-- firms per district that take an unaccepted rescue.

CREATE TABLE ticket (
    id             bigserial PRIMARY KEY,
    type           text NOT NULL CHECK (type IN ('rescue', 'repair', 'on_demand', 'quarterly',
                                                 'half_yearly', 'yearly')),
    state          text NOT NULL CHECK (state IN ('created', 'dispatched', 'accepted', 'arrived',
                       'escalated', 'reassigned', 'completed', 'verified', 'false_alarm',
                       'cancelled')),
    -- no foreign key: a ticket outlives registry edits, and an alert of an elevator the
    -- registry does not know yet still opens one (without a firm)
    elevator_id    text NOT NULL,
    firm_id        text REFERENCES firm ON DELETE SET NULL,
    site_id        text,
    address        text NOT NULL DEFAULT '',
    district       text NOT NULL DEFAULT '',
    user_unit      text NOT NULL DEFAULT '',
    -- catalogue code of the fault (TRAPPED_OUT_ZONE, ...) or the planner's reason (DUE_DATE, ...)
    trigger        text NOT NULL,
    alert_id       bigint REFERENCES alert ON DELETE SET NULL,
    alert_ids      bigint[] NOT NULL DEFAULT '{}',   -- every alert that fed this ticket
    plan_id        bigint,                           -- maintenance_plan row (planner), if any
    confirmed_at   timestamptz,                      -- the fault's confirmation (alert start)
    due_at         timestamptz,                      -- maintenance: the due date
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    dispatched_at  timestamptz,
    accepted_at    timestamptz,
    accepted_by    text,
    arrived_at     timestamptz,
    arrival_proof  text CHECK (arrival_proof IN ('check_in', 'telemetry')),
    escalated_at   timestamptz,
    reassigned_at  timestamptz,
    completed_at   timestamptz,
    completed_by   text,
    verified_at    timestamptz,
    verified_by    text,
    closed_at      timestamptz,                      -- verified, false alarm or cancelled
    result         text,
    notes          text,
    -- maintenance items: [{"code": ..., "name": ..., "result": "ok" | ...}]
    items          jsonb NOT NULL DEFAULT '[]',
    -- firms that held the ticket before a reassignment, oldest first
    previous_firms text[] NOT NULL DEFAULT '{}',
    evidence       jsonb NOT NULL DEFAULT '{}'
);
-- one open ticket per elevator fault, one open maintenance ticket per elevator and type
CREATE UNIQUE INDEX ticket_open_fault ON ticket (elevator_id, type, trigger)
    WHERE type IN ('rescue', 'repair')
      AND state IN ('created', 'dispatched', 'accepted', 'arrived', 'escalated', 'reassigned');
CREATE UNIQUE INDEX ticket_open_maintenance ON ticket (elevator_id, type)
    WHERE type IN ('on_demand', 'quarterly', 'half_yearly', 'yearly')
      AND state IN ('created', 'dispatched', 'accepted', 'arrived', 'escalated', 'reassigned');
CREATE INDEX ticket_firm ON ticket (firm_id, id DESC);
CREATE INDEX ticket_elevator ON ticket (elevator_id, id DESC);
CREATE INDEX ticket_state ON ticket (state, id DESC);
CREATE INDEX ticket_alert ON ticket (alert_id);
CREATE INDEX ticket_confirmed ON ticket (type, confirmed_at);
CREATE INDEX ticket_due ON ticket (type, due_at);

-- every transition and action on a ticket
CREATE TABLE ticket_event (
    id          bigserial PRIMARY KEY,
    ticket_id   bigint NOT NULL REFERENCES ticket ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    from_state  text,
    to_state    text,
    firm_id     text,
    note        text,
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ticket_event_ticket ON ticket_event (ticket_id, id);

-- SLA deadlines (elevators.md, the table of steps): one row per step and firm; met when
-- the step is reached in time or late, breached (once, with its own alert) when the
-- deadline passes first, voided when the ticket leaves the path (reassigned, cancelled)
CREATE TABLE ticket_clock (
    id               bigserial PRIMARY KEY,
    ticket_id        bigint NOT NULL REFERENCES ticket ON DELETE CASCADE,
    kind             text NOT NULL DEFAULT 'sla' CHECK (kind IN ('sla')),
    step             text NOT NULL,
    firm_id          text,
    started_at       timestamptz NOT NULL,
    due_at           timestamptz NOT NULL,
    breached_at      timestamptz,
    breach_alert_id  bigint REFERENCES alert ON DELETE SET NULL,
    met_at           timestamptz,
    voided_at        timestamptz
);
CREATE INDEX ticket_clock_ticket ON ticket_clock (ticket_id, id);
CREATE INDEX ticket_clock_due ON ticket_clock (due_at)
    WHERE breached_at IS NULL AND met_at IS NULL AND voided_at IS NULL;

CREATE TABLE ticket_attachment (
    id            bigserial PRIMARY KEY,
    ticket_id     bigint NOT NULL REFERENCES ticket ON DELETE CASCADE,
    path          text NOT NULL,            -- relative to BW_DATA_DIR
    sha256        text NOT NULL,            -- of the file's bytes; checked on every read
    content_type  text NOT NULL,
    size_bytes    integer NOT NULL,
    original_name text NOT NULL DEFAULT '',
    note          text,
    uploaded_by   text NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX ticket_attachment_ticket ON ticket_attachment (ticket_id, id);

-- the firms on standby for a district, tried in rank order after the elevator's own
-- standby firm when a rescue is not accepted in time (elevators.md: nearest other firm)
CREATE TABLE district_standby_firm (
    district  text NOT NULL,
    rank      integer NOT NULL DEFAULT 1 CHECK (rank >= 1),
    firm_id   text NOT NULL REFERENCES firm ON DELETE CASCADE,
    PRIMARY KEY (district, rank),
    UNIQUE (district, firm_id)
);

-- runs an elevator made since a time: the growth of its run counter (stats messages),
-- or, without counters, the starts of runs in its status samples
CREATE FUNCTION bw_runs_since(eid text, since timestamptz) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT GREATEST(
        COALESCE(
            (SELECT max(run_count) FROM elevator_stats WHERE elevator_id = eid AND ts >= since)
            - COALESCE(
                (SELECT run_count FROM elevator_stats WHERE elevator_id = eid AND ts < since
                 ORDER BY ts DESC LIMIT 1),
                (SELECT min(run_count) FROM elevator_stats WHERE elevator_id = eid AND ts >= since)),
            0),
        (SELECT count(*) FROM (
            SELECT run_state, lag(run_state) OVER (ORDER BY ts, seq) AS prev
            FROM elevator_status WHERE elevator_id = eid AND ts >= since
        ) s WHERE run_state = 'running' AND prev IS DISTINCT FROM 'running'))
$$;

-- Kitchen review and rectification (kitchens.md): one review per kitchen alert that
-- needs a human decision, the rectifications operators submit (files with hashes), and
-- the credit-point ledger per kitchen. Every step is also in alert_event (the history).

CREATE TABLE review (
    id                       bigserial PRIMARY KEY,
    alert_id                 bigint NOT NULL UNIQUE REFERENCES alert ON DELETE CASCADE,
    fingerprint              text NOT NULL,
    site_id                  text NOT NULL,
    camera_id                text NOT NULL,
    district                 text NOT NULL DEFAULT '',
    code                     text NOT NULL,
    tier                     text NOT NULL CHECK (tier IN ('T1', 'T2', 'T3')),
    state                    text NOT NULL CHECK (state IN ('pending_review', 'dismissed', 'notified',
                                 'rectifying', 'evidence_submitted', 'verifying', 'escalated', 'closed')),
    detected_at              timestamptz NOT NULL,   -- the alert's start (camera time)
    created_at               timestamptz NOT NULL,   -- entered the queue (server time)
    updated_at               timestamptz NOT NULL,
    presented_at             timestamptz,            -- first shown at the head of the queue
    decision                 text CHECK (decision IN ('confirm', 'dismiss')),
    decided_at               timestamptz,
    decided_by               text,
    decision_note            text,
    decision_seconds         double precision CHECK (decision_seconds >= 0),
    -- reviewer's corrected boxes: {"<evidence_id>": [{"label": ..., "box": [x1, y1, x2, y2]}]}
    corrected_boxes          jsonb,
    notified_at              timestamptz,
    plan_due_at              timestamptz,
    plan_submitted_at        timestamptz,
    plan_note                text,
    plan_overdue_at          timestamptz,
    fix_due_at               timestamptz,
    evidence_submitted_at    timestamptz,
    rectified_at             timestamptz,            -- submission time of the accepted evidence
    verification_started_at  timestamptz,
    verified_at              timestamptz,
    verified_by              text,
    escalated_at             timestamptz,
    card                     text CHECK (card IN ('yellow', 'red', 'inspection')),
    card_at                  timestamptz,
    closed_at                timestamptz,
    closed_by                text,
    recurrences              integer NOT NULL DEFAULT 0,
    points                   integer NOT NULL DEFAULT 0,
    points_restored          integer NOT NULL DEFAULT 0,
    next_check_at            timestamptz
);
CREATE INDEX review_queue ON review (created_at, id) WHERE state = 'pending_review';
CREATE INDEX review_site ON review (site_id, created_at DESC);
CREATE INDEX review_fingerprint ON review (fingerprint, created_at DESC);
CREATE INDEX review_due ON review (next_check_at) WHERE next_check_at IS NOT NULL;
CREATE INDEX review_decided ON review (decided_at) WHERE decided_at IS NOT NULL;

CREATE TABLE rectification (
    id             bigserial PRIMARY KEY,
    review_id      bigint NOT NULL REFERENCES review ON DELETE CASCADE,
    submitted_at   timestamptz NOT NULL,
    submitted_by   text NOT NULL,
    note           text NOT NULL DEFAULT '',
    result         text CHECK (result IN ('accepted', 'rejected')),
    decided_at     timestamptz,
    decided_by     text,
    decision_note  text
);
CREATE INDEX rectification_review ON rectification (review_id, id);

CREATE TABLE rectification_file (
    id                 bigserial PRIMARY KEY,
    rectification_id   bigint NOT NULL REFERENCES rectification ON DELETE CASCADE,
    path               text NOT NULL,        -- relative to BW_DATA_DIR
    sha256             text NOT NULL,        -- checked on every read
    size_bytes         integer NOT NULL,
    content_type       text NOT NULL,
    original_name      text NOT NULL DEFAULT ''
);
CREATE INDEX rectification_file_rect ON rectification_file (rectification_id);

-- Fuzhou: each confirmed violation costs credit points, restored after compliance
CREATE TABLE credit_ledger (
    id         bigserial PRIMARY KEY,
    site_id    text NOT NULL,
    review_id  bigint REFERENCES review ON DELETE SET NULL,
    at         timestamptz NOT NULL,
    delta      integer NOT NULL,
    reason     text NOT NULL,
    actor      text NOT NULL
);
CREATE INDEX credit_ledger_site ON credit_ledger (site_id, at);

-- The kitchens list (api/routes/kitchens.py) shows each kitchen's record: open cases and
-- their cards, pending reviews, the last confirmed violation and the credit points. Read
-- through review_site, each of those touched every case the kitchen ever had (closed ones
-- included), scattered over the table: about 5 ms of PostgreSQL CPU per page of 40
-- kitchens on 30 days of history, growing with the history. These partial indexes hold
-- only the rows each figure needs, with the columns it reads, so each is an index-only
-- scan whose cost follows the open work, not the history.

-- open cases (alerts.review.workflow.OPEN_CASE; tests/api/test_kitchen_list.py checks the
-- two lists agree) and their cards
CREATE INDEX review_site_open ON review (site_id) INCLUDE (card)
    WHERE state IN ('notified', 'rectifying', 'evidence_submitted', 'verifying', 'escalated');

-- the review queue per kitchen (review_queue orders the whole queue, not by site)
CREATE INDEX review_site_pending ON review (site_id) WHERE state = 'pending_review';

-- the last confirmed violation: one step down the index
CREATE INDEX review_site_confirmed ON review (site_id, detected_at) WHERE decision = 'confirm';

-- credit points are the sum of the kitchen's ledger, which only grows
CREATE INDEX credit_ledger_site_delta ON credit_ledger (site_id) INCLUDE (delta);

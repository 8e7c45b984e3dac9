-- Evidence awaited by the vision worker: edge detections that raised a violation before
-- their evidence frame came (vision.store.Pending in MessagePack, NULL: none). Saved in the
-- transaction that raised the alert, so a restart in between still attaches the frame
-- when it arrives instead of leaving the alert without evidence.

ALTER TABLE vision_rule_state ADD COLUMN pending bytea;

-- Every object the detectors saw in an evidence frame, beside the boxes that raised its
-- code (`boxes`): [{"label": "person", "score": 0.88, "box": [x1, y1, x2, y2], "track": 4,
-- "model": "yolo11n@1"}, ...] in pixels. NULL: not recorded (older evidence, or a frame
-- that was not looked at). Read by `brightwatch vision export-reviews`, so that a
-- dismissed violation does not turn the persons in its picture into background.
ALTER TABLE evidence ADD COLUMN context jsonb;

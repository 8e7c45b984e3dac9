-- Rule state of the kitchen vision engine (vision/rules/), one row per camera.
-- `state` is vision.rules.state.CameraState in MessagePack: tracks, the N-of-M windows and
-- run start times of each violation condition (the timers), which episodes have raised
-- their alert, last frame / last seen times for CAMERA_OFFLINE. A restarted vision worker
-- reads it back, so an episode that already raised its alert does not raise it again.

CREATE TABLE vision_rule_state (
    site_id          text NOT NULL,
    camera_id        text NOT NULL,
    state            bytea NOT NULL,
    version          integer NOT NULL,
    -- server receive time minus capture time: the camera clock's offset estimate, ms
    clock_offset_ms  bigint,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, camera_id)
);

-- retention sweeps evidence by its expiry
CREATE INDEX evidence_retained_until ON evidence (retained_until) WHERE retained_until IS NOT NULL;

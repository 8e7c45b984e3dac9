"""Kitchen violation rules as pure functions over a camera's state (no I/O, no clock).

`engine.step(state, observation, config) -> (state, events)` for every frame, edge
detections message or availability change of one camera, and `engine.tick(state, config,
now_ms)` for what time alone decides (CAMERA_OFFLINE after silence, long rules whose last
frame still holds). Time is the camera's capture time in epoch ms; timers are data in the
state (`since`, `last_seen`), so the state is saved after each batch and a restarted
worker carries on without firing twice.

- `zones`: polygons in fractions of the picture, the bottom-centre rule.
- `schedule`: operating, night and working hours in the site's time zone.
- `tracker`: a small IoU / centroid multi-object tracker (tracks are data).
- `confirm`: N of the last M frames + minimum duration + median score, one episode at a time.
- `assess`: what one frame shows (which violation conditions hold, with the boxes).
- `config`: the resolved per-camera configuration the engine reads.

May import: contract, the standard library, msgspec.
"""

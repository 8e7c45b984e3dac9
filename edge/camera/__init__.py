"""The camera agent (`brightwatch edge camera`): a kitchen camera's frames over MQTT.

- `gate`: motion gating, a pure step over state (small grey image, running background,
  keep-alive deadline as data), so a static scene costs almost nothing.
- `source`: frames from a file (looped), an RTSP URL, a device or a synthetic scene,
  sampled at the agent's rate, reopened with back-off when the source fails; decoded as
  little as the gate needs (reduced MJPEG decode, a sub-stream for the gate, the full
  picture only for the frames sent).
- `scenes`: synthetic kitchen scenes (demo, tests, benchmark) drawn with OpenCV.
- `frames`: JPEG encoding and the detections payload of interfaces.md.
- `agent`: the loop: sample, gate, encode (and with `--detect` run the detector at the
  edge), spool, forward (`edge.spool`, `edge.forwarder`), availability and will.

May import: contract, edge, the detector interface of `vision.detector` (detectors are
passed in, loaded by the shell), numpy, OpenCV, paho-mqtt, the standard library.
"""

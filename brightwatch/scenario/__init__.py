"""The demo's scenario player: faults and violations played into a running demo, so that
alerts, rescue tickets, review items and a rectification case appear by themselves.

- `elevators`: faults the simulated terminals act out on request (a trapped passenger,
  a door that will not close, overspeed, an open safety circuit, a power cut), through a
  mailbox each simulated car looks into whenever it stands idle;
- `kitchens`: clips the demo's camera agents play instead of their drawn scene (unmasked
  faces assembled from ../shared/datasets/face_mask, a phone call, the shared rat video
  sent as edge detections by the storeroom camera);
- `player`: the schedule (a trapped passenger first, then one scenario every few
  minutes, in a fixed order), and the control topic through which
  `brightwatch demo scenario NAME` injects one named scenario into a running demo.

The shell of the demo (`brightwatch.demo`) wires it; nothing else depends on it.
"""

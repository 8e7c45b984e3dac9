"""Edge agents that run at the site: simulated elevator terminals and the camera agent.

They publish over MQTT and keep a local spool while the broker is unreachable: `spool`
(SQLite store-and-forward) and `forwarder` (MQTT connections publishing the spool in
order) serve both `elevator_sim/` and `camera/`; `settings` holds their typed settings.

May import: contract, mqttlink (the broker address), the detector interface and backends
of vision.detector (the camera agent's edge inference), paho-mqtt, OpenCV, numpy, the
standard library; never the service's database or alert packages.
"""

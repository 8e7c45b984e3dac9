"""Edge agents that run at the site: simulated elevator terminals and the camera agent.

They publish over MQTT and keep a local spool while the broker is unreachable.

May import: contract, paho-mqtt, OpenCV, the standard library; never the service's
database or alert packages.
"""

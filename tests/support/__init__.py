"""Helpers shared by the tests: waiting, collecting MQTT messages, fresh databases."""

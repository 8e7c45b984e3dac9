"""Ingest: MQTT device messages into PostgreSQL/TimescaleDB rows (built next)."""

"""Grafana dashboards and provisioning as code (built in a later issue)."""

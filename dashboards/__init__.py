"""Grafana dashboards and provisioning as code.

Each dashboard is a Python description (`dashboards/boards/*.py`): panels with their SQL,
the shape of the rows each panel expects, template variables. `render` turns them into
Grafana JSON and provisioning files (committed under `dashboards/json` and
`dashboards/provisioning`, mounted by compose.yaml); `macros` expands Grafana's SQL
macros the way Grafana's PostgreSQL datasource does, so tests and benchmarks run every
panel's query against a real database; `sample_data` fills one with generated history.

May import: contract (codes), psycopg (sample data only). Knows nothing of the service.
"""

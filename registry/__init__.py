"""The device registry: firms, sites, cameras and elevators.

The one room where devices are registered: validated records (`models`), their
idempotent upserts (`store`) and bulk import from TOML or CSV files (`importer`), shared
by the admin HTTP endpoints and `brightwatch registry import`, and the auto-registration
of devices first seen on the broker (`auto`, used by ingest and the vision worker).

May import: contract, psycopg, pydantic, the standard library.
"""

"""The device registry: firms, sites, cameras and elevators.

Validated records (`models`), their idempotent upserts (`store`) and bulk import from
TOML or CSV files (`importer`), shared by the admin HTTP endpoints and
`brightwatch registry import`.

May import: contract, psycopg, pydantic, the standard library.
"""

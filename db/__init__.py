"""Database access shared by every component: connections, migrations, time-series upkeep.

The schema lives in numbered SQL files in `db/migrations/` applied by `brightwatch
migrate`. A file named `NNNN_name.sql` applies everywhere; a pair
`NNNN_name.timescale.sql` / `NNNN_name.native.sql` applies the variant of the database's
flavour, decided once at the first migration: `timescale` when the TimescaleDB extension
can be created, `native` (declarative range partitioning and rollup tables kept by the
service) otherwise. Both flavours expose the same table and view names.

May import: psycopg, prometheus-client, contract, the standard library. Domain packages
keep their own SQL next to their adapters; this package owns the schema, the time-series
upkeep, the dead letters every consumer writes (`deadletters`) and which
database errors are transient (`errors`).
"""

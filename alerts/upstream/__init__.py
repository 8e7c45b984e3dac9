"""Upstream platforms' fault numbering (elevators.md: keep stable string codes inside and
a mapping table per upstream platform).

Each platform is a TOML file in this folder (`gb2017.toml`: the 2017-era numeric codes),
registered by its `name`, the way detector backends are registered by a key: adding a
platform is adding a file (or passing one with `brightwatch alerts export --mapping`).
`registry` loads and checks them; `export` writes alerts with the upstream code.

May import: contract, psycopg (the export), the standard library.
"""

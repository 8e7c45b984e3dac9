"""brightwatch: the imperative shell.

The command line, typed settings, embedded services for the demo and tests, and the
wiring that starts the components (ingest, elevators, vision, alerts, api). This is the
only package that imports all the others; none of them imports it except for the
settings model and logging set-up.
"""

__version__ = "0.1.0"

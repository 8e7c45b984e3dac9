"""Simulated elevator terminals: a seeded car model, fault injection, publishing.

`model.Car` is the pure model (trips, doors, passengers, the terminal's reporting),
`faults` the faults and look-alikes it can inject, `scenarios` the scenario files,
`trace` the trace format the rule tests read, `agent` the terminals at work for
`brightwatch edge elevator-sim`, on the shared store-and-forward side (`edge.spool`,
`edge.forwarder`).

May import: contract, msgspec, paho-mqtt, the standard library (never the service's packages).
"""

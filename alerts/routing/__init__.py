"""Routing of alerts to receivers: matchers, the routing tree, grouping, silences,
inhibition and escalation chains.

The decisions are pure functions over plain data (`matchers`, `tree`, `mute`,
`grouping`, `escalation`, `notification`); `pipeline` and `silences` are the thin SQL
adapters that load state, call them, and write the outcome (groups, notifications,
deliveries, history rows) in one transaction. Timing comes from the clock passed in,
so tests drive it deterministically and nothing sleeps.

May import: alerts.model, alerts.delivery, alerts.channels, contract, the standard
library, psycopg (adapters only).
"""

"""Elevators: what is wrong with an elevator, decided from its terminal's messages.

The fault rules of ../shared/spec/elevators.md as a pure engine
(`step(state, message, settings) -> (state, events)`), the rules worker that feeds it
and turns its events into alerts, and the on-demand maintenance planner.

May import: contract, alerts (signals and store), db, mqttlink, prometheus-client, the
standard library.
"""

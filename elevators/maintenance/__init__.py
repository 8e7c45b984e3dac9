"""On-demand maintenance (按需维保, elevators.md): how often each elevator is serviced.

- `planner.plan(inputs, policy, today) -> Plan`: pure; eligibility, the risk score with
  every factor explained, the interval, overrides, the statutory calendar and the tickets
  the plan asks for.
- `vibration`: the vibration health indicator (measured on the Milan trips of one lift,
  bench.milan; the date confound there is stated in its docstring).
- `baseline`: an indicator against the elevator's own earlier known-good values (robust
  z-score, median/MAD; "not enough baseline" below `health_min_baseline_days`).
- `doors`: the door-cycle time health indicator (a day's median door cycle).
- `gather`: reads a `PlanInputs` from the database (registry, alerts, stats, status,
  tickets); `store`: plans (every computation kept) and recompute triggers.
- `scheduler`: the daily pass and the fault triggers, run inside the `elevators`
  component; opens maintenance tickets at due date minus 3 days.
- `reactor`: the alert-store reactor that asks for a recomputation on P1/P2 faults.
- `section`: the plan, explained, for the elevator detail (API and console).

May import: contract, elevators.rules, alerts (tickets; routing, store and model for the
withdrawal notice and the fault reactor), db, numpy, the standard library.
"""

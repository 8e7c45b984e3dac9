"""Tickets: rescue, repair and maintenance tickets with SLA clocks (elevators.md, Tickets).

A P1 elevator alert opens a rescue ticket and a P2 alert a repair ticket, in the alert's
own transaction (the `TicketDesk` reactor on the alert store), dispatched at once to the
elevator's firm; the maintenance planner opens maintenance tickets through
`TicketDesk.open_maintenance`. Firms and supervisors move tickets through the states of
`lifecycle` (a pure module: the transition table, completion rules, the SLA steps as
data, escalation); the `alerts` component's ticket clock marks breached deadlines (each
breach an alert of its own, `TICKET_SLA_BREACH`), escalates and reassigns unaccepted
rescues to a standby firm, proves maintenance arrival from telemetry (inspection mode)
and verifies completed work. Every event goes out on `bw/tickets/{firm_id}/{ticket_id}`
(outbox) and to the firm's webhook (delivery queue).

May import: contract, db, alerts' core (store, outbox, delivery), the standard library.
"""

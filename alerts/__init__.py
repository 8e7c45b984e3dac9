"""Alerts: what happens after a rule decides something is wrong.

The core (this issue's foundation) is the alert lifecycle: a pure function deciding how
a raise or clear signal, or a person's acknowledge/resolve, changes an alert
(`lifecycle`), its SQL adapter that applies the decision with an audit trail and an
outgoing MQTT message in one transaction (`store`), and the relay that publishes those
messages (`outbox`). Notifications, routing, silences, tickets and the kitchen review
loop build on `store.AlertStore` through reactors: functions called inside the same
transaction for every change. `evidence/` is the one room for the files a case rests on:
it stores, hashes, serves and expires violation frames, rectification files and ticket
attachments (vision decides which frames become evidence).

May import: contract, db, mqttlink, the standard library; numpy and OpenCV in `evidence`
(the annotated copy). Rule engines (elevators, vision) call into `alerts`; `alerts` never
imports them, nor `api` or `brightwatch`.
"""

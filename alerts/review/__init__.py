"""Kitchen review and rectification (kitchens.md, Review and rectification).

pending_review -> confirm / dismiss -> notified -> rectifying -> evidence_submitted ->
verifying -> closed (or back to rectifying), with tier deadlines, overdue escalation
(yellow card -> red card -> on-site inspection) and credit points per kitchen.

`workflow` is the pure state machine (transitions, deadlines, cards, points); `store`
is its SQL adapter (the review reactor, the queue, decisions, uploads); `clock` is the
overdue loop; `export` writes review decisions as a YOLO dataset.

May import: alerts (model, store, routing), contract, db, the standard library.
"""

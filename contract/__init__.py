"""The external contract of ../shared/spec/interfaces.md, as pure code.

Identifiers, MQTT topic names, device payload schemas, the fault and violation
catalogues and the alert message that leaves the service. Everything that talks to a
device, an integrator or a dashboard goes through these definitions, so the contract
lives in one place.

May import: the standard library and msgspec. Nothing here knows about MQTT clients,
SQL or HTTP.
"""

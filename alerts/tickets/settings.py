"""Settings of tickets (section `[alerts.tickets]`, env `BW_ALERTS__TICKETS__...`): which
alerts open which ticket, the SLA deadline of every step per ticket type (elevators.md,
Tickets), escalation, arrival proof from telemetry, attachments."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SlaSteps(BaseModel):
    """Deadlines of the steps of one ticket type, in seconds."""

    model_config = ConfigDict(extra="forbid")

    dispatched_s: int = Field(
        ..., ge=1, le=30 * 86_400, title="Dispatch within", description="From creation."
    )
    accepted_s: int = Field(
        ...,
        ge=1,
        le=30 * 86_400,
        title="Acceptance within",
        description="From dispatch to the firm (or from a reassignment to the next firm).",
    )
    arrived_s: int | None = Field(
        ...,
        ge=1,
        le=30 * 86_400,
        title="Arrival within",
        description=(
            "From the fault's confirmation (rescue, repair). None: by the ticket's due date "
            "(maintenance)."
        ),
    )
    verified_s: int | None = Field(
        None,
        ge=1,
        le=30 * 86_400,
        title="Sign-off within",
        description=(
            "From completion to verification (maintenance: the user unit signs within 3 days). "
            "None: no deadline (rescue and repair are verified by the service itself)."
        ),
    )


class TicketSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        True,
        title="Open tickets from alerts",
        description="A P1 elevator alert opens a rescue ticket, a P2 alert a repair ticket.",
    )
    rescue_severities: list[str] = Field(
        default_factory=lambda: ["P1"],
        title="Rescue severities",
        description="Elevator alert severities that open a rescue ticket (elevators.md: P1).",
    )
    repair_severities: list[str] = Field(
        default_factory=lambda: ["P2"],
        title="Repair severities",
        description="Elevator alert severities that open a repair ticket (elevators.md: P2).",
    )
    excluded_codes: list[str] = Field(
        default_factory=list,
        title="Codes without tickets",
        description="Catalogue codes that never open a ticket whatever their severity.",
    )
    # elevators.md, Tickets: rescue dispatched <= 1 min, accepted <= 5 min, arrived <= 30 min
    # in a city (TSG T5002; 1 hour elsewhere: set arrived_s = 3600)
    rescue: SlaSteps = Field(
        default_factory=lambda: SlaSteps(dispatched_s=60, accepted_s=300, arrived_s=1800),
        title="Rescue SLA",
        description="Rescue (P1) deadlines; arrival 30 min in a city, 1 h elsewhere.",
    )
    repair: SlaSteps = Field(
        default_factory=lambda: SlaSteps(dispatched_s=300, accepted_s=1800, arrived_s=14_400),
        title="Repair SLA",
        description="Repair (P2) deadlines: dispatched 5 min, accepted 30 min, arrived 4 h.",
    )
    maintenance: SlaSteps = Field(
        default_factory=lambda: SlaSteps(
            dispatched_s=86_400, accepted_s=86_400, arrived_s=None, verified_s=3 * 86_400
        ),
        title="Maintenance SLA",
        description=(
            "Maintenance deadlines: dispatched 1 day, accepted 24 h, arrived by the due date, "
            "signed off by the user unit within 3 days of completion."
        ),
    )
    reassign_unaccepted_rescue: bool = Field(
        True,
        title="Reassign unaccepted rescues",
        description=(
            "A rescue not accepted in time is escalated and reassigned to the elevator's "
            "standby firm, then the district's standby firms in rank order."
        ),
    )
    max_reassignments: int = Field(
        3,
        ge=0,
        le=20,
        title="Reassignments at most",
        description="How many times one rescue may move to another firm.",
    )
    arrival_inspection_s: int = Field(
        1200,
        ge=60,
        le=86_400,
        title="Inspection mode as arrival",
        description=(
            "An accepted maintenance ticket is marked arrived when the car is seen in "
            "`inspection` mode this long without a break (elevators.md: >= 20 min)."
        ),
    )
    verify_after_s: int = Field(
        86_400,
        ge=0,
        le=30 * 86_400,
        title="Verification quiet period",
        description="A completed rescue/repair is verified when its fault did not recur for this long...",
    )
    verify_min_runs: int = Field(
        10,
        ge=0,
        le=100_000,
        title="Verification runs",
        description="...and the elevator made at least this many runs since completion.",
    )
    tick_s: float = Field(
        5.0,
        gt=0,
        le=300,
        title="Clock tick",
        description="How often SLA deadlines, arrivals from telemetry and verification are checked.",
    )
    upload_max_bytes: int = Field(
        10_000_000,
        ge=1_000,
        le=200_000_000,
        title="Attachment size limit",
        description="Largest photo or document a firm may attach to a ticket.",
    )

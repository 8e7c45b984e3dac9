"""Alert summaries in plain words, for the people who read them (firms, supervisors).

Written when the alert is raised, in every language of the catalogue (`summaries`), and
stored with the alert: the deployment's language (`RuleConfig.locale`, BW_LOCALE) is the
contract's `summary`, the others are shown to readers of another language (the console in
English on a Chinese deployment). The code stays verbatim in front
(`TRAPPED_OUT_ZONE 非平层困人，3 层：...`). The fixed words are catalogue messages (notify
domain). A rule's `why` (elevators/rules.py, kept in the rule state in English) is read
back against `WHYS`, the same sentences as catalogue messages with their numbers as
parameters, and written in the summary's language; one not listed stays as it is
(tests/elevators/test_summaries.py replays the scenarios to find any).
"""

from __future__ import annotations

import re
from functools import cache

from brightwatch.elevators.config import RuleConfig
from brightwatch.elevators.state import Sample
from brightwatch.i18n import N_, in_every_locale, translator

_WHAT = {
    "TRAPPED_OUT_ZONE": N_("Passenger trapped between floors"),
    "TRAPPED_IN_ZONE": N_("Passenger trapped at a landing"),
    "STOP_OUT_ZONE": N_("Car stopped between floors"),
    "UCM": N_("Unintended car movement"),
    "DOOR_OPEN_RUN": N_("Door opened while running"),
    "OVERTRAVEL_TOP": N_("Overtravel at the top"),
    "OVERTRAVEL_BOTTOM": N_("Overtravel at the bottom"),
    "OVERSPEED": N_("Overspeed"),
    "SAFETY_CIRCUIT": N_("Safety circuit open"),
    "DOOR_CLOSE_FAIL": N_("Door failed to close"),
    "DOOR_OPEN_FAIL": N_("Door failed to open"),
    "DOOR_CYCLING": N_("Door opening and closing repeatedly"),
    "RUNTIME_LIMITER": N_("Motor run-time limiter"),
    "FLOOR_LOST": N_("Floor position lost"),
    "RESTART_BLOCK": N_("Restart blocked"),
    "POWER_FAIL": N_("Power failure"),
    "ALARM_BUTTON": N_("Alarm button"),
    "MODE_CHANGE": N_("Service mode changed"),
    "OFFLINE": N_("Terminal offline"),
}
# the `why` of each rule (elevators/rules.py), its numbers as parameters
WHYS = (
    N_("mains power back"),
    N_("on battery power"),
    N_("back to normal service"),
    N_("door opened at a landing"),
    N_("person left"),
    N_("stopped outside the door zone with a person inside for %(s)s s"),
    N_("stopped outside the door zone, a person inside pressed the alarm button"),
    N_("stopped outside the door zone with a person inside during a power failure"),
    N_("stopped at a landing, doors closed, a person inside, no run for %(s)s s"),
    N_("stopped at a landing, doors closed, a person inside pressed the alarm button"),
    N_("stopped at a landing, doors closed, a person inside during a power failure"),
    N_("became TRAPPED_OUT_ZONE"),
    N_("car moved"),
    N_("stopped outside the door zone for %(s)s s"),
    N_("doors closed, car stopped"),
    N_("the car moved with doors not closed"),
    N_("doors closed"),
    N_("a door opened while running outside the zone"),
    N_("limit switch released, car back in range"),
    N_("final limit switch active"),
    N_("moving beyond the end floor"),
    N_("above %(pct)s%% of rated speed"),
    N_("speed back below %(pct)s%%"),
    N_("safety circuit closed"),
    N_("safety circuit opened while running"),
    N_("safety circuit open for %(s)s s"),
    N_("door closed"),
    N_("door still closing after %(s)s s"),
    N_("door open for more than %(s)s s"),
    N_("door opened"),
    N_("door still opening after %(s)s s"),
    N_("door failed to open %(n)s times"),
    N_("the car ran"),
    N_("no door cycle for a window"),
    N_("%(n)s door cycles within %(s)s s without a run"),
    N_("a normal run completed"),
    N_("one run longer than %(s)s s"),
    N_("floor plausible again"),
    N_("floor outside the range"),
    N_("floor jumped by more than one"),
    N_("alarm cleared"),
    N_("alarm button active in a stopped car for %(s)s s"),
    N_("alarm button pressed during a normal run"),
    N_("no message for %(s)s s"),
    N_("terminal reported offline"),
    N_("controller reports %(code)s: %(detail)s"),
    N_("controller reports %(code)s"),
    N_("controller cleared %(code)s"),
    N_("message received"),
    N_("terminal back online"),
)
# contract.payloads.ServiceMode, as MODE_CHANGE names the mode the car is now in
MODES = {
    "normal": N_("normal service"),
    "inspection": N_("inspection"),
    "fire_return": N_("fire return"),
    "firefighter": N_("firefighter service"),
    "emergency_power": N_("emergency power"),
    "earthquake": N_("earthquake"),
    "out_of_service": N_("out of service"),
    "unknown": N_("unknown"),
}
_PARAM = re.compile(r"%\((\w+)\)s|%%")


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """The English sentence a template writes, with its parameters as named groups."""
    parts, at = [], 0
    for m in _PARAM.finditer(template):
        parts.append(re.escape(template[at : m.start()]))
        parts.append(f"(?P<{m.group(1)}>.+?)" if m.group(1) else "%")
        at = m.end()
    parts.append(re.escape(template[at:]))
    return re.compile("".join(parts))


def why_in(locale: str, why: str) -> str:
    """A rule's English `why` in `locale`: read back against WHYS, written from the
    catalogue; as it is when no template writes it."""
    for template in WHYS:
        m = _pattern(template).fullmatch(why)
        if m is not None:
            return translator(locale)(template, **m.groupdict())
    return why


# where the car is says nothing about these
_NOWHERE = ("OFFLINE", "MODE_CHANGE", "POWER_FAIL")


def _active(
    what: str, why: str, sample: Sample | None, cfg: RuleConfig, code: str, locale: str
) -> str:
    """What, where the car is and how fast (where that says something), and why."""
    _ = translator(locale)
    if sample is None or code in _NOWHERE:
        return _("%(what)s: %(why)s", what=what, why=why)
    speed = format(sample.speed, ".2f")
    if code == "OVERSPEED" and cfg.rated_speed:
        return _(
            "%(what)s at floor %(floor)s, %(speed)s m/s of rated %(rated)s m/s: %(why)s",
            what=what,
            floor=sample.floor,
            speed=speed,
            rated=format(cfg.rated_speed, "g"),
            why=why,
        )
    if sample.speed >= cfg.stopped_speed:
        return _(
            "%(what)s at floor %(floor)s, %(speed)s m/s: %(why)s",
            what=what,
            floor=sample.floor,
            speed=speed,
            why=why,
        )
    return _("%(what)s at floor %(floor)s: %(why)s", what=what, floor=sample.floor, why=why)


def summaries(
    code: str, active: bool, why: str, sample: Sample | None, cfg: RuleConfig
) -> dict[str, str]:
    """The summary in every language of the catalogue."""
    return in_every_locale(lambda locale: summary(code, active, why, sample, cfg, locale))


def summary(
    code: str, active: bool, why: str, sample: Sample | None, cfg: RuleConfig, locale: str
) -> str:
    """The summary in `locale`."""
    _ = translator(locale)
    name = _WHAT.get(code)
    what = f"{code} {_(name)}" if name else _("Controller event %(code)s", code=code)
    if code == "MODE_CHANGE" and active:
        mode = _(MODES[why]) if why in MODES else why.replace("_", " ")
        return _("%(what)s: now in %(mode)s mode", what=what, mode=mode)
    why = why_in(locale, why) if why else why
    if not active:
        return _("%(what)s: cleared, %(why)s", what=what, why=why)
    return _active(what, why, sample, cfg, code, locale)

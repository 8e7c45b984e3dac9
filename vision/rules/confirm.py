"""Confirmation over time (kitchens.md, "How to confirm").

A condition is raised only when it holds in at least N of the last M processed frames
of the camera, has lasted the rule's minimum duration (capture time from the first
frame of the run), the median score of the supporting track reaches the rule's bar
(lower at night where the rule says so) and, where asked, the track moved. So a single
bad frame never alarms. An episode raises once; it ends when the condition has been
absent from all of the last M frames and for `realarm_s`, and only then can the same
condition raise again: one alert per episode, not per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from brightwatch.i18n import DEFAULT_LOCALE, translator
from brightwatch.vision.rules.assess import Hit
from brightwatch.vision.rules.config import ConfirmRule
from brightwatch.vision.rules.observations import EvidenceRef
from brightwatch.vision.rules.state import Candidate


@dataclass(frozen=True)
class Outcome:
    candidate: Candidate | None  # None: nothing left to remember
    fire: bool = False
    end: bool = False  # an episode that had fired has ended


def describe(code: str, rule: ConfirmRule, night: bool, locale: str = DEFAULT_LOCALE) -> str:
    """The rule that raised, as a reviewer reads it (in `locale`; the code verbatim)."""
    _ = translator(locale)
    bar = rule.median_score * (rule.night_score_factor if night else 1.0)
    parts = [
        _("%(code)s: N=%(n)s of M=%(m)s frames", code=code, n=rule.n, m=rule.m),
        _("min %(s)s s", s=f"{rule.min_duration_s:g}"),
    ]
    if bar > 0:
        if night and rule.night_score_factor < 1:
            parts.append(_("median score >= %(bar)s (night)", bar=f"{bar:.2f}"))
        else:
            parts.append(_("median score >= %(bar)s", bar=f"{bar:.2f}"))
    if rule.require_motion:
        parts.append(_("motion >= %(m)s", m=f"{rule.min_motion:g}"))
    parts.append(_("re-alarm after %(s)s s", s=f"{rule.realarm_s:g}"))
    return _(", ").join(parts)


def ready(c: Candidate, rule: ConfirmRule, now: int, night: bool) -> bool:
    """All conditions met for raising, given the latest frame held."""
    if c.fired or c.since is None or not c.window or c.window[-1] != 1:
        return False
    bar = rule.median_score * (rule.night_score_factor if night else 1.0)
    return (
        sum(c.window) >= min(rule.n, rule.m)
        and now - c.since >= rule.min_duration_s * 1000
        and c.last_score >= bar
        and (not rule.require_motion or c.moved >= rule.min_motion)
    )


def observe(
    c: Candidate | None,
    code: str,
    key: str,
    hit: Hit | None,
    ref: EvidenceRef | None,
    ts: int,
    rule: ConfirmRule,
    night: bool,
) -> Outcome:
    """One processed frame for one condition: `hit` when it holds in that frame."""
    if c is None:
        if hit is None:
            return Outcome(None)
        c = Candidate(code, key)
    c.window = [*c.window, 1 if hit is not None else 0][-rule.m :]
    if hit is not None:
        if c.since is None:
            c.since = ts
            c.first = ref
        c.last_held = ts
        c.last = ref
        c.last_score = hit.score
        c.moved = max(c.moved, hit.travel)
    elif not any(c.window):
        if c.fired:
            assert c.last_held is not None
            if ts - c.last_held >= rule.realarm_s * 1000:
                return Outcome(None, end=True)
        else:
            return Outcome(None)  # the run broke before it was confirmed
    if hit is not None and ready(c, rule, ts, night):
        c.fired = True
        return Outcome(c, fire=True)
    return Outcome(c)

"""The camera's rule engine: `step` for each observation, `tick` for time alone.

CAMERA_OFFLINE (kitchens.md): raised when the camera's availability says `offline`, or
when no frame (nor edge detections) came for `offline_after_s` during operating hours
(a site with no registered hours is watched round the clock); cleared by the next frame,
or by availability `online` when that was the reason. A registered camera that never
connects is silent from its registration (`CameraConfig.registered_at`).
"""

from __future__ import annotations

import math

from brightwatch.contract.codes import CAMERA_OBSTRUCTED, CAMERA_OFFLINE, KITCHEN_CATALOGUE
from brightwatch.i18n import in_every_locale, translate, translator
from brightwatch.vision.rules import schedule
from brightwatch.vision.rules.assess import Seen, assess, code_of_key, zone_of_key
from brightwatch.vision.rules.config import CameraConfig
from brightwatch.vision.rules.confirm import describe, observe, ready
from brightwatch.vision.rules.observations import (
    AvailabilitySeen,
    Event,
    EvidenceRef,
    FrameSeen,
    Observation,
)
from brightwatch.vision.rules.state import CameraState, Candidate
from brightwatch.vision.rules.tracker import TrackerParams, update

TRACKER = TrackerParams()
CLOSED_RECHECK_MS = 60_000


def _where(cfg: CameraConfig, zone: str, locale: str) -> str:
    """`K1/cam1` or `K1/cam1 zone stove` (区域) in the summary's language."""
    where = f"{cfg.site_id}/{cfg.camera_id}"
    return translate(locale, "%(where)s zone %(zone)s", where=where, zone=zone) if zone else where


def _summary(code: str, cfg: CameraConfig, zone: str, locale: str) -> str:
    """What and where in `locale`, the code verbatim beside its Chinese name."""
    entry = KITCHEN_CATALOGUE[code]
    name = entry.name_zh if locale.startswith("zh") else ""
    what = f"{code} {name}".strip()
    return translate(locale, "%(what)s at %(where)s", what=what, where=_where(cfg, zone, locale))


def is_night(cfg: CameraConfig, ts: int) -> bool:
    return schedule.in_window(cfg.night_hours, cfg.timezone, ts)


def operating(cfg: CameraConfig, ts: int) -> bool:
    return not cfg.operating_hours or schedule.in_hours(cfg.operating_hours, cfg.timezone, ts)


def _raise(
    cfg: CameraConfig, c: Candidate, at: int, night: bool, extra: dict[str, object]
) -> Event:
    rule = cfg.rules[c.code]
    zone = (c.last.zone if c.last else "") or zone_of_key(c.key)
    evidence = tuple(e for e in (c.first, c.last) if e is not None)
    if len(evidence) == 2 and evidence[0].ts == evidence[1].ts:
        evidence = evidence[1:]
    rules = in_every_locale(lambda locale: describe(c.code, rule, night, locale))
    summaries = in_every_locale(lambda locale: _summary(c.code, cfg, zone, locale))
    return Event(
        c.code,
        zone_of_key(c.key),
        True,
        at,
        rule.tier(c.code, cfg.work_area),
        summaries[cfg.locale],
        zone,
        rules[cfg.locale],
        evidence,
        {"since": c.since, "frames_held": sum(c.window), **extra},
        summaries=summaries,
        rules=rules,
    )


def _end(cfg: CameraConfig, code: str, key: str, at: int) -> Event:
    zone = zone_of_key(key)
    summaries = in_every_locale(lambda locale: _summary(code, cfg, zone, locale))
    return Event(
        code,
        zone,
        False,
        at,
        cfg.rules[code].tier(code, cfg.work_area),
        summaries[cfg.locale],
        zone,
        summaries=summaries,
    )


def _offline(cfg: CameraConfig, st: CameraState, at: int, reason: str) -> Event:
    st.offline = reason
    text = (
        "availability offline"
        if reason == "availability"
        else f"no frame for {cfg.offline_after_s:g} s"
    )

    def said(locale: str) -> str:
        _ = translator(locale)
        why = (
            _("the camera reports itself offline")
            if reason == "availability"
            else _("no frame for %(seconds)s s", seconds=format(cfg.offline_after_s, "g"))
        )
        return _("%(what)s: %(why)s", what=_summary(CAMERA_OFFLINE, cfg, "", locale), why=why)

    summaries = in_every_locale(said)
    return Event(
        CAMERA_OFFLINE,
        "",
        True,
        at,
        KITCHEN_CATALOGUE[CAMERA_OFFLINE].severity.value,
        summaries[cfg.locale],
        summaries=summaries,
        rule=f"{CAMERA_OFFLINE}: {text}",
        details={
            "reason": reason,
            "last_seen": st.last_seen,
            # never heard from since its registration (issue 15)
            **({"never_connected": True} if st.last_seen is None else {}),
        },
    )


def _online(cfg: CameraConfig, st: CameraState, at: int) -> Event:
    st.offline = None
    summaries = in_every_locale(
        lambda locale: translate(
            locale, "%(what)s: back", what=_summary(CAMERA_OFFLINE, cfg, "", locale)
        )
    )
    return Event(
        CAMERA_OFFLINE,
        "",
        False,
        at,
        KITCHEN_CATALOGUE[CAMERA_OFFLINE].severity.value,
        summaries[cfg.locale],
        summaries=summaries,
    )


# keys the frame-health metrics decide, not the detections
HEALTH_KEYS = frozenset({CAMERA_OBSTRUCTED})


def _track(st: CameraState, obs: FrameSeen, cfg: CameraConfig) -> list[Seen]:
    assert obs.objects is not None
    rules = [cfg.class_rule(o.model, o.label) for o in obs.objects]
    kept = [
        (o, r)
        for o, r in zip(obs.objects, rules, strict=True)
        if o.score >= (r.min_score if r else 0.25)
    ]
    st.tracks, ids, st.next_track = update(
        st.tracks,
        [(o.label, o.score, o.box) for o, _ in kept],
        obs.ts,
        math.hypot(obs.width, obs.height),
        st.next_track,
        TRACKER,
    )
    by_id = {t.id: t for t in st.tracks}
    return [Seen(o, by_id.get(i), r) for (o, r), i in zip(kept, ids, strict=True)]


def step(st: CameraState, obs: Observation, cfg: CameraConfig) -> tuple[CameraState, list[Event]]:
    """The state changes in place (callers hold the only reference) and is returned."""
    events: list[Event] = []
    if isinstance(obs, AvailabilitySeen):
        st.online = obs.online
        st.clock = max(st.clock, obs.ts)
        if not obs.online:
            if st.offline is None:
                events.append(_offline(cfg, st, obs.ts, "availability"))
        else:
            st.last_seen = max(st.last_seen or 0, obs.ts)
            if st.offline is not None:
                events.append(_online(cfg, st, obs.ts))
        return st, events

    looks = obs.objects is not None and (st.last_frame is None or obs.ts > st.last_frame)
    measures = obs.health is not None and (st.last_health is None or obs.ts > st.last_health)
    if not looks and not measures:
        return st, events  # a redelivery, or older than what was processed
    st.last_seen = max(st.last_seen or 0, obs.ts)
    st.clock = max(st.clock, obs.ts)
    if measures:
        st.last_health = obs.ts
    if st.offline is not None:
        events.append(_online(cfg, st, obs.ts))
    seen: list[Seen] = []
    if looks:
        assert obs.objects is not None
        st.last_frame = obs.ts
        st.frames += 1
        seen = _track(st, obs, cfg)
    hits = assess(obs, seen, cfg)
    # what else the frame held, for the evidence (training data keeps it labelled)
    context = [s.record() for s in seen] if looks and hits else None
    night = is_night(cfg, obs.ts)
    keys = set(st.candidates) | set(hits)
    if not looks:
        keys = {k for k in keys if k in HEALTH_KEYS}
    elif not measures:
        keys = {k for k in keys if k not in HEALTH_KEYS}
    for key in sorted(keys):
        hit = hits.get(key)
        c = st.candidates.get(key)
        code = hit.code if hit is not None else (c.code if c is not None else code_of_key(key))
        rule = cfg.rule(code)
        if rule is None:
            st.candidates.pop(key, None)
            continue
        ref = (
            EvidenceRef(obs.ts, obs.width, obs.height, hit.boxes, hit.zone, context)
            if hit is not None
            else None
        )
        out = observe(c, code, key, hit, ref, obs.ts, rule, night)
        if out.candidate is None:
            st.candidates.pop(key, None)
        else:
            st.candidates[key] = out.candidate
        if out.fire:
            assert out.candidate is not None
            extra: dict[str, object] = (
                {"reason": hit.reason} if hit is not None and hit.reason else {}
            )
            events.append(_raise(cfg, out.candidate, obs.ts, night, extra))
        elif out.end and rule.clears:
            events.append(_end(cfg, code, key, obs.ts))
    return st, events


def _heard_since(st: CameraState, cfg: CameraConfig) -> int | None:
    """Where silence is counted from: the latest sign of life, or, for a camera never
    heard from, its registration (so that a camera that never connects is reported)."""
    return st.last_seen if st.last_seen is not None else cfg.registered_at


def tick(st: CameraState, cfg: CameraConfig, now: int) -> tuple[CameraState, list[Event]]:
    """Time alone: CAMERA_OFFLINE after silence; a long rule whose latest frame still
    holds (the edge sends no frame while nothing moves, so the scene is taken to stay
    as last seen while the camera is online)."""
    events: list[Event] = []
    since = _heard_since(st, cfg)
    if since is None:
        return st, events
    silent = now - since >= cfg.offline_after_s * 1000
    if st.offline is None and silent and operating(cfg, now):
        events.append(_offline(cfg, st, now, "silence"))
    if st.offline is not None or silent:
        return st, events
    night = is_night(cfg, now)
    for c in st.candidates.values():
        rule = cfg.rule(c.code)
        if rule is not None and ready(c, rule, now, night):
            c.fired = True
            events.append(_raise(cfg, c, now, night, {"by": "time"}))
    return st, events


def next_due(st: CameraState, cfg: CameraConfig, now: int) -> int | None:
    """When `tick` may next have something to do (capture-time ms), or None: the silence
    deadline (re-checked once a minute while the kitchen is closed), and the end of the
    minimum duration of conditions that wait for nothing else."""
    since = _heard_since(st, cfg)
    if since is None or st.offline is not None:
        return None
    silence = since + round(cfg.offline_after_s * 1000)
    dues = [silence if silence > now or operating(cfg, now) else now + CLOSED_RECHECK_MS]
    night = is_night(cfg, now)
    for c in st.candidates.values():
        rule = cfg.rule(c.code)
        if rule is None or c.since is None or not rule.min_duration_s:
            continue
        due = c.since + round(rule.min_duration_s * 1000)
        if ready(c, rule, max(due, now), night):
            dues.append(due)
    return min(dues)

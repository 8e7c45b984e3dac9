"""Run a scenario trace through the pure engine and compare with its expectations."""

from __future__ import annotations

from dataclasses import dataclass

from brightwatch.edge.elevator_sim.trace import Trace
from brightwatch.elevators.config import RuleConfig
from brightwatch.elevators.replay import Fired, decode, run
from brightwatch.elevators.settings import Thresholds
from brightwatch.i18n import DEFAULT_LOCALE

FAULT_SEVERITIES = ("P1", "P2", "P3")


@dataclass
class Outcome:
    fired: list[Fired]

    def raises(self, code: str | None = None) -> list[Fired]:
        return [f for f in self.fired if f.event.active and (code is None or f.event.code == code)]

    def clears(self, code: str) -> list[Fired]:
        return [f for f in self.fired if not f.event.active and f.event.code == code]


def replay_trace(trace: Trace, tick_ms: int = 250, locale: str = DEFAULT_LOCALE) -> Outcome:
    cfg = RuleConfig.build(Thresholds.model_validate(trace.thresholds), locale)
    timeline = []
    for m in trace.messages:
        ts = m.ts_ms(trace.t0)
        timeline.append((ts, None if m.channel == "tick" else decode(m.channel, m.body(), ts)))
    _, fired = run(timeline, cfg, tick_ms=tick_ms, until=trace.t0 + round(trace.end * 1000))
    return Outcome(fired)


def check(trace: Trace, outcome: Outcome) -> list[str]:
    """Every difference between what the trace expects and what the engine did."""
    problems: list[str] = []
    t0 = trace.t0

    def secs(ms: int) -> float:
        return round((ms - t0) / 1000, 3)

    expected_codes = {e.code for e in trace.expect}
    for code in sorted({f.event.code for f in outcome.raises()} - expected_codes):
        got = outcome.raises(code)
        problems.append(f"unexpected {code} raised at {[secs(f.at) for f in got]} s")
    for code in sorted(expected_codes):
        wants = [e for e in trace.expect if e.code == code]
        got = outcome.raises(code)
        if len(got) != len(wants):
            problems.append(
                f"{code}: expected {len(wants)} raise(s), got {len(got)} at {[secs(f.at) for f in got]} s"
            )
            continue
        clears = outcome.clears(code)
        for want, fired in zip(wants, got, strict=True):
            at = secs(fired.at)
            if not want.raise_at - 0.001 <= at <= want.raise_at + want.within:
                problems.append(
                    f"{code}: raised at {at} s, expected within [{want.raise_at}, {want.raise_at + want.within}] s"
                )
            if fired.event.severity != want.severity:
                problems.append(
                    f"{code}: severity {fired.event.severity}, expected {want.severity}"
                )
            if want.started is not None and abs(secs(fired.event.at) - want.started) > 0.001:
                problems.append(
                    f"{code}: started at {secs(fired.event.at)} s, expected {want.started} s"
                )
            if want.clear is not None:
                after = [c for c in clears if c.at >= fired.at]
                if not after:
                    problems.append(f"{code}: never cleared, expected at {want.clear} s")
                elif not want.clear - 0.001 <= secs(after[0].at) <= want.clear + want.within:
                    problems.append(
                        f"{code}: cleared at {secs(after[0].at)} s, expected {want.clear} s"
                    )
    return problems

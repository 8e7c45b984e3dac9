"""The [alerts] settings from a TOML file: partial sections merge onto the defaults,
wrong values stop start-up naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from brightwatch.settings import SettingsError, load_settings

DATA = Path(__file__).parent / "data"


def test_partial_sections_keep_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BW_CONFIG", str(DATA / "alerts_override.toml"))
    a = load_settings().alerts
    assert sorted(a.notify.receivers) == ["bureau-duty", "default", "kitchen-operator", "ops"]
    assert [(s.after_s, s.receiver) for s in a.notify.escalations["P1"]] == [(120, "ops")]  # type: ignore[index]
    t1 = a.review.tiers["T1"]
    assert (t1.points, t1.plan_within_s, t1.fix_within_s) == (12, 7200, 72 * 3600)
    assert a.review.tiers["T3"].notice is False and a.review.points_for("RODENT", "T1") == 15
    assert a.review.card_points == {"yellow": 5, "red": 20, "inspection": 0}


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[alerts.notify.receivers]\nx = [{ channel = "pigeon", target = "t" }]\n',
            "unknown channel 'pigeon'",
        ),
        (
            '[alerts.notify.escalations]\nP1 = [{ after_s = 60, receiver = "nobody" }]\n',
            "not defined: nobody",
        ),
        (
            '[alerts.review]\ncodes = ["NO_MASK", "TRAPPED_OUT_ZONE"]\n',
            "not kitchen violation codes: TRAPPED_OUT_ZONE",
        ),
        ("[alerts.review.tiers.T3]\nfix_within_s = 3600\n", "without notices takes no deadlines"),
        ("[alerts.stats]\nweight_online = 0.9\n", "must add up to 1"),
        (
            '[[alerts.notify.inhibit_rules]]\nsource_matchers = ["code=~("]\ntarget_matchers = ["x=y"]\n',
            "bad regular expression",
        ),
    ],
)
def test_wrong_values_name_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, message: str
) -> None:
    path = tmp_path / "bw.toml"
    path.write_text(toml)
    monkeypatch.setenv("BW_CONFIG", str(path))
    with pytest.raises(SettingsError, match="BW_ALERTS__") as err:
        load_settings()
    assert message in str(err.value)

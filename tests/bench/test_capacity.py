"""The capacity table's arithmetic (bench/capacity.py), without running the benchmark."""

from __future__ import annotations

import pytest

from bench.capacity import (
    COMPRESSED_FRACTION,
    DAY_S,
    ELEVATOR_FLEETS,
    Rates,
    RowBytes,
    capacity_rows,
    markdown,
)


def test_rows_scale_with_the_fleet_and_label_their_sources() -> None:
    rates = Rates(status=14_400.0, event=0.0, stats=144.0, peak_hour_status=1_200.0)
    row = RowBytes(status=200.0, event=None, stats=300.0, hourly=150.0)
    table = capacity_rows(rates, row)
    assert [r["fleet"] for r in table] == [
        "10,000 elevators", "100,000 elevators", "300,000 elevators",
        "10,000 cameras", "50,000 cameras",
    ]  # fmt: skip
    ten_k = table[0]
    assert ten_k["msg_s_mean"] == pytest.approx(10_000 * 14_544 / DAY_S)
    per_elevator_day = 14_400 * 200 + 144 * 300 + 24 * 150
    assert ten_k["disk_day_raw"] == pytest.approx(10_000 * per_elevator_day)
    assert ten_k["disk_day_compressed"] == pytest.approx(
        ten_k["disk_day_raw"] * COMPRESSED_FRACTION
    )
    assert table[2]["disk_year"] == pytest.approx(30 * ten_k["disk_year"])
    assert ten_k["msg_s_peak_hour"] > ten_k["msg_s_mean"]
    assert table[3]["disk_day_raw"] == 0.0 and table[4]["cores_mean"] == 5 * table[3]["cores_mean"]
    assert len(ELEVATOR_FLEETS) == 3
    text = markdown(
        {
            "args": {"rate_cars": 1, "store_cars": 1, "hours": 1},
            "when": "now",
            "machine": "here",
            "rates": rates.__dict__,
            "row_bytes": row.__dict__,
            "stored_rows": 10,
            "table": table,
        }  # fmt: skip
    )
    assert text.startswith("<!-- capacity:begin -->") and text.endswith("<!-- capacity:end -->")
    assert "Measured here" in text and "not measured here" in text and "2.28.3" in text

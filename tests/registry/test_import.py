from pathlib import Path

import psycopg
import pytest

from brightwatch.registry.importer import ImportError_, import_file

TOML = """
[[firms]]
firm_id = "F1"
name = "Lift Care"
credit_rating = "A"
webhook_url = "http://127.0.0.1:9/hook"

[[sites]]
site_id = "K1"
name = "Canteen No. 3"
district = "Futian"
operating_hours = [{days = "mon-fri", open = "06:00", close = "20:00"}]

[[cameras]]
site_id = "K1"
camera_id = "cam1"
work_area = "cooking"
is_public = true
zones = [{name = "stove", kind = "stove", polygon = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.6]]}]

[[elevators]]
elevator_id = "31104403002019000001"
firm_id = "F1"
floor_min = -2
floor_max = 18
rated_speed = 1.75
thresholds = {trapped_out_zone_s = 20}
"""


def test_toml_import_then_reimport_updates(db_url: str, tmp_path: Path) -> None:
    f = tmp_path / "reg.toml"
    f.write_text(TOML)
    with psycopg.connect(db_url) as conn:
        first = import_file(conn, f)
        assert first.created == {"firm": 1, "site": 1, "camera": 1, "elevator": 1}
        again = import_file(conn, f)
        assert again.updated == {"firm": 1, "site": 1, "camera": 1, "elevator": 1}
        row = conn.execute(
            "SELECT firm_id, floor_max, thresholds, registered_by FROM elevator"
        ).fetchone()
        assert row == ("F1", 18, {"trapped_out_zone_s": 20}, "import")
        zones = conn.execute("SELECT zones FROM camera").fetchone()[0]
        assert zones[0]["kind"] == "stove" and len(zones[0]["polygon"]) == 3


def test_csv_import_mixed_types(db_url: str, tmp_path: Path) -> None:
    f = tmp_path / "reg.csv"
    f.write_text(
        "type,firm_id,elevator_id,site_id,camera_id,name,rated_speed,floor_min,floor_max,zones\n"
        "firm,F2,,,,Up & Down,,,,\n"
        "elevator,F2,E-100,,,,1.0,1,6,\n"
        "site,,,K9,,Noodle shop,,,,\n"
        'camera,,,K9,c1,,,,,"[{""name"": ""bin1"", ""kind"": ""bin"", ""polygon"": [[0,0],[1,0],[1,1]]}]"\n'
    )
    with psycopg.connect(db_url) as conn:
        result = import_file(conn, f)
        assert result.created == {"firm": 1, "site": 1, "camera": 1, "elevator": 1}
        assert (
            conn.execute("SELECT rated_speed FROM elevator WHERE elevator_id = 'E-100'").fetchone()[
                0
            ]
            == 1.0
        )


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        (
            '[[elevators]]\nelevator_id = "E1"\nfirm_id = "NOPE"\n',
            ".toml",
            "firm NOPE is not registered",
        ),
        ('[[elevators]]\nelevator_id = "bad id"\n', ".toml", "elevator_id"),
        ('[[elevators]]\nelevator_id = "E1"\nfloor_min = 9\nfloor_max = 2\n', ".toml", "floor_min"),
        ('[[sites]]\nsite_id = "S"\ntimezone = "Mars/Olympus"\n', ".toml", "unknown time zone"),
        ("[[gadgets]]\nx = 1\n", ".toml", "unknown tables"),
        ("[[firms]\n", ".toml", "not valid TOML"),
        ("type,elevator_id,thresholds\nelevator,E1,{oops\n", ".csv", "not valid JSON"),
        ("type,x\nrobot,1\n", ".csv", "cannot tell the record type"),
        ("whatever", ".xlsx", "expected a .toml or .csv"),
    ],
)
def test_bad_files_store_nothing(
    db_url: str, tmp_path: Path, content: str, suffix: str, message: str
) -> None:
    good_firm = (
        '[[firms]]\nfirm_id = "OK"\n' if suffix == ".toml" and "[[firms]" not in content else ""
    )
    f = tmp_path / f"reg{suffix}"
    f.write_text(good_firm + content)
    with psycopg.connect(db_url) as conn:
        with pytest.raises(ImportError_, match=message):
            import_file(conn, f)
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM firm").fetchone()[0] == 0

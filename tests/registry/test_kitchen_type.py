"""Kitchen types (issue 15, coverage): the site field, and the licence-register CSV
import (English or Chinese headers, codes or Chinese type names, every bad row named
and nothing half-imported)."""

from pathlib import Path

import psycopg
import pytest
from pydantic import ValidationError

from brightwatch.registry.importer import ImportError_, import_file
from brightwatch.registry.models import KITCHEN_TYPE_NAMES_ZH, SiteRecord

REGISTER_ZH = (
    "许可证编号,名称,经营者,地址,辖区,主体业态\n"
    "JY14403040000001,老街面馆,张三,福田路1号,福田区,餐馆\n"
    "JY14403040000002,外卖小厨,李四,南山路2号,南山区,网络餐饮（仅外卖）\n"
    "JY14403040000003,实验小学食堂,实验小学,福田路3号,福田区,学校食堂\n"
    "JY14403040000004,某公司食堂,某公司,南山路4号,南山区,canteen\n"
)


def test_kitchen_type_accepts_codes_and_chinese_names() -> None:
    for code, name in KITCHEN_TYPE_NAMES_ZH.items():
        assert SiteRecord(kitchen_type=code).kitchen_type == code  # type: ignore[arg-type]
        assert SiteRecord(kitchen_type=name).kitchen_type == code  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="kitchen_type must be one of"):
        SiteRecord(kitchen_type="bistro")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="kitchens only"):
        SiteRecord(kind="building", kitchen_type="restaurant")  # type: ignore[arg-type]


def test_licence_register_imports_then_updates_only_its_fields(db_url: str, tmp_path: Path) -> None:
    f = tmp_path / "register.csv"
    f.write_text(REGISTER_ZH, encoding="utf-8")
    with psycopg.connect(db_url) as conn:
        assert import_file(conn, f).created["site"] == 4
        conn.execute(
            'UPDATE site SET operating_hours = \'[{"days": "daily", "open": "08:00",'
            ' "close": "20:00"}]\' WHERE site_id = \'JY14403040000002\''
        )
        f.write_text(REGISTER_ZH.replace("外卖小厨", "外卖小厨(新)"), encoding="utf-8")
        assert import_file(conn, f).updated["site"] == 4
        rows = conn.execute(
            "SELECT site_id, kind, kitchen_type, name, district, operating_hours FROM site"
            " ORDER BY site_id"
        ).fetchall()
    assert [(r[0][-1], r[1], r[2]) for r in rows] == [
        ("1", "kitchen", "restaurant"),
        ("2", "kitchen", "delivery_only"),
        ("3", "kitchen", "school_canteen"),
        ("4", "kitchen", "canteen"),
    ]
    assert rows[1][3] == "外卖小厨(新)" and rows[1][4] == "南山区"
    assert rows[1][5][0]["open"] == "08:00"  # kept: not a register field


def test_english_register_with_bad_rows_imports_nothing(db_url: str, tmp_path: Path) -> None:
    f = tmp_path / "register.csv"
    f.write_text(
        "licence_number,name,operator,address,district,kitchen_type\n"
        "JY1,Noodles,Zhang,1 Road,Futian,restaurant\n"
        "JY2,Takeaway,Li,2 Road,Nanshan,food_truck\n"
        ",Nameless,Wang,3 Road,Futian,other\n"
        "JY 4,Bad id,Zhao,4 Road,Futian,other\n"
        "JY1,Twice,Zhang,1 Road,Futian,restaurant\n",
        encoding="utf-8",
    )
    with psycopg.connect(db_url) as conn:
        with pytest.raises(ImportError_) as err:
            import_file(conn, f)
        assert conn.execute("SELECT count(*) FROM site").fetchone() == (0,)
    text = str(err.value)
    assert "4 bad rows, nothing imported" in text
    assert "line 3: kitchen_type" in text
    assert "line 4: missing licence_number" in text
    assert "line 5:" in text
    assert "line 6: licence JY1 repeats" in text and "line 2" in text


def test_register_row_of_a_building_is_refused(db_url: str, tmp_path: Path) -> None:
    f = tmp_path / "register.csv"
    f.write_text("licence_number,name,kitchen_type\nB1,Tower,other\n", encoding="utf-8")
    with psycopg.connect(db_url) as conn:
        conn.execute("INSERT INTO site (site_id, kind) VALUES ('B1', 'building')")
        with pytest.raises(ImportError_, match="not as a kitchen"):
            import_file(conn, f)
        assert conn.execute("SELECT kind, kitchen_type FROM site").fetchone() == (
            "building",
            None,
        )

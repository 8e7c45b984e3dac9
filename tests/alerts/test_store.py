from datetime import UTC, datetime, timedelta

import msgspec
import psycopg
import pytest

from brightwatch.alerts.model import AlertSignal
from brightwatch.alerts.settings import AlertSettings
from brightwatch.alerts.store import AlertStore

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def sig(active: bool, at: datetime) -> AlertSignal:
    return AlertSignal(
        kind="elevator",
        code="TRAPPED_OUT_ZONE",
        severity="P1",
        device_id="E1",
        site_id="S1",
        active=active,
        at=at,
        summary="TRAPPED_OUT_ZONE 非平层困人",
        summaries={"zh-CN": "TRAPPED_OUT_ZONE 非平层困人", "en": "TRAPPED_OUT_ZONE trapped"},
    )


def test_signal_flow_writes_alert_audit_and_outbox(db_url: str) -> None:
    clock = Clock()
    seen = []
    store = AlertStore(
        AlertSettings(), "bw", reactors=[lambda conn, ch, now: seen.append(ch.action)], clock=clock
    )
    with psycopg.connect(db_url) as conn:
        with conn.transaction():
            opened = store.apply_signal(conn, sig(True, T0))
        assert opened is not None and opened.alert.id is not None
        clock.now = T0 + timedelta(seconds=10)
        with conn.transaction():
            store.apply_signal(conn, sig(False, T0 + timedelta(seconds=9)))
        with conn.transaction():
            reopened = store.apply_signal(conn, sig(True, T0 + timedelta(seconds=20)))
        assert reopened is not None and reopened.alert.id == opened.alert.id
        with conn.transaction():
            acked = store.acknowledge(conn, opened.alert.id, "user:1", "on my way")
        assert acked.alert.state == "acknowledged"
        events = conn.execute(
            "SELECT action, actor, from_state, to_state FROM alert_event WHERE alert_id = %s ORDER BY id",
            (opened.alert.id,),
        ).fetchall()
        assert [e[0] for e in events] == ["fired", "resolved", "reopened", "acknowledged"]
        assert events[-1][1] == "user:1"
        row = conn.execute(
            "SELECT count, state FROM alert WHERE id = %s", (opened.alert.id,)
        ).fetchone()
        assert row == (2, "acknowledged")
        out = conn.execute("SELECT topic, payload FROM outbox ORDER BY id").fetchall()
        assert [t for t, _ in out] == ["bw/alerts/elevator/E1"] * 4
        types = [msgspec.json.decode(bytes(p))["type"] for _, p in out]
        assert types == ["new", "resolved", "update", "update"]
        body = msgspec.json.decode(bytes(out[0][1]))["alert"]
        assert set(body) == {
            "id",
            "kind",
            "code",
            "severity",
            "state",
            "device_id",
            "site_id",
            "started_at",
            "updated_at",
            "resolved_at",
            "count",
            "summary",
            "evidence_url",
            # the extension: the summary in every language, the contract's `summary` the
            # deployment's
            "summaries",
        }
        assert body["summary"] == "TRAPPED_OUT_ZONE 非平层困人"
        assert body["summaries"]["en"] == "TRAPPED_OUT_ZONE trapped"
        stored = store.get(conn, opened.alert.id)
        assert stored is not None
        assert stored.summaries == {
            "zh-CN": "TRAPPED_OUT_ZONE 非平层困人",
            "en": "TRAPPED_OUT_ZONE trapped",
        }
    assert seen == ["fired", "resolved", "reopened", "acknowledged"]


def test_only_one_open_alert_per_fingerprint(db_url: str) -> None:
    store = AlertStore(AlertSettings(), "bw")
    with psycopg.connect(db_url) as conn:
        with conn.transaction():
            store.apply_signal(conn, sig(True, T0))
        with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
            conn.execute(
                "INSERT INTO alert (kind, code, severity, state, device_id, fingerprint,"
                " started_at, updated_at, last_raised_at) SELECT kind, code, severity, state,"
                " device_id, fingerprint, started_at, updated_at, last_raised_at FROM alert"
            )

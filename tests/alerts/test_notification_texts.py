"""What people read in e-mails, SMS and notices: the deployment's language (zh-CN first,
English available), every instant in the zone with its offset (an alert at 18:14Z reads
02:14 (+08:00) in Shanghai, never a bare 18:14), catalogue codes verbatim; and the SMS
template parameters for vendors that send only approved templates."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from brightwatch.alerts.channels.email import EmailChannel
from brightwatch.alerts.channels.robots import robot_message
from brightwatch.alerts.channels.sms import SmsChannel
from brightwatch.alerts.channels.sms_templates import TEMPLATE_PARAMS, template_of
from brightwatch.alerts.channels.webhook import WebhookChannel
from brightwatch.alerts.review.store import notice_words
from brightwatch.alerts.review.workflow import Case, CaseState, Notice
from brightwatch.alerts.routing.notification import AlertView, Notification
from brightwatch.alerts.routing.settings import Integration
from brightwatch.alerts.tickets.lifecycle import Ticket, TicketState
from brightwatch.alerts.tickets.store import breach_words
from brightwatch.alerts.words import At, Code, Words, written
from brightwatch.i18n import N_

AT = datetime(2026, 12, 6, 18, 14, tzinfo=UTC)  # 02:14 on the 7th in Shanghai


def elevator_alert(code: str, summary: str, status: str = "firing", alert_id: int = 7) -> AlertView:
    return AlertView(
        id=alert_id,
        status=status,
        labels={
            "code": code,
            "severity": "P1",
            "kind": "elevator",
            "device_id": "E1",
            "site_id": "B1",
        },
        annotations={"summary": summary, "alert_id": str(alert_id), "count": "1"},
        starts_at=AT,
        ends_at=AT + timedelta(minutes=20) if status == "resolved" else None,
        fingerprint=f"{alert_id:016x}",
    )


def trapped(status: str = "firing") -> AlertView:
    return elevator_alert("TRAPPED_OUT_ZONE", "TRAPPED_OUT_ZONE 非平层困人，3 层", status)


def notification(reason: str = "group", **kw: object) -> Notification:
    return Notification(
        "bureau-duty",
        "{}:{kind=elevator}",
        {"kind": "elevator", "location": "B1"},
        (trapped(),),
        reason,
        "https://console.example",
        **kw,  # type: ignore[arg-type]
    )


def test_email_of_a_trapped_alert_in_chinese_reads_local_time() -> None:
    mail = EmailChannel.render(notification())
    assert mail["subject"] == "【告警:1】 TRAPPED_OUT_ZONE 非平层困人 kind=elevator location=B1"
    text = mail["text"]
    assert "发生于 2026-12-07 02:14 (+08:00)" in text
    assert "TRAPPED_OUT_ZONE 非平层困人" in text and "告警中：" in text
    assert "18:14" not in text and "2026-12-06T" not in text
    assert "监管平台：https://console.example/#/alerts/7" in text  # the alert's own page


def test_sms_of_a_trapped_alert_in_chinese_reads_local_time() -> None:
    sms = SmsChannel.render(notification())
    assert (
        sms["text"] == "【brightwatch】告警：P1 TRAPPED_OUT_ZONE 非平层困人 B1 12-07 02:14 (+08:00)"
    )
    assert sms["template"] == "alert"
    assert sms["params"] == {
        "code": "TRAPPED_OUT_ZONE",
        "name": "非平层困人",
        "severity": "P1",
        "device": "E1",
        "site": "B1",
        "date": "12-07",
        "time": "02:14",
        "count": "1",
    }


def test_the_english_variant() -> None:
    n = notification().in_language("en")
    mail = EmailChannel.render(n)
    assert mail["subject"] == "[FIRING:1] TRAPPED_OUT_ZONE kind=elevator location=B1"
    assert "since 2026-12-07 02:14 (+08:00)" in mail["text"]
    assert "Console: https://console.example/#/alerts/7" in mail["text"]
    assert SmsChannel.render(n)["text"] == (
        "[brightwatch] FIRING: P1 TRAPPED_OUT_ZONE B1 12-07 02:14 (+08:00)"
    )
    # another zone: the same instant, its own offset
    there = notification().in_language("en", "Asia/Urumqi")
    assert "12-07 00:14 (+06:00)" in SmsChannel.render(there)["text"]


def test_an_english_receiver_reads_the_summary_in_english() -> None:
    """The rule wrote the summary in both languages (Alert.summaries): the e-mail's
    line is the receiver's; the webhook keeps the deployment's `summary`."""
    both = {
        "zh-CN": "TRAPPED_OUT_ZONE 非平层困人，3 层",
        "en": "TRAPPED_OUT_ZONE Passenger trapped between floors at floor 3",
    }
    alert = dataclasses.replace(trapped(), summaries=both)
    n = dataclasses.replace(notification(), alerts=(alert,))
    english = EmailChannel.render(n.in_language("en"))["text"]
    assert "x1: TRAPPED_OUT_ZONE Passenger trapped between floors at floor 3" in english
    assert "非平层困人，3 层" not in english
    assert "TRAPPED_OUT_ZONE 非平层困人，3 层" in EmailChannel.render(n)["text"]
    assert alert.alertmanager("https://c")["annotations"]["summary"] == both["zh-CN"]
    # an alert written in one language (by a person, or before both were kept): as stored
    assert (
        "x1: TRAPPED_OUT_ZONE 非平层困人，3 层"
        in EmailChannel.render(notification().in_language("en"))["text"]
    )


def test_escalation_and_resolved_wording() -> None:
    esc = notification("escalation")
    assert esc.subject().startswith("【升级】 【告警:1】")
    assert esc.short_text().startswith("【brightwatch】升级 告警：")
    assert template_of(esc).kind == "escalation"
    assert esc.in_language("en").subject().startswith("[ESCALATION] [FIRING:1]")
    done = Notification("r", "k", {}, (trapped("resolved"),), "group", "https://c")
    assert done.subject().startswith("【已恢复:1】") and "已恢复：" in done.text()
    assert template_of(done).kind == "resolved"


def test_the_webhook_payload_keeps_its_contract_fields() -> None:
    """Alertmanager's payload is for machines: ISO 8601 in UTC, fields unchanged; a notice
    adds its title and text in the reader's language as annotations only."""
    n = notification(
        "notice", title=Words(N_("Rectification notice: %(what)s"), {"what": Code("SMOKING")})
    )
    body = WebhookChannel.render(n)
    assert body["alerts"][0]["startsAt"] == "2026-12-06T18:14:00Z"
    assert set(body) == {
        "version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
        "commonLabels", "commonAnnotations", "externalURL", "alerts",
    }  # fmt: skip
    assert body["commonAnnotations"]["title"] == "整改通知：SMOKING 吸烟"
    assert "title" not in WebhookChannel.render(notification())["commonAnnotations"]


def case(plan_due_at: datetime | None = None) -> Case:
    """A NO_MASK case confirmed at 18:14Z, to be fixed within 3 days."""
    return Case(
        id=12,
        alert_id=7,
        fingerprint="kitchen|K1/cam1|NO_MASK",
        site_id="K1",
        camera_id="cam1",
        district="Futian",
        code="NO_MASK",
        tier="T3",
        state=CaseState.NOTIFIED,
        detected_at=AT,
        created_at=AT,
        updated_at=AT,
        decided_at=AT,
        fix_due_at=AT + timedelta(days=3),
        plan_due_at=plan_due_at,
    )


def test_rectification_notice_in_both_languages() -> None:
    title, text = notice_words(case(), Notice("rectification"))
    assert written(title, "zh-CN") == "整改通知：NO_MASK 未戴口罩"
    zh = written(text, "zh-CN")
    assert "2026-12-07 02:14 (+08:00)" in zh and "2026-12-10 02:14 (+08:00)" in zh
    assert "UTC" not in zh and "案件 12" in zh
    en = written(text, "en")
    assert en.startswith("K1 / cam1: NO_MASK confirmed 2026-12-07 02:14 (+08:00), tier T3.")
    assert "Fix by 2026-12-10 02:14 (+08:00)" in en


def test_card_and_late_plan_notices() -> None:
    title, text = notice_words(case(), Notice("card", "yellow"))
    assert written(title, "zh-CN") == "黄牌：NO_MASK 未戴口罩"
    assert written(title, "en") == "yellow card: NO_MASK"
    assert "逾期" in written(text, "zh-CN")
    title, text = notice_words(case(plan_due_at=AT), Notice("plan_overdue"))
    assert written(title, "zh-CN") == "整改计划逾期：NO_MASK 未戴口罩"
    assert "2026-12-07 02:14 (+08:00)" in written(text, "zh-CN")


def test_sla_breach_summary() -> None:
    ticket = Ticket(
        id=5,
        type="rescue",
        state=TicketState.DISPATCHED,
        elevator_id="E1",
        trigger="alert",
        created_at=AT,
        updated_at=AT,
        firm_id="F1",
    )
    words = breach_words(ticket, "arrived", AT)
    assert (
        written(words, "zh-CN")
        == "救援工单 5：未在 2026-12-07 02:14 (+08:00) 前到达现场（维保单位 F1）"
    )
    assert (
        written(words, "en")
        == "rescue ticket 5: nobody arrived by 2026-12-07 02:14 (+08:00) (firm F1)"
    )


def test_the_services_own_code_is_named_like_the_catalogues() -> None:
    """TICKET_SLA_BREACH is no catalogue fault, yet it reaches people as an alert: in
    Chinese it carries its name (工单超时) like every catalogue code; in English the code."""
    breach = elevator_alert("TICKET_SLA_BREACH", "rescue ticket 5", alert_id=8)
    n = Notification("duty", "{}", {"kind": "elevator"}, (breach,), "group", "https://c.example")
    sms = SmsChannel.render(n)
    assert sms["params"]["name"] == "工单超时"
    assert "TICKET_SLA_BREACH 工单超时" in sms["text"]
    assert "TICKET_SLA_BREACH 工单超时" in EmailChannel.render(n)["subject"]
    assert written(Code("TICKET_SLA_BREACH"), "zh-CN") == "TICKET_SLA_BREACH 工单超时"
    english = SmsChannel.render(n.in_language("en"))
    assert english["params"]["name"] == "TICKET_SLA_BREACH" and "工单" not in english["text"]


def test_words_render_parameters_in_the_readers_language() -> None:
    w = Words(N_("%(card)s: %(what)s"), {"card": Words(N_("red card")), "what": Code("RODENT")})
    assert written(w, "zh-CN") == "红牌：RODENT 鼠患"
    assert written(w, "en") == "red card: RODENT"
    assert written(At(AT, "hm"), "en") == "02:14 (+08:00)"
    assert written(At(None)) == "-"


def test_every_template_kind_has_its_parameters() -> None:
    for kind, names in TEMPLATE_PARAMS.items():
        assert names and len(set(names)) == len(names), kind
    n = notification("notice")
    labels = {**trapped().labels, "notice": "card", "card": "red", "code": "NO_MASK"}
    notice = AlertView(7, "firing", labels, {"review_id": "12"}, AT, None, "ab")
    card = Notification("r", "k", {}, (notice,), "notice", "https://c")
    assert template_of(n).kind == "alert"  # a notice of no known kind: the alert itself
    params = template_of(card).params
    assert template_of(card).kind == "card" and params["card"] == "red"
    assert set(params) == set(TEMPLATE_PARAMS["card"])
    assert all(len(v) <= 35 for v in params.values())


def test_a_receiver_may_read_its_own_language() -> None:
    assert Integration(channel="email", target="a@b.c", locale="en-GB").locale == "en"
    assert Integration(channel="email", target="a@b.c").locale is None
    with pytest.raises(ValidationError, match="unknown language"):
        Integration(channel="email", target="a@b.c", locale="fr")


def test_a_reader_is_sent_to_the_alerts_page_or_to_the_console() -> None:
    """One alert: its page (e-mail, robot link, the webhook's generatorURL); several: the
    console, whose alert list holds them all."""
    one = notification()
    assert one.alertmanager()["alerts"][0]["generatorURL"] == "https://console.example/#/alerts/7"
    assert robot_message(one)["links"][-1]["url"] == "https://console.example/#/alerts/7"
    two = one.only((trapped(), elevator_alert("OVERSPEED", "OVERSPEED 1.2x", alert_id=8)))
    assert robot_message(two)["links"][-1]["url"] == "https://console.example"
    assert "监管平台：https://console.example\n" in EmailChannel.render(two)["text"] + "\n"
    generated = [a["generatorURL"] for a in two.alertmanager()["alerts"]]
    assert generated == ["https://console.example/#/alerts/7", "https://console.example/#/alerts/8"]

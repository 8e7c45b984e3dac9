"""SQL adapter of the review workflow: the reactor that queues kitchen alerts, the
queue, decisions, rectification uploads, verification, the overdue clock, and the reads
behind the kitchens API. Each step loads the case, calls `workflow`, and carries out
the effects (notices through the routing tree, credit points, the alert's
acknowledgement or resolution, evidence retention, history) in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from brightwatch.alerts import history
from brightwatch.alerts.due import claim_due
from brightwatch.alerts.evidence import files
from brightwatch.alerts.evidence import records as evidence_records
from brightwatch.alerts.model import Action, AlertChange, AlertState
from brightwatch.alerts.review import workflow
from brightwatch.alerts.review.workflow import Case, CaseState, IllegalStep
from brightwatch.alerts.routing.pipeline import NotificationPipeline
from brightwatch.alerts.settings import AlertSettings
from brightwatch.alerts.store import AlertStore, Clock, utcnow
from brightwatch.alerts.words import At, Code, Words
from brightwatch.contract.codes import KITCHEN_CATALOGUE
from brightwatch.i18n import N_, translate

log = logging.getLogger(__name__)

CASE_COLUMNS = [f.name for f in fields(Case)]
# saved on every step (identity columns never change)
MUTABLE = [
    c
    for c in CASE_COLUMNS
    if c
    not in (
        "id",
        "alert_id",
        "fingerprint",
        "site_id",
        "camera_id",
        "district",
        "code",
        "tier",
        "detected_at",
        "created_at",
    )
]
SELECT_CASE = f"SELECT {', '.join(CASE_COLUMNS)} FROM review"  # noqa: S608
HIDDEN_FROM_OPERATORS = (CaseState.PENDING_REVIEW.value, CaseState.DISMISSED.value)
# the cards' names in notices (alerts.words: written in the reader's language)
CARD_NAMES = {
    "yellow": N_("yellow card"),
    "red": N_("red card"),
    "inspection": N_("on-site inspection"),
}

# what rectification evidence may be: photos, a video, a PDF report
ACCEPTED = ("image/jpeg", "image/png", "application/pdf", "video/mp4")


# a district supervisor's queue and cases: the kitchens whose site is in its district
# (api/scope.py decides who is bound to a district; this only filters); NULL: every one
IN_DISTRICT = (
    " AND (%s::text IS NULL OR EXISTS (SELECT 1 FROM site ds"
    " WHERE ds.site_id = r.site_id AND ds.district = %s))"
)


class ReviewNotFound(LookupError):
    """No such review, or not one this caller may see (HTTP 404)."""


class UploadRejected(ValueError):
    """A rectification upload that cannot be stored (HTTP 413 / 415 / 422)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


def notice_words(case: Case, notice: workflow.Notice) -> tuple[Words, Words]:
    """Title and text of a notice to the kitchen operator, in the reader's language and
    zone (alerts.words); the code stays verbatim beside its Chinese name."""
    what, where = Code(case.code), f"{case.site_id} / {case.camera_id}"
    if notice.kind == "rectification":
        params = {
            "where": where,
            "what": what,
            "decided": At(case.decided_at),
            "tier": case.tier,
            "plan": At(case.plan_due_at),
            "fix": At(case.fix_due_at),
            "case": case.id,
        }
        text = (
            N_(
                "%(where)s: %(what)s confirmed %(decided)s, tier %(tier)s. Plan due %(plan)s."
                " Fix by %(fix)s and upload the rectification evidence (case %(case)s)."
            )
            if case.plan_due_at
            else N_(
                "%(where)s: %(what)s confirmed %(decided)s, tier %(tier)s."
                " Fix by %(fix)s and upload the rectification evidence (case %(case)s)."
            )
        )
        return Words(N_("Rectification notice: %(what)s"), {"what": what}), Words(text, params)
    if notice.kind == "plan_overdue":
        return Words(N_("Rectification plan overdue: %(what)s"), {"what": what}), Words(
            N_("%(where)s: no rectification plan for case %(case)s, due %(due)s."),
            {"where": where, "case": case.id, "due": At(case.plan_due_at)},
        )
    name = CARD_NAMES.get(notice.card or "")
    card: Words | str = Words(name) if name else notice.card or ""
    return Words(N_("%(card)s: %(what)s"), {"card": card, "what": what}), Words(
        N_("%(where)s: case %(case)s is overdue since %(due)s: %(card)s."),
        {"where": where, "case": case.id, "due": At(case.fix_due_at), "card": card},
    )


class ReviewDesk:
    def __init__(
        self,
        settings: AlertSettings,
        pipeline: NotificationPipeline,
        alerts: AlertStore,
        data_dir: Path,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings.review
        self.pipeline = pipeline
        self.alerts = alerts
        self.data_dir = Path(data_dir)
        self.clock = clock

    # ------------------------------------------------------------------ reactor

    def __call__(self, conn: psycopg.Connection[Any], change: AlertChange, now: datetime) -> None:
        """Reactor: a new (or reopened) kitchen violation enters the review queue once."""
        a = change.alert
        if a.kind != "kitchen" or a.code not in self.settings.codes:
            return
        if change.action not in (Action.FIRED, Action.REOPENED) or a.site_id is None:
            return
        assert a.id is not None
        if conn.execute("SELECT 1 FROM review WHERE alert_id = %s", (a.id,)).fetchone():
            return  # a reopened alert keeps its review
        earlier = conn.execute(
            "SELECT id, state, decision, decided_at FROM review WHERE fingerprint = %s"
            " ORDER BY created_at DESC, id DESC LIMIT 1 FOR UPDATE",
            (a.fingerprint,),
        ).fetchone()
        if earlier is not None:
            rid, state, decision, decided_at = earlier
            if state == CaseState.PENDING_REVIEW or CaseState(state) in workflow.OPEN_CASE:
                # dedup: one pending item / one open case per condition
                conn.execute(
                    "UPDATE review SET recurrences = recurrences + 1 WHERE id = %s", (rid,)
                )
                history.record(
                    conn,
                    [a.id],
                    "review_merged",
                    "review",
                    now,
                    details={"review_id": rid, "state": state},
                )
                return
            if (
                decision == "dismiss"
                and decided_at is not None
                and now - decided_at < timedelta(seconds=self.settings.cooldown_s)
            ):
                history.record(
                    conn,
                    [a.id],
                    "review_suppressed",
                    "review",
                    now,
                    note=translate(
                        self.pipeline.locale, "dismissed as a false positive moments ago"
                    ),
                    details={"review_id": rid},
                )
                return
        tier = (
            a.severity
            if a.severity in ("T1", "T2", "T3")
            else KITCHEN_CATALOGUE[a.code].severity.value
        )
        district = str(a.labels.get("district") or "")
        if not district:
            row = conn.execute(
                "SELECT district FROM site WHERE site_id = %s", (a.site_id,)
            ).fetchone()
            district = row[0] if row else ""
        row = conn.execute(
            "INSERT INTO review (alert_id, fingerprint, site_id, camera_id, district, code, tier, state,"
            " detected_at, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, 'pending_review', %s, %s, %s)"
            " RETURNING id",
            (
                a.id,
                a.fingerprint,
                a.site_id,
                str(a.labels.get("camera_id") or a.device_id),
                district,
                a.code,
                tier,
                a.started_at,
                now,
                now,
            ),
        ).fetchone()
        assert row is not None
        history.record(
            conn,
            [a.id],
            "review_queued",
            "review",
            now,
            details={"review_id": row[0], "tier": tier},
        )

    # ------------------------------------------------------------------ loading and saving

    def _load(
        self,
        conn: psycopg.Connection[Any],
        review_id: int,
        *,
        lock: bool,
        site_id: str | None = None,
    ) -> Case:
        with conn.cursor(row_factory=dict_row) as cur:
            sql = SELECT_CASE + " WHERE id = %s" + (" FOR UPDATE" if lock else "")
            row = cur.execute(
                sql,
                (review_id,),
            ).fetchone()
        if row is None:
            raise ReviewNotFound(review_id)
        case = Case.from_row(row)
        if site_id is not None and (
            case.site_id != site_id or case.state.value in HIDDEN_FROM_OPERATORS
        ):
            raise ReviewNotFound(review_id)  # operators see their own confirmed cases only
        return case

    def _save(self, conn: psycopg.Connection[Any], case: Case) -> None:
        values = [getattr(case, c) for c in MUTABLE]
        values = [
            v.value if isinstance(v, CaseState) else Jsonb(v) if isinstance(v, dict) else v
            for v in values
        ]
        conn.execute(
            f"UPDATE review SET {', '.join(f'{c} = %s' for c in MUTABLE)} WHERE id = %s",  # noqa: S608
            [*values, case.id],
        )

    def _apply(
        self, conn: psycopg.Connection[Any], step: workflow.Step, actor: str, now: datetime
    ) -> Case:
        case = step.case
        self._save(conn, case)
        for effect in step.effects:
            if isinstance(effect, workflow.History):
                history.record(
                    conn, [case.alert_id], effect.action, actor, now, effect.note, effect.details
                )
            elif isinstance(effect, workflow.Points):
                conn.execute(
                    "INSERT INTO credit_ledger (site_id, review_id, at, delta, reason, actor) VALUES (%s, %s, %s, %s, %s, %s)",
                    (case.site_id, case.id, now, effect.delta, effect.reason, actor),
                )
            elif isinstance(effect, workflow.AlertAction):
                alert = self.alerts.get(conn, case.alert_id, lock=True)
                if alert is None:
                    continue
                if effect.action == "acknowledge" and alert.state == AlertState.FIRING:
                    self.alerts.acknowledge(conn, case.alert_id, actor, effect.note)
                elif effect.action == "resolve" and alert.is_open:
                    self.alerts.resolve(conn, case.alert_id, actor, effect.note)
            elif isinstance(effect, workflow.RetainEvidence):
                evidence_records.keep_until(conn, case.alert_id, effect.until)
            elif isinstance(effect, workflow.Notice):
                self._notice(conn, case, effect, now)
        return case

    def _notice(
        self, conn: psycopg.Connection[Any], case: Case, notice: workflow.Notice, now: datetime
    ) -> None:
        alert = self.alerts.get(conn, case.alert_id)
        if alert is None:
            return
        title, message = notice_words(case, notice)
        labels = {"notice": notice.kind, "review_id": str(case.id), "tier": case.tier}
        if notice.card:
            labels["card"] = notice.card
        annotations = {
            "review_id": str(case.id),
            "fix_due_at": case.fix_due_at.isoformat() if case.fix_due_at else "",
            "plan_due_at": case.plan_due_at.isoformat() if case.plan_due_at else "",
            **({"card": notice.card} if notice.card else {}),
        }
        self.pipeline.route_and_send(
            conn,
            alert,
            labels,
            now,
            reason="notice",
            title=title,
            message=message,
            annotations=annotations,
            action=f"notice_{notice.kind}",
            details={"review_id": case.id},
        )

    # ------------------------------------------------------------------ the queue

    def queue(
        self,
        conn: psycopg.Connection[Any],
        limit: int = 20,
        after_id: int | None = None,
        *,
        present: bool = True,
        district: str | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Pending reviews, oldest first, with evidence; and the next one for preloading.
        The first item is marked as shown, so the decision time can be measured.
        `district`: only the kitchens of that district (a district supervisor's queue)."""
        where = "r.state = 'pending_review'" + IN_DISTRICT
        params: list[Any] = [district, district]
        if after_id is not None:
            where += " AND (r.created_at, r.id) > (SELECT created_at, id FROM review WHERE id = %s)"
            params.append(after_id)
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                "SELECT r.id, r.alert_id, r.site_id, r.camera_id, r.district, r.code, r.tier, r.state,"  # noqa: S608
                " r.detected_at, r.created_at, r.presented_at, r.recurrences, a.severity, a.summary, a.count,"
                " a.evidence_url, a.labels, a.state AS alert_state, a.summaries,"
                " coalesce(a.details -> 'rules', '{}'::jsonb) AS rules"
                f" FROM review r JOIN alert a ON a.id = r.alert_id WHERE {where}"
                " ORDER BY r.created_at, r.id LIMIT %s",
                [*params, limit + 1],
            ).fetchall()
        evidence = evidence_records.of_alerts(conn, [r["alert_id"] for r in rows])
        for row in rows:
            row["evidence"] = evidence[row["alert_id"]]
            row["name_zh"] = (
                KITCHEN_CATALOGUE[row["code"]].name_zh if row["code"] in KITCHEN_CATALOGUE else ""
            )
            row["rule"] = next((e["rule"] for e in row["evidence"] if e.get("rule")), None)
        items, following = rows[:limit], (rows[limit] if len(rows) > limit else None)
        if present and items and items[0]["presented_at"] is None:
            now = self.clock()
            conn.execute(
                "UPDATE review SET presented_at = %s WHERE id = %s AND presented_at IS NULL",
                (now, items[0]["id"]),
            )
            items[0]["presented_at"] = now
        return items, following

    # ------------------------------------------------------------------ decisions and steps

    def decide(
        self,
        conn: psycopg.Connection[Any],
        review_id: int,
        decision: str,
        actor: str,
        note: str | None = None,
        elapsed_ms: int | None = None,
        corrected_boxes: dict[str, Any] | None = None,
    ) -> Case:
        case = self._load(conn, review_id, lock=True)
        now = self.clock()
        if elapsed_ms is not None:
            seconds: float | None = elapsed_ms / 1000.0
        elif case.presented_at is not None:
            seconds = max(0.0, (now - case.presented_at).total_seconds())
        else:
            seconds = None
        if decision == "confirm":
            if corrected_boxes:
                raise IllegalStep("corrected boxes go with a dismissal (the detector was wrong)")
            step = workflow.confirm(case, self.settings, actor, now, note, seconds)
        elif decision == "dismiss":
            if corrected_boxes:
                self._check_corrections(conn, case, corrected_boxes)
            step = workflow.dismiss(case, self.settings, actor, now, note, seconds, corrected_boxes)
        else:
            raise IllegalStep(f"unknown decision {decision!r}")
        return self._apply(conn, step, actor, now)

    def _check_corrections(
        self, conn: psycopg.Connection[Any], case: Case, boxes: dict[str, Any]
    ) -> None:
        ids = {str(i) for i in evidence_records.ids_of(conn, case.alert_id)}
        unknown = sorted(set(boxes) - ids)
        if unknown:
            raise IllegalStep(
                f"corrected boxes name evidence not of this review: {', '.join(unknown)}"
            )

    def transition(
        self,
        conn: psycopg.Connection[Any],
        review_id: int,
        to: str,
        actor: str,
        role: str,
        note: str | None = None,
        site_id: str | None = None,
    ) -> Case:
        case = self._load(conn, review_id, lock=True, site_id=site_id)
        now = self.clock()
        operator = role == "operator"
        if to == CaseState.RECTIFYING and operator:
            step = workflow.submit_plan(case, self.settings, actor, now, note or "")
        elif to == CaseState.RECTIFYING and not operator and case.state == CaseState.VERIFYING:
            step = workflow.verify(case, self.settings, actor, now, False, note)
            self._rectification_result(conn, case, "rejected", actor, now, note)
        elif to == CaseState.VERIFYING and not operator:
            step = workflow.start_verification(case, self.settings, actor, now, note)
        elif to == CaseState.CLOSED and not operator:
            step = workflow.verify(case, self.settings, actor, now, True, note)
            self._rectification_result(conn, case, "accepted", actor, now, note)
        else:
            who = "an operator" if operator else "a supervisor"
            raise IllegalStep(f"{who} cannot move case {case.id} from {case.state} to {to}")
        return self._apply(conn, step, actor, now)

    def _rectification_result(
        self,
        conn: psycopg.Connection[Any],
        case: Case,
        result: str,
        actor: str,
        now: datetime,
        note: str | None,
    ) -> None:
        if case.state != CaseState.VERIFYING:
            return  # the workflow refuses the step; nothing to record
        conn.execute(
            "UPDATE rectification SET result = %s, decided_at = %s, decided_by = %s, decision_note = %s"
            " WHERE id = (SELECT max(id) FROM rectification WHERE review_id = %s) AND result IS NULL",
            (result, now, actor, note, case.id),
        )

    def submit_rectification(
        self,
        conn: psycopg.Connection[Any],
        review_id: int,
        actor: str,
        note: str,
        uploads: Sequence[Upload],
        site_id: str | None,
    ) -> tuple[Case, int]:
        case = self._load(conn, review_id, lock=True, site_id=site_id)
        now = self.clock()
        if not uploads:
            raise UploadRejected(
                "upload at least one file (a photo, video or PDF of the rectification)"
            )
        if len(uploads) > self.settings.upload_max_files:
            raise UploadRejected(f"at most {self.settings.upload_max_files} files per upload")
        kinds = []
        for up in uploads:
            if len(up.data) > self.settings.upload_max_bytes:
                raise UploadRejected(
                    f"{up.name}: larger than {self.settings.upload_max_bytes} bytes", 413
                )
            kind = files.sniff(up.data, ACCEPTED)
            if kind is None:
                raise UploadRejected(
                    f"{up.name}: only JPEG, PNG, PDF or MP4 files are accepted", 415
                )
            kinds.append(kind)
        if case.state not in workflow.AWAITING_OPERATOR:
            raise IllegalStep(
                f"case {case.id} is {case.state}: cannot submit rectification evidence"
            )
        row = conn.execute(
            "INSERT INTO rectification (review_id, submitted_at, submitted_by, note) VALUES (%s, %s, %s, %s) RETURNING id",
            (case.id, now, actor, note),
        ).fetchone()
        assert row is not None
        rect_id = int(row[0])
        for i, (up, (content_type, ext)) in enumerate(zip(uploads, kinds, strict=True)):
            digest = files.sha256(up.data)
            rel = (
                Path("rectifications")
                / case.site_id
                / str(case.id)
                / f"{rect_id}-{i}-{digest[:16]}{ext}"
            )
            files.write_atomic(self.data_dir / rel, up.data)
            conn.execute(
                "INSERT INTO rectification_file (rectification_id, path, sha256, size_bytes, content_type, original_name)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (rect_id, rel.as_posix(), digest, len(up.data), content_type, up.name[:200]),
            )
        step = workflow.submit_evidence(case, self.settings, actor, now, rect_id)
        return self._apply(conn, step, actor, now), rect_id

    def read_file(
        self, conn: psycopg.Connection[Any], review_id: int, file_id: int, site_id: str | None
    ) -> tuple[bytes, str, str]:
        case = self._load(conn, review_id, lock=False, site_id=site_id)
        row = conn.execute(
            "SELECT f.path, f.sha256, f.content_type, f.original_name FROM rectification_file f"
            " JOIN rectification r ON r.id = f.rectification_id WHERE f.id = %s AND r.review_id = %s",
            (file_id, case.id),
        ).fetchone()
        if row is None:
            raise ReviewNotFound(file_id)
        data = files.read_checked(self.data_dir, row[0], row[1], f"rectification file {file_id}")
        return data, row[2], row[3]

    # ------------------------------------------------------------------ the clock

    def clock_step(
        self, conn: psycopg.Connection[Any], now: datetime | None = None, limit: int = 200
    ) -> int:
        """Deadlines that passed: late plans, overdue cases, cards. One transaction per case."""
        now = now or self.clock()

        def tick(row: Sequence[Any]) -> int:
            case = Case.from_row(dict(zip(CASE_COLUMNS, row, strict=True)))
            self._apply(conn, workflow.tick(case, self.settings, now), "clock", now)
            return 1

        return claim_due(
            conn,
            "SELECT id FROM review WHERE next_check_at <= %s ORDER BY next_check_at LIMIT %s",
            (now, limit),
            SELECT_CASE + " WHERE id = %s AND next_check_at <= %s FOR UPDATE SKIP LOCKED",
            (now,),
            tick,
        )

    # ------------------------------------------------------------------ reads

    def case_view(
        self, conn: psycopg.Connection[Any], review_id: int, site_id: str | None = None
    ) -> dict[str, Any]:
        case = self._load(conn, review_id, lock=False, site_id=site_id)
        return self.views(conn, [case])[0]

    def views(self, conn: psycopg.Connection[Any], cases: Sequence[Case]) -> list[dict[str, Any]]:
        if not cases:
            return []
        ids = [c.id for c in cases]
        with conn.cursor(row_factory=dict_row) as cur:
            rects = cur.execute(
                "SELECT id, review_id, submitted_at, submitted_by, note, result, decided_at, decided_by, decision_note"
                " FROM rectification WHERE review_id = ANY(%s) ORDER BY id",
                (ids,),
            ).fetchall()
            files = cur.execute(
                "SELECT f.id, f.rectification_id, f.sha256, f.size_bytes, f.content_type, f.original_name"
                " FROM rectification_file f JOIN rectification r ON r.id = f.rectification_id"
                " WHERE r.review_id = ANY(%s) ORDER BY f.id",
                (ids,),
            ).fetchall()
            events = cur.execute(
                "SELECT e.alert_id, e.at, e.action, e.actor, e.note, e.details FROM alert_event e"
                " WHERE e.alert_id = ANY(%s) ORDER BY e.id",
                ([c.alert_id for c in cases],),
            ).fetchall()
        evidence = evidence_records.of_alerts(conn, [c.alert_id for c in cases])
        by_rect: dict[int, list[dict[str, Any]]] = {}
        for f in files:
            by_rect.setdefault(f.pop("rectification_id"), []).append(f)
        out = []
        for c in cases:
            view = {
                k: getattr(c, k) for k in CASE_COLUMNS if k not in ("next_check_at", "fingerprint")
            }
            view["state"] = c.state.value
            view["name_zh"] = (
                KITCHEN_CATALOGUE[c.code].name_zh if c.code in KITCHEN_CATALOGUE else ""
            )
            view["evidence"] = evidence.get(c.alert_id, [])
            view["rectifications"] = []
            for r in rects:
                if r["review_id"] != c.id:
                    continue
                r = dict(r)
                r.pop("review_id")
                r["files"] = [
                    {**f, "url": f"/api/v1/reviews/{c.id}/files/{f['id']}"}
                    for f in by_rect.get(r["id"], [])
                ]
                view["rectifications"].append(r)
            view["history"] = [
                {k: e[k] for k in ("at", "action", "actor", "note", "details")}
                for e in events
                if e["alert_id"] == c.alert_id
            ]
            out.append(view)
        return out

    def cases(
        self,
        conn: psycopg.Connection[Any],
        states: Sequence[str],
        *,
        before_id: int | None,
        limit: int,
        district: str | None = None,
    ) -> list[dict[str, Any]]:
        """Cases in these states, newest first, with their evidence, rectifications and
        history; `district`: only the kitchens of that district."""
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                SELECT_CASE
                + " r WHERE state = ANY(%s) AND (%s::bigint IS NULL OR id < %s)"
                + IN_DISTRICT
                + " ORDER BY id DESC LIMIT %s",
                (list(states), before_id, before_id, district, district, limit),
            ).fetchall()
        return self.views(conn, [Case.from_row(r) for r in rows])

    def violations(
        self,
        conn: psycopg.Connection[Any],
        site_id: str,
        *,
        operator: bool,
        state: str | None,
        since: datetime | None,
        before_id: int | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        where: list[str] = ["site_id = %s"]
        params: list[Any] = [site_id]
        if operator:
            where.append("state <> ALL(%s)")
            params.append(list(HIDDEN_FROM_OPERATORS))
        if state == "open":
            where.append("state = ANY(%s)")
            params.append([s.value for s in workflow.OPEN_CASE])
        elif state:
            where.append("state = %s")
            params.append(state)
        if since:
            where.append("detected_at >= %s")
            params.append(since)
        if before_id:
            where.append("id < %s")
            params.append(before_id)
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                f"SELECT {', '.join(CASE_COLUMNS)} FROM review WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT %s",  # noqa: S608
                [*params, limit],
            ).fetchall()
        return self.views(conn, [Case.from_row(r) for r in rows])

"""``/governance``: the feedback report as a page, for the clinical governance meeting.

Per rule version: cards issued, accepted, overridden (by reason), snoozed, and how often a
snooze hid the topic; the same numbers as ``backpain-cds feedback-report`` (one
:meth:`Store.report`). Over time: cards issued per day and feedback outcomes per day.
Charts are SVG drawn here; the tables carry the same numbers for screen readers and print.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, make_response, render_template, request
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from service.db import Feedback, IssuedCard
from service.errors import ServiceError
from service.pages import svg
from service.pages.access import guard
from service.store import ReportRow, Store, StoreUnavailable

bp = Blueprint("governance", __name__, template_folder="templates")
bp.before_request(guard)

OUTCOMES: tuple[svg.Series, ...] = (("accepted", "#1b7f3b"), ("overridden", "#b3261e"),
                                    ("snoozed", "#7a4b00"), ("no feedback", "#8a8f98"))
# Distinct colours, each at least 3:1 against white (graphics contrast), cycled.
PALETTE = ("#0b4f9c", "#b3261e", "#1b7f3b", "#7a4b00", "#6a1b9a", "#00695c", "#ad1457",
           "#37474f")
FEEDBACK_DAILY: tuple[svg.Series, ...] = (("accepted", "#1b7f3b"), ("overridden", "#b3261e"))
DEFAULT_DAYS = 90


@bp.get("/governance")
def page() -> Response:
    since = _since(request.args.get("since", ""))
    store: Store = current_app.extensions["backpain"]["store"]
    try:
        if store.flush_pending is not None:
            store.flush_pending()  # the calls this process has queued are counted too
        rows = store.report(since)
        issued, feedback = daily(store, since)
    except (StoreUnavailable, SQLAlchemyError):
        raise ServiceError(503, "The database is unavailable: no report.") from None
    html = render_template(
        "governance.html", rows=rows, since=since,
        by_rule=svg.stacked_bars("Cards per rule version by outcome", OUTCOMES,
                                 [(f"{r.rule_id} v{r.rule_version}", _split(r)) for r in rows]),
        over_time=_issued_chart(issued, since),
        feedback_time=svg.columns("Feedback per day", FEEDBACK_DAILY,
                                  [(d, list(v)) for d, v in _fill_pairs(feedback, since)]),
        total=sum(r.issued for r in rows))
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


def _since(raw: str) -> datetime:
    if not raw:
        return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) \
            - timedelta(days=DEFAULT_DAYS)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ServiceError(400, f"since={raw!r} is not an ISO date or date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _split(row: ReportRow) -> list[int]:
    """accepted / overridden without snooze / snoozed / no feedback (sums to issued)."""
    overridden = max(row.overridden - row.snoozed, 0)
    rest = max(row.issued - row.accepted - overridden - row.snoozed, 0)
    return [row.accepted, overridden, row.snoozed, rest]


def _day(engine_dialect: str, column: Any) -> Any:
    if engine_dialect == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _issued_chart(issued: dict[tuple[str, str], int], since: datetime) -> Any:
    """Cards issued per day, one colour per rule version."""
    versions = sorted({version for _, version in issued})
    series = [(version, PALETTE[i % len(PALETTE)]) for i, version in enumerate(versions)]
    days = [(d, [issued.get((d, v), 0) for v in versions]) for d in _days(since)]
    return svg.columns("Cards issued per day, by rule version", series, days)


def daily(store: Store, since: datetime
          ) -> tuple[dict[tuple[str, str], int], dict[str, tuple[int, int]]]:
    """Cards issued per (UTC day, "RULE vX"), and (accepted, overridden) feedback per day
    of the outcome."""
    dialect = store.engine.dialect.name
    issued_day = _day(dialect, IssuedCard.issued_at)
    outcome_day = _day(dialect, Feedback.outcome_timestamp)
    with Session(store.engine) as session:
        issued = {(str(d), f"{rule} v{version}"): n for d, rule, version, n in session.execute(
            select(issued_day, IssuedCard.rule_id, IssuedCard.rule_version, func.count())
            .where(IssuedCard.issued_at >= since)
            .group_by(issued_day, IssuedCard.rule_id, IssuedCard.rule_version))}
        feedback: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for d, outcome, n in session.execute(
                select(outcome_day, Feedback.outcome, func.count(Feedback.card_uuid.distinct()))
                .where(Feedback.outcome_timestamp >= since)
                .group_by(outcome_day, Feedback.outcome)):
            feedback[str(d)][0 if outcome == "accepted" else 1] += n
    return issued, {d: (v[0], v[1]) for d, v in feedback.items()}


def _days(since: datetime) -> list[str]:
    start, end = since.astimezone(UTC).date(), datetime.now(UTC).date()
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)] \
        if start <= end else [date.today().isoformat()]


def _fill_pairs(counts: dict[str, tuple[int, int]], since: datetime
                ) -> list[tuple[str, tuple[int, int]]]:
    return [(d, counts.get(d, (0, 0))) for d in _days(since)]

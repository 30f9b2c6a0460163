"""Programme metrics: how each pair is doing, and the programme as a whole.

A facilitator running dozens of pairs needs to spot the ones that quietly stopped meeting, and a
sponsor wants to know whether the sessions help. Both questions are answered from a handful of
SQL aggregates (one per table), so a programme of 1,000 pairs is measured in well under a second;
nothing here loads sessions or notes as objects.

Definitions, because a number is only useful if everyone reads it the same way:

- A session is *held* when its status is ``completed``; *cancelled* ones are counted apart.
- A held session happened at ``ended_at``; if that is missing (data entered by hand), at
  ``started_at``, then ``scheduled_at``.
- A pair is *finished* when it has held all its planned sessions.
- A pair is *stalled* when it is active, not finished, and its last held session (or, before its
  first one, its creation) is more than ``stall_days`` before ``now``. Inactive pairs are never
  stalled: someone already decided they stop; nor are finished ones: they did what was planned.
- *Active pairs* counts pairs with the active flag that are neither finished nor stalled.
- ``sessions_planned`` sums every pair's ``planned_sessions``, inactive pairs included: it is the
  size of the programme as agreed, against which ``sessions_held`` is read.
- Ratings and confidence use every feedback and confidence row, whatever the session's status;
  the wrap-up writes them when a session is completed.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from coach.sessions.db import Database
from coach.sessions.errors import InputError
from coach.sessions.models import (
    ROLES,
    Confidence,
    Experiment,
    Feedback,
    Pair,
    Person,
    Session,
    UTCDateTime,
)

PAIR_KEY_HEX = 12
"""Length of the hash in a pair key: 48 bits, so 10,000 pairs collide with odds of about 1e-7."""


def pair_key(pair_id: int, created_at: datetime) -> str:
    """The pseudonymous key that identifies a pair in anonymised reports, e.g. ``pair-3f9a0c…``.

    An HMAC of the pair id keyed by the pair's creation time (stored to the microsecond). It is
    stable for as long as the pair exists, so two reports can be compared row by row, and it does
    not follow the order pairs were created or imported in (a sequential "P01" would: whoever
    knows the import order could put names back). Without the database the key cannot be traced
    to a pair; with the database it can, which is what the facilitator needs to follow up.
    """
    secret = created_at.isoformat().encode()
    digest = hmac.new(secret, f"pair:{pair_id}".encode(), hashlib.sha256).hexdigest()
    return f"pair-{digest[:PAIR_KEY_HEX]}"


@dataclass(frozen=True)
class PairMetrics:
    pair_id: int
    key: str
    """Pseudonymous key for anonymised reports (see ``pair_key``)."""
    mentor_name: str
    mentee_name: str
    active: bool
    held: int
    planned: int
    cancelled: int
    last_held_at: datetime | None
    days_since_last: int | None
    """Whole days between the last held session and ``now``; None before the first session."""
    finished: bool
    stalled: bool
    mean_rating: dict[str, float | None]
    """Mean feedback rating per side (``mentor``, ``mentee``); None when that side gave none."""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_held_at"] = self.last_held_at.isoformat() if self.last_held_at else None
        return data


@dataclass(frozen=True)
class ProgrammeMetrics:
    now: datetime
    stall_days: int
    pairs: list[PairMetrics]
    pair_count: int
    active_pairs: int
    finished_pairs: int
    stalled_pairs: list[int]
    """Ids of the stalled pairs, in id order."""
    sessions_held: int
    sessions_planned: int
    sessions_cancelled: int
    mean_rating: dict[str, float | None]
    confidence_delta: dict[str, float]
    """Topic id -> mean of (after - before) over confidence rows that have both scores."""
    confidence_samples: dict[str, int]
    """Topic id -> how many rows that mean is over; a delta from two rows means little."""
    experiment_completion_rate: float | None
    """done / (done + open + dropped); None when the programme has no experiments."""
    cancellation_rate: float | None
    """cancelled / (completed + cancelled); None when no session was completed or cancelled."""
    experiments: dict[str, int] = field(default_factory=dict)
    """Experiment count per status."""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["now"] = self.now.isoformat()
        data["pairs"] = [pair.as_dict() for pair in self.pairs]
        return data


def programme_metrics(db: Database, *, now: datetime, stall_days: int = 21) -> ProgrammeMetrics:
    """Measure every pair and the programme at ``now`` (an aware time; tests pass a fixed one)."""
    if now.tzinfo is None:
        raise InputError("now needs a time zone (Coach stores UTC times)")
    if stall_days < 1:
        raise InputError(f"stall_days must be at least 1, not {stall_days}")
    with db.transaction() as orm:
        pairs = orm.execute(_pairs_query()).all()
        sessions = {row.pair_id: row for row in orm.execute(_sessions_query())}
        ratings: dict[tuple[int, str], tuple[int, int]] = {
            (row.pair_id, row.side): (row.total, row.count) for row in orm.execute(_ratings_query())
        }
        confidence = orm.execute(_confidence_query()).all()
        experiments = {row.status: row.count for row in orm.execute(_experiments_query())}

    threshold = timedelta(days=stall_days)
    measured = []
    for pair in pairs:
        counts = sessions.get(pair.id)
        last = counts.last_held_at if counts else None
        since = now - (last or pair.created_at)
        held = counts.held if counts else 0
        measured.append(
            PairMetrics(
                pair_id=pair.id,
                key=pair_key(pair.id, pair.created_at),
                mentor_name=pair.mentor_name,
                mentee_name=pair.mentee_name,
                active=pair.active,
                held=held,
                planned=pair.planned_sessions,
                cancelled=counts.cancelled if counts else 0,
                last_held_at=last,
                days_since_last=(now - last).days if last else None,
                finished=held >= pair.planned_sessions,
                stalled=pair.active and held < pair.planned_sessions and since > threshold,
                mean_rating={side: _mean(*ratings.get((pair.id, side), (0, 0))) for side in ROLES},
            )
        )

    held = sum(p.held for p in measured)
    cancelled = sum(p.cancelled for p in measured)
    side_totals = {
        side: [sum(v[i] for (_, s), v in ratings.items() if s == side) for i in (0, 1)]
        for side in ROLES
    }
    return ProgrammeMetrics(
        now=now,
        stall_days=stall_days,
        pairs=measured,
        pair_count=len(measured),
        active_pairs=sum(p.active and not p.finished and not p.stalled for p in measured),
        finished_pairs=sum(p.finished for p in measured),
        stalled_pairs=[p.pair_id for p in measured if p.stalled],
        sessions_held=held,
        sessions_planned=sum(p.planned for p in measured),
        sessions_cancelled=cancelled,
        mean_rating={side: _mean(*side_totals[side]) for side in ROLES},
        confidence_delta={row.topic_id: float(row.delta) for row in confidence},
        confidence_samples={row.topic_id: row.count for row in confidence},
        experiment_completion_rate=_mean(experiments.get("done", 0), sum(experiments.values())),
        cancellation_rate=_mean(cancelled, held + cancelled),
        experiments=experiments,
    )


def _mean(total: float, count: int) -> float | None:
    return total / count if count else None


def _pairs_query():
    mentor, mentee = aliased(Person), aliased(Person)
    return (
        select(
            Pair.id,
            Pair.active,
            Pair.planned_sessions,
            Pair.created_at,
            mentor.name.label("mentor_name"),
            mentee.name.label("mentee_name"),
        )
        .join(mentor, mentor.id == Pair.mentor_id)
        .join(mentee, mentee.id == Pair.mentee_id)
        .order_by(Pair.id)
    )


def _sessions_query():
    held = Session.status == "completed"
    held_at = func.coalesce(Session.ended_at, Session.started_at, Session.scheduled_at)
    return select(
        Session.pair_id,
        func.sum(case((held, 1), else_=0)).label("held"),
        func.sum(case((Session.status == "cancelled", 1), else_=0)).label("cancelled"),
        # Typed so the aware-UTC result processor runs: SQLite hands back a string otherwise.
        func.max(case((held, held_at)), type_=UTCDateTime()).label("last_held_at"),
    ).group_by(Session.pair_id)


def _ratings_query():
    return (
        select(
            Session.pair_id,
            Feedback.side,
            func.sum(Feedback.rating).label("total"),
            func.count().label("count"),
        )
        .join(Session, Session.id == Feedback.session_id)
        .group_by(Session.pair_id, Feedback.side)
    )


def _confidence_query():
    both = Confidence.before.is_not(None) & Confidence.after.is_not(None)
    return (
        select(
            Confidence.topic_id,
            func.avg(Confidence.after - Confidence.before).label("delta"),
            func.count().label("count"),
        )
        .where(both)
        .group_by(Confidence.topic_id)
        .order_by(Confidence.topic_id)
    )


def _experiments_query():
    return select(Experiment.status, func.count().label("count")).group_by(Experiment.status)


# --- time series (the dashboard's plots) ----------------------------------------------------------
#
# Weeks start on Monday and months on the 1st, both in UTC (Coach stores UTC times). Series are
# continuous: a week or month with nothing in it is there with a zero count, so a plot's time
# axis never hides a gap. Only the timestamps are read, never sessions as objects.


@dataclass(frozen=True)
class WeekCount:
    week: date
    """The Monday the week starts on."""
    held: int


@dataclass(frozen=True)
class MonthRatings:
    month: date
    """The first day of the month."""
    mean: dict[str, float | None]
    """Mean rating per side; None when that side gave none that month."""
    count: dict[str, int]


def _held_at(*fallback):
    """When a session was held (see the definitions), as an aware UTC time."""
    columns = (Session.ended_at, Session.started_at, Session.scheduled_at, *fallback)
    return func.coalesce(*columns, type_=UTCDateTime())


def sessions_per_week(db: Database, *, now: datetime) -> list[WeekCount]:
    """Held sessions per week, from the first held session's week to the week of ``now``.

    A session counts in the week it was held (see the module's definitions); an empty list
    means nothing has been held yet.
    """
    if now.tzinfo is None:
        raise InputError("now needs a time zone (Coach stores UTC times)")
    query = select(_held_at()).where(Session.status == "completed")
    with db.transaction() as orm:
        times = [t for t in orm.scalars(query) if t is not None]
    if not times:
        return []
    counts: dict[date, int] = {}
    for held in times:
        counts[_monday(held)] = counts.get(_monday(held), 0) + 1
    first, last = min(counts), max(max(counts), _monday(now))
    weeks = (last - first).days // 7 + 1
    return [
        WeekCount(first + timedelta(weeks=i), counts.get(first + timedelta(weeks=i), 0))
        for i in range(weeks)
    ]


def ratings_per_month(db: Database) -> list[MonthRatings]:
    """Mean feedback rating per side and month of the session it rates.

    A rating belongs to the month its session was held in (or, for a session without any time,
    the month the feedback was given). Every feedback row counts, as in ``programme_metrics``.
    """
    query = select(_held_at(Feedback.created_at), Feedback.side, Feedback.rating).join(
        Session, Session.id == Feedback.session_id
    )
    with db.transaction() as orm:
        rows = orm.execute(query).all()
    totals: dict[tuple[date, str], list[int]] = {}
    for at, side, rating in rows:
        totals.setdefault((at.astimezone(UTC).date().replace(day=1), side), []).append(rating)
    if not totals:
        return []
    months = sorted({month for month, _ in totals})
    series = []
    month = months[0]
    while month <= months[-1]:
        ratings = {side: totals.get((month, side), []) for side in ROLES}
        series.append(
            MonthRatings(
                month,
                mean={side: _mean(sum(r), len(r)) for side, r in ratings.items()},
                count={side: len(r) for side, r in ratings.items()},
            )
        )
        month = (month + timedelta(days=32)).replace(day=1)
    return series


def rating_distribution(db: Database) -> dict[str, list[int]]:
    """How many ratings of 1, 2, 3, 4 and 5 each side gave (index 0 is a rating of 1)."""
    query = select(Feedback.side, Feedback.rating, func.count()).group_by(
        Feedback.side, Feedback.rating
    )
    counts = {side: [0] * 5 for side in ROLES}
    with db.transaction() as orm:
        for side, rating, count in orm.execute(query):
            counts[side][rating - 1] = count
    return counts


def _monday(moment: datetime) -> date:
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())

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
from datetime import datetime, timedelta
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

"""Experiments between sessions, and the recap a pair's next session starts with.

The recap is what makes a programme more than a string of one-off meetings: each session opens
with what was agreed last time, so it reads the last *completed* session and every experiment of
the pair that is still open, whichever session it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select

from coach.sessions.db import Database
from coach.sessions.errors import InputError, NotFound
from coach.sessions.models import EXPERIMENT_STATUSES, Experiment, Pair, Session, utcnow


@dataclass(frozen=True)
class OpenExperiment:
    id: int
    title: str
    owner: str
    due_date: date | None
    overdue: bool
    """Due before ``today``; an experiment due today is not overdue yet."""


@dataclass(frozen=True)
class Recap:
    pair_id: int
    last_number: int | None
    """Number of the last completed session; None before the pair's first one."""
    last_ended_at: datetime | None
    last_summary: str
    open_experiments: list[OpenExperiment]

    @property
    def last_date(self) -> date | None:
        """The UTC date the last session ended; a UI shows ``last_ended_at`` in local time."""
        return self.last_ended_at.date() if self.last_ended_at else None


def recap(db: Database, pair_id: int, *, today: date | None = None) -> Recap:
    """The last completed session and the pair's open experiments, soonest due first."""
    today = today or datetime.now(UTC).date()
    with db.transaction() as orm:
        if orm.get(Pair, pair_id) is None:
            raise NotFound(f"pair {pair_id} does not exist")
        last = orm.scalars(
            select(Session)
            .where(Session.pair_id == pair_id, Session.status == "completed")
            .order_by(Session.number.desc())
            .limit(1)
        ).first()
        rows = orm.scalars(
            select(Experiment)
            .where(Experiment.pair_id == pair_id, Experiment.status == "open")
            .order_by(Experiment.due_date.is_(None), Experiment.due_date, Experiment.id)
        ).all()
        experiments = [
            OpenExperiment(
                id=row.id,
                title=row.title,
                owner=row.owner,
                due_date=row.due_date,
                overdue=row.due_date is not None and row.due_date < today,
            )
            for row in rows
        ]
        return Recap(
            pair_id=pair_id,
            last_number=last.number if last else None,
            last_ended_at=last.ended_at if last else None,
            last_summary=last.summary if last else "",
            open_experiments=experiments,
        )


def update_experiment(
    db: Database,
    experiment_id: int,
    status: str,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Mark an experiment open, done or dropped; ``completed_at`` is set only while it is done."""
    if status not in EXPERIMENT_STATUSES:
        allowed = ", ".join(EXPERIMENT_STATUSES)
        raise InputError(f"experiment status must be one of {allowed}, not {status!r}")
    with db.transaction() as orm:
        experiment = orm.get(Experiment, experiment_id)
        if experiment is None:
            raise NotFound(f"experiment {experiment_id} does not exist")
        if status == "done" and experiment.status != "done":
            experiment.completed_at = clock()
        elif status != "done":
            experiment.completed_at = None
        experiment.status = status

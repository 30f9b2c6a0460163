"""What is happening in the programme: each pair's next session, recent activity, first pair.

The home screen answers "who meets next, who is stuck, what just happened" and the pair screen
"which session do we run now". Both read it here, so the TUI holds no queries and the rule for
picking a pair's session to run exists once (``next_session`` / ``session_to_run``). Reads use
``Database.read`` and never take the write lock, so a refresh never waits for a live session.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from coach.sessions.engine import STARTABLE
from coach.sessions.errors import InputError, NotFound
from coach.sessions.metrics import programme_metrics
from coach.sessions.models import Experiment, Pair, Person, Session
from coach.sessions.validation import PersonIn

if TYPE_CHECKING:
    from coach.plugins.models import SessionTemplate
    from coach.sessions.db import Database


@dataclass(frozen=True)
class NextSession:
    """The session a pair runs next: its running one, else its earliest planned or prepared."""

    id: int
    number: int
    status: str
    scheduled_at: datetime | None


def next_session(sessions: Iterable[NextSession], *, running: bool = True) -> NextSession | None:
    """The one rule for "this pair's next session", shared by every screen and the CLI.

    The running session comes first (``running=False`` skips it: preparation targets the
    session after it), else the earliest planned or prepared one.
    """
    ordered = sorted(sessions, key=lambda item: item.number)
    if running and (now := [item for item in ordered if item.status == "running"]):
        return now[0]
    return next((item for item in ordered if item.status in STARTABLE), None)


def next_session_id(db: Database, pair_id: int, *, running: bool = True) -> int | None:
    """The id ``next_session`` picks for the pair, or None; read-only (never schedules)."""
    with db.read() as orm:
        if orm.get(Pair, pair_id) is None:
            raise NotFound(f"pair {pair_id} does not exist")
        rows = orm.execute(_sessions_query().where(Session.pair_id == pair_id)).all()
    chosen = next_session((_next(row) for row in rows), running=running)
    return chosen.id if chosen else None


def session_to_run(
    db: Database,
    pair_id: int,
    *,
    templates: Mapping[str, SessionTemplate] | None = None,
    running: bool = True,
) -> int:
    """The id of the session to start, resume (or prepare, ``running=False``), scheduling the
    pair's next one if there is none."""
    found = next_session_id(db, pair_id, running=running)
    if found is not None:
        return found
    from coach.sessions.engine import schedule_session

    return schedule_session(db, pair_id, templates=templates)


# The home screen -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PairRow:
    pair_id: int
    mentor: str
    mentee: str
    held: int
    planned: int
    next: NextSession | None
    stalled: bool
    days_since_last: int | None
    """Whole days since the last held session; None before the first one."""

    @property
    def names(self) -> str:
        return f"{self.mentor} & {self.mentee}"


@dataclass(frozen=True)
class Activity:
    at: datetime
    kind: str
    """``pair_created``, ``session_started``, ``session_completed``, ``session_cancelled``,
    ``experiment_added`` or ``experiment_done``."""
    pair_id: int
    text: str
    """What happened, e.g. ``Session 3 completed``."""
    pair: str
    """Who: ``mentor & mentee``."""


@dataclass(frozen=True)
class Overview:
    pairs: list[PairRow]
    """Active pairs, by id."""
    people: int
    all_pairs: int
    """Pairs of any state: an inactive pair still means the programme is not new."""
    activity: list[Activity]

    @property
    def stalled(self) -> list[PairRow]:
        return [row for row in self.pairs if row.stalled]

    @property
    def running(self) -> list[PairRow]:
        return [row for row in self.pairs if row.next and row.next.status == "running"]

    @property
    def empty(self) -> bool:
        return self.people == 0 and self.all_pairs == 0


def overview(db: Database, *, now: datetime, stall_days: int = 21, limit: int = 12) -> Overview:
    """Everything the home screen shows, measured at ``now`` (stalled as in ``metrics``)."""
    metrics = {m.pair_id: m for m in programme_metrics(db, now=now, stall_days=stall_days).pairs}
    with db.read() as orm:
        people = orm.scalar(select(func.count(Person.id))) or 0
        sessions: dict[int, list[NextSession]] = {}
        for row in orm.execute(_sessions_query()):
            sessions.setdefault(row.pair_id, []).append(_next(row))
    rows = [
        PairRow(
            pair_id=m.pair_id,
            mentor=m.mentor_name,
            mentee=m.mentee_name,
            held=m.held,
            planned=m.planned,
            next=next_session(sessions.get(m.pair_id, [])),
            stalled=m.stalled,
            days_since_last=m.days_since_last,
        )
        for m in metrics.values()
        if m.active
    ]
    return Overview(
        pairs=rows,
        people=people,
        all_pairs=len(metrics),
        activity=recent_activity(db, limit) if limit else [],
    )


def recent_activity(db: Database, limit: int = 12) -> list[Activity]:
    """The ``limit`` newest events of the programme, newest first (read from the rows' times)."""
    if limit < 1:
        raise InputError(f"limit must be at least 1, not {limit}")
    mentor, mentee = aliased(Person), aliased(Person)
    names = (mentor.name.label("mentor"), mentee.name.label("mentee"))

    def with_names(query):
        return query.join(mentor, mentor.id == Pair.mentor_id).join(
            mentee, mentee.id == Pair.mentee_id
        )

    events: list[tuple[datetime, int, int, Activity]] = []
    with db.read() as orm:
        pair_q = with_names(select(Pair.id, Pair.created_at.label("at"), *names))
        for row in orm.execute(pair_q.order_by(Pair.created_at.desc()).limit(limit)):
            events.append(_event(row, "pair_created", row.id, "Pair created", row.id))

        for status, column, verb in (
            ("running", Session.started_at, "started"),
            ("completed", Session.ended_at, "completed"),
            ("cancelled", Session.ended_at, "cancelled"),
        ):
            query = with_names(
                select(Session.id, Session.pair_id, Session.number, column.label("at"), *names)
                .join(Pair, Pair.id == Session.pair_id)
                .where(Session.status == status, column.is_not(None))
            )
            for row in orm.execute(query.order_by(column.desc()).limit(limit)):
                text = f"Session {row.number} {verb}"
                events.append(_event(row, f"session_{verb}", row.pair_id, text, row.id))

        for kind, column, verb in (
            ("experiment_added", Experiment.created_at, "Experiment agreed"),
            ("experiment_done", Experiment.completed_at, "Experiment done"),
        ):
            query = with_names(
                select(Experiment.id, Experiment.pair_id, Experiment.title, column.label("at"))
                .add_columns(*names)
                .join(Pair, Pair.id == Experiment.pair_id)
                .where(column.is_not(None))
            )
            if kind == "experiment_done":
                query = query.where(Experiment.status == "done")
            for row in orm.execute(query.order_by(column.desc()).limit(limit)):
                text = f"{verb}: {row.title}"
                events.append(_event(row, kind, row.pair_id, text, row.id))
    events.sort(key=lambda item: item[:3], reverse=True)
    return [activity for *_, activity in events[:limit]]


# Onboarding ----------------------------------------------------------------------------------


def create_pair(db: Database, mentor: Mapping[str, Any], mentee: Mapping[str, Any]) -> int:
    """Add a mentor and a mentee as typed in a form and pair them; returns the pair id.

    Both people are checked (fields, and emails against each other and the programme) before
    anything is written, so a mistake in the second one never leaves the first one behind.
    Problems come back as one InputError, a line each, prefixed ``mentor``/``mentee``.
    """
    from coach.sessions.service import email_owners

    people: dict[str, PersonIn] = {}
    problems: list[str] = []
    for role, data in (("mentor", mentor), ("mentee", mentee)):
        person, found = PersonIn.check({**data, "role": role})
        problems += [f"{role.capitalize()} {problem}" for problem in found]
        if person is not None:
            people[role] = person
    emails = {role: p.email for role, p in people.items() if p.email}
    if len(emails) == 2 and emails["mentor"] == emails["mentee"]:
        problems.append("Mentee email: the mentor has the same address")
    with db.transaction() as orm:  # one transaction: both people and the pair, or nothing
        owners = email_owners(orm, emails.values())
        problems += [
            f"{role.capitalize()} email: {email!r} already belongs to {owners[email].name}"
            for role, email in emails.items()
            if email in owners
        ]
        if problems:
            raise InputError("\n".join(problems))
        added = [Person(**people[role].model_dump()) for role in ("mentor", "mentee")]
        orm.add_all(added)
        orm.flush()
        pair = Pair(mentor_id=added[0].id, mentee_id=added[1].id)
        orm.add(pair)
        orm.flush()
        return pair.id


# Internals -----------------------------------------------------------------------------------


def _sessions_query():
    return select(
        Session.id, Session.pair_id, Session.number, Session.status, Session.scheduled_at
    ).order_by(Session.pair_id, Session.number)


def _next(row: Any) -> NextSession:
    return NextSession(row.id, row.number, row.status, row.scheduled_at)


KIND_ORDER = (
    "pair_created",
    "experiment_done",
    "session_started",
    "session_cancelled",
    "session_completed",
    "experiment_added",
)
"""Ties at one moment read oldest-first from the bottom: a session completes, then its
experiments are agreed (the wrap-up writes both at once)."""


def _event(
    row: Any, kind: str, pair_id: int, text: str, row_id: int
) -> tuple[datetime, int, int, Activity]:
    pair = f"{row.mentor} & {row.mentee}"
    return row.at, KIND_ORDER.index(kind), row_id, Activity(row.at, kind, pair_id, text, pair)

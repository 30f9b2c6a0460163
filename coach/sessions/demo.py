"""A demo programme: made-up pairs at every stage, so Coach can be tried before real data exists.

Facilitators evaluate a tool by looking at its reports, and an empty database has none. The demo
fills one with a programme that looks lived in: pairs that finished, pairs half-way, two that
stalled, one cancelled session and one pair that found after session 1 that it was not a fit.

Demo data must never be mistaken for real data, nor mix with it:

- every demo person is named ``Demo …``, has an ``@demo.invalid`` email (a reserved domain, so
  no real address can match) and the department ``Demo programme``; a person counts as demo data
  only with all three marks;
- a second run is refused while demo people exist, unless ``replace=True``, which deletes the
  demo people and their pairs (with sessions, notes, experiments, feedback) and nothing else.

Everything is drawn from ``random.Random(seed)`` and placed relative to ``now``, so a seed and a
time give the same programme every time (tests, screenshots, bug reports).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from itertools import product
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.orm import Session as OrmSession

from coach.sessions import demo_content as copy
from coach.sessions.db import Database
from coach.sessions.errors import InputError
from coach.sessions.models import (
    EXPERIMENT_STATUSES,
    ROLES,
    Confidence,
    Experiment,
    Feedback,
    Note,
    Pair,
    Person,
    Session,
)
from coach.sessions.templates import (
    BUILTIN_TEMPLATES,
    CHECK_IN,
    FIRST_SESSION,
    STANDARD,
    session_phases,
)

DEMO_PREFIX = "Demo "
DEMO_DOMAIN = "demo.invalid"
DEMO_DEPARTMENT = "Demo programme"
MAX_PAIRS = 200

Stage = Literal["finished", "mid", "mid-cancelled", "stalled", "not-a-fit", "new"]
PLAN: tuple[Stage, ...] = (
    "finished",
    "mid",
    "stalled",
    "not-a-fit",
    "mid-cancelled",
    "finished",
    "mid",
    "stalled",
    "new",
    "finished",
    "mid",
    "mid",
)
"""The stages of the first twelve pairs (shuffled per seed); a smaller demo takes a prefix."""
EXTRA: tuple[Stage, ...] = ("finished", "mid", "mid", "stalled", "new")
"""Stages for pairs beyond twelve, in turn."""

STALLED_DAYS = (38, 65)
"""Days since a stalled pair's last session (give or take the hour of day): stalled at any
``stall_days`` up to 36."""
RECENT_DAYS = (4, 18)
"""Days since a running pair's last session: not stalled at the default of 21."""


@dataclass(frozen=True)
class DemoSummary:
    """What the demo created, for the CLI to print and tests to check."""

    people: int
    pairs: int
    sessions: int
    held: int
    cancelled: int
    upcoming: int
    notes: int
    private_notes: int
    experiments: int
    experiment_statuses: dict[str, int]
    overdue_experiments: int
    """Open experiments whose due date is before ``now``'s date."""
    feedback: int
    confidence: int
    stages: dict[str, int]
    removed_people: int
    """Demo people deleted first (``replace=True``); 0 on a first run."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_demo_person() -> ColumnElement[bool]:
    """SQL condition for a demo person: all three marks, so no real person can match by chance."""
    return and_(
        Person.name.startswith(DEMO_PREFIX, autoescape=True),
        Person.email.endswith(f"@{DEMO_DOMAIN}", autoescape=True),
        Person.department == DEMO_DEPARTMENT,
    )


def create_demo_programme(
    db: Database,
    *,
    now: datetime,
    pairs: int = 12,
    seed: int = 7,
    replace: bool = False,
) -> DemoSummary:
    """Create ``pairs`` demo pairs as of ``now``; InputError if demo people exist already.

    With ``replace=True`` the previous demo data is deleted first, in the same transaction, so a
    failure leaves the old demo in place rather than half of a new one.
    """
    if now.tzinfo is None:
        raise InputError("now needs a time zone (Coach stores UTC times)")
    if not 1 <= pairs <= MAX_PAIRS:
        raise InputError(f"pairs must be between 1 and {MAX_PAIRS}, not {pairs}")
    rng = random.Random(seed)
    stages = list(PLAN[:pairs]) + [EXTRA[i % len(EXTRA)] for i in range(pairs - len(PLAN))]
    rng.shuffle(stages)
    with db.transaction() as orm:
        removed = _remove_demo(orm, replace=replace)
        builder = _Builder(orm, rng, now, people=2 * pairs)
        for index, stage in enumerate(stages):
            builder.add_pair(index, stage)
        orm.flush()
        return builder.summary(removed)


def _remove_demo(orm: OrmSession, *, replace: bool) -> int:
    ids = set(orm.scalars(select(Person.id).where(is_demo_person())))
    if not ids:
        return 0
    if not replace:
        raise InputError(
            f"the database already holds a demo programme ({len(ids)} demo people); "
            "replace it with replace=True"
        )
    linked = orm.scalars(
        select(Pair).where(or_(Pair.mentor_id.in_(ids), Pair.mentee_id.in_(ids)))
    ).all()
    mixed = sorted(p.id for p in linked if p.mentor_id not in ids or p.mentee_id not in ids)
    if mixed:
        raise InputError(
            f"pair(s) {', '.join(map(str, mixed))} join a demo person with a real one; change "
            "or remove them first, replacing the demo never touches real data"
        )
    for pair in linked:
        orm.delete(pair)  # cascades to sessions, phases, notes, experiments, feedback, confidence
    orm.flush()
    orm.execute(delete(Person).where(Person.id.in_(ids)))
    return len(ids)


def _at(rng: random.Random, now: datetime, days: int) -> datetime:
    """A plausible meeting time ``days`` from now (negative: in the past), on the half hour."""
    moment = now + timedelta(days=days)
    return moment.replace(
        hour=rng.choice((8, 9, 11, 14, 16)), minute=rng.choice((0, 30)), second=0, microsecond=0
    )


def _timeline(stage: Stage, rng: random.Random, cadence: int) -> list[tuple[str, int]]:
    """(status, days from now) of each session, oldest first; ``upcoming`` is not held yet."""
    if stage == "new":
        return [("upcoming", rng.randint(2, 7))]
    if stage == "not-a-fit":
        return [("completed", -rng.randint(100, 140))]
    if stage == "finished":
        statuses = ["completed"] * 6
        last = -rng.randint(3, 12)
    elif stage == "stalled":
        statuses = ["completed"] * rng.randint(2, 3)
        last = -rng.randint(*STALLED_DAYS)
    elif stage == "mid":
        statuses = ["completed"] * rng.randint(2, 4)
        last = -rng.randint(*RECENT_DAYS)
    else:  # mid-cancelled: session 3 was called off, and the pair met again a month later
        statuses = ["completed", "completed", "cancelled", "completed"]
        last = -rng.randint(*RECENT_DAYS)
    days = [last]
    for _ in statuses[1:]:
        days.insert(0, days[0] - cadence + rng.randint(-3, 4))
    timeline = list(zip(statuses, days, strict=True))
    if stage != "stalled" and stage != "finished":
        timeline.append(("upcoming", rng.randint(3, 14)))
    return timeline


class _Builder:
    """Adds demo pairs to one transaction and counts what it adds."""

    def __init__(self, orm: OrmSession, rng: random.Random, now: datetime, people: int) -> None:
        self.orm, self.rng, self.now = orm, rng, now
        self.names = rng.sample(list(product(copy.FIRST_NAMES, copy.LAST_NAMES)), people)
        self.counts: Counter[str] = Counter()
        self.stages: Counter[str] = Counter()

    def summary(self, removed: int) -> DemoSummary:
        c = self.counts
        return DemoSummary(
            people=c["people"],
            pairs=c["pairs"],
            sessions=c["sessions"],
            held=c["completed"],
            cancelled=c["cancelled"],
            upcoming=c["upcoming"],
            notes=c["notes"],
            private_notes=c["private_notes"],
            experiments=c["experiments"],
            experiment_statuses={
                status: c[f"experiments_{status}"] for status in EXPERIMENT_STATUSES
            },
            overdue_experiments=c["overdue"],
            feedback=c["feedback"],
            confidence=c["confidence"],
            stages=dict(sorted(self.stages.items())),
            removed_people=removed,
        )

    def _person(self, role: str, area: copy.Area, created_at: datetime) -> Person:
        first, last = self.names.pop()
        rng = self.rng
        person = Person(
            name=f"{DEMO_PREFIX}{first} {last}",
            email=f"{first}.{last}@{DEMO_DOMAIN}".lower(),
            role=role,
            department=DEMO_DEPARTMENT,
            timezone=rng.choice(copy.TIMEZONES),
            created_at=created_at,
        )
        other = rng.choice([a for a in copy.AREAS if a is not area])
        if role == "mentor":
            person.skills = [*rng.sample(area.mentor_skills, 3), other.mentor_skills[0]]
        else:
            person.growth_areas = [area.name, other.name] if rng.random() < 0.5 else [area.name]
            person.goals = rng.sample(area.mentee_goals, 2)
        self.counts["people"] += 1
        return person

    def add_pair(self, index: int, stage: Stage) -> None:
        rng = self.rng
        area = copy.AREAS[(index + rng.randrange(len(copy.AREAS))) % len(copy.AREAS)]
        cadence = rng.choice((28, 28, 28, 21, 35))
        timeline = _timeline(stage, rng, cadence)
        start = min(days for _, days in timeline)
        created = self.now + timedelta(
            days=min(start, 0) - rng.randint(5, 15), seconds=rng.randrange(86_400)
        )
        people_created = created - timedelta(days=rng.randint(1, 10))
        pair = Pair(
            mentor=self._person("mentor", area, people_created),
            mentee=self._person("mentee", area, people_created),
            cadence_days=cadence,
            planned_sessions=6,
            active=stage != "not-a-fit",
            created_at=created,
        )
        self.orm.add(pair)
        self.counts["pairs"] += 1
        self.stages[stage] += 1

        levels: dict[str, int] = {}
        held: list[tuple[Session, list[tuple[str, str]]]] = []
        for number, (status, days) in enumerate(timeline, start=1):
            topics = self._topics(area, number)
            session = self._session(pair, number, status, _at(rng, self.now, days), topics)
            if status == "completed":
                held.append((session, self._hold(pair, session, stage, index, topics, levels)))
        if stage == "not-a-fit":
            held[0][0].summary = copy.NOT_A_FIT_SUMMARY
        self.orm.flush()  # experiments refer to their session by id
        for position, (session, experiments) in enumerate(held):
            following = held[position + 1][0] if position + 1 < len(held) else None
            for owner, title in experiments:
                self._experiment(pair, session, owner, title, following)

    def _topics(self, area: copy.Area, number: int) -> list[str]:
        topics = [area.topics[(number - 1) % len(area.topics)]]
        if number > 1 and self.rng.random() < 0.25:
            extra = self.rng.choice([t for t in copy.TOPICS if t not in topics])
            topics.append(extra)
        return topics

    def _session(
        self, pair: Pair, number: int, status: str, when: datetime, topics: list[str]
    ) -> Session:
        if number == 1:
            template = BUILTIN_TEMPLATES[FIRST_SESSION]
        elif status == "completed" and self.rng.random() < 0.15:
            template = BUILTIN_TEMPLATES[CHECK_IN]
        else:
            template = BUILTIN_TEMPLATES[STANDARD]
        session = Session(
            number=number,
            topic_ids=topics,
            template_id=template.id,
            status="planned" if status == "upcoming" else status,
            scheduled_at=when,
        )
        session.phases = session_phases(template)
        if status == "cancelled":
            session.cancel_reason = copy.CANCEL_REASON
            session.ended_at = when - timedelta(days=2)  # called off two days ahead
        pair.sessions.append(session)
        self.counts["sessions"] += 1
        self.counts[status] += 1
        return session

    def _hold(
        self,
        pair: Pair,
        session: Session,
        stage: Stage,
        index: int,
        topics: list[str],
        levels: dict[str, int],
    ) -> list[tuple[str, str]]:
        """Fill in a held session: timings, notes, feedback and confidence. Returns the
        experiments agreed in it as (owner, title); they are added once the session has an id."""
        rng = self.rng
        assert session.scheduled_at is not None
        for phase in session.phases:
            phase.seconds_spent = float(round(phase.planned_minutes * 60 * rng.uniform(0.75, 1.35)))
        session.started_at = session.scheduled_at + timedelta(minutes=rng.choice((0, 2, 5)))
        spent = sum(phase.seconds_spent for phase in session.phases)
        session.ended_at = session.started_at + timedelta(seconds=spent, minutes=rng.randint(0, 6))
        session.summary = " ".join(copy.TOPICS[t].summary for t in topics)
        phase_ids = [phase.phase_id for phase in session.phases]

        if session.number == 1:
            pair.agreed_at = session.ended_at
            pair.agreement_no_blame_exit = True
            for name, text in copy.AGREEMENT.items():
                setattr(pair, name, text)
            self._note(session, "agreement", rng.choice(ROLES), rng.choice(copy.OPENING_NOTES))
        work_phase = "core" if "core" in phase_ids else "question"
        for text in rng.sample(copy.TOPICS[topics[0]].notes, rng.randint(1, 2)):
            self._note(session, work_phase, rng.choice(ROLES), text)
        if (index + session.number) % 3 == 0:
            author = rng.choice(ROLES)
            text = rng.choice(copy.PRIVATE_NOTES[author])
            self._note(session, rng.choice((phase_ids[-1], "")), author, text, private=True)

        misfit = stage == "not-a-fit"
        for side in ROLES:
            session.feedback.append(
                Feedback(
                    side=side,
                    rating=rng.choice((2, 3)) if misfit else rng.choice((3, 4, 4, 5, 5)),
                    what_worked="" if misfit else rng.choice(copy.WHAT_WORKED[side]),
                    what_to_change=(
                        copy.NOT_A_FIT[side] if misfit else rng.choice(copy.WHAT_TO_CHANGE[side])
                    ),
                    good_fit=(not misfit) if session.number == 1 else None,
                    created_at=session.ended_at,
                )
            )
            self.counts["feedback"] += 1
        for topic in topics:
            before = levels.get(topic, rng.randint(1, 3))
            after = min(5, before + rng.choice((0, 1, 1, 2)))
            levels[topic] = after
            session.confidence.append(Confidence(topic_id=topic, before=before, after=after))
            self.counts["confidence"] += 1
        if misfit:
            return []
        experiments = [("mentee", copy.TOPICS[topics[0]].experiment)]
        if rng.random() < 0.4:
            experiments.append(("mentor", rng.choice(copy.MENTOR_EXPERIMENTS)))
        return experiments

    def _experiment(
        self, pair: Pair, session: Session, owner: str, title: str, following: Session | None
    ) -> None:
        """Due one cadence after the session. Done or dropped once a later session was held;
        otherwise still open, and overdue when the pair stalled (its due date has passed)."""
        assert session.ended_at is not None
        experiment = Experiment(
            session_id=session.id,
            title=title,
            owner=owner,
            due_date=(session.ended_at + timedelta(days=pair.cadence_days)).date(),
            status="open",
            created_at=session.ended_at,
        )
        if following is not None:
            assert following.started_at is not None
            if self.rng.random() < 0.8:
                experiment.status = "done"
                experiment.completed_at = following.started_at - timedelta(
                    days=self.rng.randint(1, 5)
                )
            else:
                experiment.status = "dropped"
        pair.experiments.append(experiment)
        self.counts["experiments"] += 1
        self.counts[f"experiments_{experiment.status}"] += 1
        assert experiment.due_date is not None
        self.counts["overdue"] += (
            experiment.status == "open" and experiment.due_date < self.now.date()
        )

    def _note(
        self, session: Session, phase_id: str, author: str, text: str, private: bool = False
    ) -> None:
        assert session.started_at is not None
        at = session.started_at + timedelta(minutes=self.rng.randint(5, 55))
        session.notes.append(
            Note(
                phase_id=phase_id,
                author_role=author,
                private=private,
                text=text,
                created_at=at,
                updated_at=at,
            )
        )
        self.counts["notes"] += 1
        self.counts["private_notes"] += private

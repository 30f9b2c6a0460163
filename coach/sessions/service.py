"""The programme's people, pairs and sessions: the reads and writes the CLI and the TUI share.

No UI code lives here. Functions take a ``Database`` and raise ``InputError`` / ``NotFound`` with
a message fit to show as it is. Lists return ORM rows (loaded, usable after the transaction);
details return plain JSON-ready dicts, so ``--json``, tables and the TUI all show the same facts.
Every write is one transaction: it happens entirely or not at all.

Privacy rule: private notes leave this module only through ``session_detail(...,
include_private=True)``, which only the pair's own views may pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import selectinload

from coach.sessions.errors import InputError, NotFound
from coach.sessions.models import (
    ROLES,
    Confidence,
    Experiment,
    Feedback,
    Note,
    Pair,
    Person,
    Session,
    SessionPhase,
    utcnow,
)
from coach.sessions.people_csv import duplicate_emails, problem_report, read_people_csv
from coach.sessions.validation import PersonIn, Problem, parse_date

if TYPE_CHECKING:
    from datetime import date

    from coach.sessions.db import Database

__all__ = [
    "PersonIn",
    "add_pair",
    "add_person",
    "delete_pair",
    "import_people_csv",
    "list_pairs",
    "list_people",
    "list_sessions",
    "pair_detail",
    "pair_dict",
    "parse_date",
    "person_dict",
    "session_detail",
    "session_dict",
    "set_agreement",
]

_IN_CHUNK = 500  # stays well below SQLite's limit on bound parameters per statement


# People ------------------------------------------------------------------------------------------


def add_person(db: Database, person: PersonIn | Mapping[str, Any]) -> int:
    """Add one person; a mapping is validated first. Returns the new id."""
    if not isinstance(person, PersonIn):
        person = PersonIn.from_input(person)
    try:
        with db.transaction() as orm:
            if person.email and (owner := email_owners(orm, [person.email]).get(person.email)):
                raise InputError(f"email: {_taken(person.email, owner)}")
            row = Person(**person.model_dump())
            orm.add(row)
            orm.flush()
            return row.id
    except IntegrityError as exc:
        if not _email_clash(exc):
            raise
        # Another writer took the address between our check and the commit (not on SQLite,
        # where the transaction holds the write lock from its start).
        raise InputError(f"email: {person.email!r} is already in use") from None


def list_people(db: Database, role: str | None = None) -> list[Person]:
    if role is not None and role not in ROLES:
        raise InputError(f"{role!r} is not a role (use mentor or mentee)")
    query = select(Person).order_by(Person.id)
    if role is not None:
        query = query.where(Person.role == role)
    with db.transaction() as orm:
        return list(orm.scalars(query))


def import_people_csv(db: Database, path: Path | str) -> list[int]:
    """Add everyone in a CSV file, or no one: any problem anywhere means nothing is written.

    All problems are collected (parse errors, invalid fields, emails repeated in the file or
    already in the programme) and raised as one InputError, one line per problem, sorted by row.
    The database check runs in the same transaction as the inserts, so no concurrent writer can
    slip a clashing email in between.
    """
    path = Path(path)
    parsed = read_people_csv(path)
    problems = parsed.problems + duplicate_emails(parsed.emails)
    try:
        with db.transaction() as orm:
            owners = email_owners(orm, [email for _, email in parsed.emails])
            problems += [
                Problem(row, "email", _taken(email, owners[email]))
                for row, email in parsed.emails
                if email in owners
            ]
            if problems:
                raise InputError(problem_report(path, problems, nothing="imported"))
            rows = [Person(**person.model_dump()) for _, person in parsed.people]
            orm.add_all(rows)
            orm.flush()
            return [row.id for row in rows]
    except IntegrityError as exc:
        if not _email_clash(exc):
            raise
        raise InputError(
            f"{path.name}: nothing was imported: an email was added by someone else meanwhile;"
            " run the import again to see which"
        ) from None


def person_dict(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "name": person.name,
        "role": person.role,
        "email": person.email,
        "department": person.department,
        "manager": person.manager,
        "timezone": person.timezone,
        "skills": list(person.skills),
        "growth_areas": list(person.growth_areas),
        "goals": list(person.goals),
        "created_at": _iso(person.created_at),
    }


def email_owners(orm: OrmSession, emails: Iterable[str]) -> dict[str, Person]:
    """Existing people by lower-cased email (rows written by other code may not be lower-case)."""
    wanted = sorted({email.lower() for email in emails})
    owners: dict[str, Person] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        for person in orm.scalars(select(Person).where(func.lower(Person.email).in_(chunk))):
            owners[person.email.lower()] = person
    return owners


def _email_clash(exc: IntegrityError) -> bool:
    """Whether the database refused a duplicate email (the one constraint validation can't see)."""
    message = str(exc.orig).lower()
    return "email" in message and ("unique" in message or "duplicate" in message)


def _taken(email: str, owner: Person) -> str:
    return f"{email!r} already belongs to person {owner.id} ({owner.name})"


def _person(orm: OrmSession, person_id: int) -> Person:
    person = orm.get(Person, person_id)
    if person is None:
        raise NotFound(f"person {person_id} does not exist")
    return person


# Pairs -------------------------------------------------------------------------------------------


def add_pair(
    db: Database,
    mentor_id: int,
    mentee_id: int,
    *,
    cadence_days: int = 28,
    planned_sessions: int = 6,
) -> int:
    """Pair a mentor with a mentee. The same two may not have two active pairs at once."""
    if cadence_days < 1:
        raise InputError(f"cadence_days must be at least 1 (got {cadence_days})")
    if planned_sessions < 1:
        raise InputError(f"planned_sessions must be at least 1 (got {planned_sessions})")
    with db.transaction() as orm:
        mentor, mentee = _person(orm, mentor_id), _person(orm, mentee_id)
        for person, role in ((mentor, "mentor"), (mentee, "mentee")):
            if person.role != role:
                raise InputError(
                    f"person {person.id} ({person.name}) is a {person.role}, not a {role}"
                )
        existing = orm.scalar(
            select(Pair.id).where(
                Pair.mentor_id == mentor.id, Pair.mentee_id == mentee.id, Pair.active.is_(True)
            )
        )
        if existing is not None:
            raise InputError(
                f"{mentor.name} and {mentee.name} are already paired (pair {existing})"
            )
        pair = Pair(
            mentor_id=mentor.id,
            mentee_id=mentee.id,
            cadence_days=cadence_days,
            planned_sessions=planned_sessions,
        )
        orm.add(pair)
        orm.flush()
        return pair.id


def list_pairs(db: Database, active: bool | None = None) -> list[Pair]:
    """Pairs by id, with mentor, mentee and sessions loaded for use after the transaction."""
    query = (
        select(Pair)
        .options(selectinload(Pair.mentor), selectinload(Pair.mentee), selectinload(Pair.sessions))
        .order_by(Pair.id)
    )
    if active is not None:
        query = query.where(Pair.active.is_(active))
    with db.transaction() as orm:
        return list(orm.scalars(query))


def pair_dict(pair: Pair) -> dict[str, Any]:
    """A pair as one list row; ``pair`` must come from ``list_pairs`` (relations loaded)."""
    return {
        "id": pair.id,
        "mentor": {"id": pair.mentor.id, "name": pair.mentor.name},
        "mentee": {"id": pair.mentee.id, "name": pair.mentee.name},
        "cadence_days": pair.cadence_days,
        "planned_sessions": pair.planned_sessions,
        "sessions_total": len(pair.sessions),
        "sessions_completed": sum(1 for item in pair.sessions if item.status == "completed"),
        "agreed": pair.agreed_at is not None,
        "active": pair.active,
    }


def pair_detail(db: Database, pair_id: int) -> dict[str, Any]:
    """Everything a facilitator needs about one pair (no notes: those belong to sessions)."""
    with db.transaction() as orm:
        pair = _pair(orm, pair_id)
        return {
            "id": pair.id,
            "active": pair.active,
            "created_at": _iso(pair.created_at),
            "mentor": person_dict(pair.mentor),
            "mentee": person_dict(pair.mentee),
            "cadence_days": pair.cadence_days,
            "planned_sessions": pair.planned_sessions,
            "agreement": _agreement(pair),
            "sessions": _sessions_summary(pair),
            "open_experiments": [
                _experiment(item) for item in pair.experiments if item.status == "open"
            ],
        }


def delete_pair(db: Database, pair_id: int) -> dict[str, int]:
    """Delete a pair and everything recorded about it; returns how many rows of each kind went.

    The people stay: they may be paired again. The ORM cascade removes sessions (with phases,
    notes, feedback and confidence) and experiments, and the schema's ON DELETE CASCADE backs it.
    """
    with db.transaction() as orm:
        pair = _pair(orm, pair_id)
        removed = {"pairs": 1, **_pair_row_counts(orm, pair_id)}
        orm.delete(pair)
        orm.flush()
        return removed


def set_agreement(
    db: Database,
    pair_id: int,
    *,
    cadence: str,
    confidentiality: str,
    boundaries: str,
    feedback_style: str,
    no_blame_exit: bool,
    agreed_at: datetime | None = None,
) -> None:
    """Record the first-session agreement (replacing an earlier one) and when it was made.

    Cadence and confidentiality are required: they are the two things a pair must settle before
    anything personal is said. Boundaries and feedback style may honestly be "none yet".
    """
    texts = {
        "cadence": cadence,
        "confidentiality": confidentiality,
        "boundaries": boundaries,
        "feedback_style": feedback_style,
    }
    for name, value in texts.items():
        if not isinstance(value, str):
            raise InputError(f"agreement {name}: expected text")
        texts[name] = value.strip()
    for name in ("cadence", "confidentiality"):
        if not texts[name]:
            raise InputError(f"agreement {name}: required")
    if not isinstance(no_blame_exit, bool):
        raise InputError("agreement no_blame_exit: expected yes or no")
    with db.transaction() as orm:
        pair = _pair(orm, pair_id)
        pair.agreement_cadence = texts["cadence"]
        pair.agreement_confidentiality = texts["confidentiality"]
        pair.agreement_boundaries = texts["boundaries"]
        pair.agreement_feedback_style = texts["feedback_style"]
        pair.agreement_no_blame_exit = no_blame_exit
        pair.agreed_at = agreed_at or utcnow()


def _pair(orm: OrmSession, pair_id: int) -> Pair:
    pair = orm.get(Pair, pair_id)
    if pair is None:
        raise NotFound(f"pair {pair_id} does not exist")
    return pair


def _pair_row_counts(orm: OrmSession, pair_id: int) -> dict[str, int]:
    session_ids = select(Session.id).where(Session.pair_id == pair_id).scalar_subquery()
    counts = {
        "sessions": select(func.count()).select_from(Session).where(Session.pair_id == pair_id)
    }
    for name, model in (
        ("session_phases", SessionPhase),
        ("notes", Note),
        ("feedback", Feedback),
        ("confidence", Confidence),
    ):
        counts[name] = (
            select(func.count()).select_from(model).where(model.session_id.in_(session_ids))
        )
    counts["experiments"] = (
        select(func.count()).select_from(Experiment).where(Experiment.pair_id == pair_id)
    )
    return {name: orm.scalar(query) or 0 for name, query in counts.items()}


def _agreement(pair: Pair) -> dict[str, Any]:
    return {
        "agreed": pair.agreed_at is not None,
        "agreed_at": _iso(pair.agreed_at),
        "cadence": pair.agreement_cadence,
        "confidentiality": pair.agreement_confidentiality,
        "boundaries": pair.agreement_boundaries,
        "feedback_style": pair.agreement_feedback_style,
        "no_blame_exit": pair.agreement_no_blame_exit,
    }


def _sessions_summary(pair: Pair) -> dict[str, Any]:
    sessions = pair.sessions
    status = Counter(item.status for item in sessions)
    held = [item.ended_at or item.started_at for item in sessions if item.status == "completed"]
    upcoming = sorted(
        item.scheduled_at
        for item in sessions
        if item.status in ("planned", "prepared") and item.scheduled_at is not None
    )
    return {
        "total": len(sessions),
        "completed": status["completed"],
        "upcoming": status["planned"] + status["prepared"],
        "running": status["running"],
        "cancelled": status["cancelled"],
        "remaining": max(pair.planned_sessions - status["completed"], 0),
        "last_held_at": _iso(max((at for at in held if at), default=None)),
        "next_scheduled_at": _iso(upcoming[0] if upcoming else None),
        "items": [session_dict(item) for item in sessions],
    }


# Sessions ----------------------------------------------------------------------------------------


def list_sessions(db: Database, pair_id: int | None = None) -> list[Session]:
    """Sessions by pair and number; an unknown pair is NotFound rather than an empty list."""
    query = select(Session).order_by(Session.pair_id, Session.number)
    with db.transaction() as orm:
        if pair_id is not None:
            _pair(orm, pair_id)
            query = query.where(Session.pair_id == pair_id)
        return list(orm.scalars(query))


def note_dict(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "uid": note.uid,
        "phase_id": note.phase_id,
        "author_role": note.author_role,
        "private": note.private,
        "text": note.text,
        "created_at": _iso(note.created_at),
        "updated_at": _iso(note.updated_at),
    }


def _pair_notes(
    db: Database, session_id: int, include_private: bool, notes: list[Note]
) -> list[dict[str, Any]]:
    """The session's notes; the pair's own views also get this machine's (shared database)."""
    server = [note_dict(note) for note in notes if include_private or not note.private]
    if not include_private or db.local_notes is None:
        return server
    from coach.sessions.local_notes import merge_notes

    return merge_notes(server, db.local_notes.for_session(session_id))


def session_detail(
    db: Database, session_id: int, *, include_private: bool = False
) -> dict[str, Any]:
    """One session with phases, notes, experiments, feedback and confidence.

    Private notes are left out unless ``include_private=True``: only the pair's own views may
    pass it. Everything else (reports, exports, the CLI, any model) gets the default.
    """
    with db.transaction() as orm:
        session = orm.get(Session, session_id)
        if session is None:
            raise NotFound(f"session {session_id} does not exist")
        experiments = orm.scalars(
            select(Experiment).where(Experiment.session_id == session_id).order_by(Experiment.id)
        )
        return {
            **session_dict(session),
            "mentor": {"id": session.pair.mentor.id, "name": session.pair.mentor.name},
            "mentee": {"id": session.pair.mentee.id, "name": session.pair.mentee.name},
            "current_phase": session.current_phase,
            "summary": session.summary,
            "cancel_reason": session.cancel_reason,
            "plan": session.plan,
            "agenda_checked": list(session.agenda_checked or []),
            "phases": [
                {
                    "position": phase.position,
                    "phase_id": phase.phase_id,
                    "title": phase.title,
                    "planned_minutes": phase.planned_minutes,
                    "seconds_spent": phase.seconds_spent,
                    "guidance": phase.guidance,
                }
                for phase in session.phases
            ],
            "notes": _pair_notes(db, session_id, include_private, session.notes),
            "experiments": [_experiment(item) for item in experiments],
            "feedback": [
                {
                    "side": item.side,
                    "rating": item.rating,
                    "what_worked": item.what_worked,
                    "what_to_change": item.what_to_change,
                    "good_fit": item.good_fit,
                }
                for item in sorted(session.feedback, key=lambda item: ROLES.index(item.side))
            ],
            "confidence": [
                {"topic_id": item.topic_id, "before": item.before, "after": item.after}
                for item in sorted(session.confidence, key=lambda item: item.topic_id)
            ],
        }


def session_dict(session: Session) -> dict[str, Any]:
    """A session as one list row: what it is and when, nothing anyone wrote in it."""
    return {
        "id": session.id,
        "pair_id": session.pair_id,
        "number": session.number,
        "status": session.status,
        "template_id": session.template_id,
        "topic_ids": list(session.topic_ids),
        "scheduled_at": _iso(session.scheduled_at),
        "started_at": _iso(session.started_at),
        "ended_at": _iso(session.ended_at),
    }


def _experiment(item: Experiment) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "owner": item.owner,
        "due_date": _iso(item.due_date),
        "status": item.status,
        "session_id": item.session_id,
    }


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None

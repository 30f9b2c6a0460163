"""Test data for the programme service and CLI: people, and pairs with a full history.

Sessions, notes, feedback and the rest are written straight through the ORM, because creating
them is the session engine's job, not the service layer's under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from coach.sessions.db import Database
from coach.sessions.models import (
    Confidence,
    Experiment,
    Feedback,
    Note,
    Pair,
    Session,
    SessionPhase,
)
from coach.sessions.service import add_pair, add_person

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class History:
    pair_id: int
    mentor_id: int
    mentee_id: int
    session_ids: list[int]
    public_note: str
    private_note: str


def pair_with_history(db: Database, tag: str, sessions: int = 2) -> History:
    """A mentor, a mentee and a pair whose sessions have every kind of child row.

    ``tag`` makes names, emails and note texts unique, so tests can tell pairs apart in output.
    The last session is planned (not held); the others are completed with notes, phases,
    feedback, confidence and experiments (one open, one done).
    """
    mentor_id = add_person(
        db, {"name": f"Mentor {tag}", "role": "mentor", "email": f"mentor.{tag}@example.org"}
    )
    mentee_id = add_person(
        db, {"name": f"Mentee {tag}", "role": "mentee", "email": f"mentee.{tag}@example.org"}
    )
    pair_id = add_pair(db, mentor_id, mentee_id, cadence_days=14, planned_sessions=4)
    public_note, private_note = f"shared idea {tag}", f"private worry {tag}"
    session_ids = []
    with db.transaction() as orm:
        pair = orm.get(Pair, pair_id)
        for number in range(1, sessions + 1):
            held = number < sessions
            start = T0 + timedelta(days=14 * (number - 1))
            session = Session(
                pair=pair,
                number=number,
                topic_ids=["ai-tools"],
                status="completed" if held else "planned",
                scheduled_at=start,
                started_at=start if held else None,
                ended_at=start + timedelta(hours=1) if held else None,
                summary=f"summary {tag} {number}" if held else "",
            )
            orm.add(session)
            session.phases = [
                SessionPhase(position=0, phase_id="checkin", title="Check-in", planned_minutes=5),
                SessionPhase(position=1, phase_id="teach", title="Teach", planned_minutes=40),
            ]
            if held:
                session.notes = [
                    Note(phase_id="teach", author_role="mentor", text=public_note),
                    Note(phase_id="teach", author_role="mentee", private=True, text=private_note),
                ]
                session.feedback = [
                    Feedback(side="mentor", rating=4, what_worked="pace"),
                    Feedback(side="mentee", rating=5, good_fit=True),
                ]
                session.confidence = [Confidence(topic_id="ai-tools", before=2, after=4)]
            orm.flush()
            session_ids.append(session.id)
            if held:
                orm.add_all(
                    [
                        Experiment(
                            pair=pair,
                            session_id=session.id,
                            title=f"try prompts {tag} {number}",
                            owner="mentee",
                            due_date=date(2026, 4, 1),
                        ),
                        Experiment(
                            pair=pair,
                            session_id=session.id,
                            title=f"post once {tag} {number}",
                            owner="mentee",
                            status="done",
                        ),
                    ]
                )
    return History(pair_id, mentor_id, mentee_id, session_ids, public_note, private_note)

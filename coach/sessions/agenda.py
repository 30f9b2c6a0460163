"""Which agenda items of a live session the pair has ticked off, kept with the session.

The ticks live in the session's ``plan`` JSON under ``AGENDA_KEY`` (a list of item keys such
as ``phase:core`` or ``experiment:12``), because the plan is what the agenda is made from and
the session row is the only state Coach keeps; a session prepared without a plan gets a plan
object holding just the ticks. Readers that validate the plan as a ``SessionPlan`` drop the key
first (``plan_without_agenda``). Each change is one short transaction, so quitting the TUI
mid-session keeps every tick.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from coach.sessions.db import Database
from coach.sessions.errors import NotFound
from coach.sessions.models import Session

AGENDA_KEY = "agenda_checked"


def plan_without_agenda(plan: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stored plan as preparation wrote it: None if it only holds agenda ticks."""
    if not plan:
        return None
    rest = {key: value for key, value in plan.items() if key != AGENDA_KEY}
    return rest or None


def agenda_checked(db: Database, session_id: int) -> set[str]:
    """The keys of the ticked agenda items."""
    with db.read() as orm:
        session = orm.get(Session, session_id)
        if session is None:
            raise NotFound(f"session {session_id} does not exist")
        return {str(key) for key in (session.plan or {}).get(AGENDA_KEY, [])}


def set_agenda(db: Database, session_id: int, keys: Iterable[str]) -> None:
    """Store exactly ``keys`` as the ticked items (the caller sends its whole, latest set)."""
    with db.transaction() as orm:
        session = orm.get(Session, session_id)
        if session is None:
            raise NotFound(f"session {session_id} does not exist")
        plan = dict(session.plan or {})
        plan[AGENDA_KEY] = sorted(set(keys))
        session.plan = plan  # a new dict, so SQLAlchemy sees the JSON change

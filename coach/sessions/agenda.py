"""Which agenda items of a live session the pair has ticked off, kept with the session.

The ticks are keys such as ``phase:core`` or ``experiment:12`` in ``Session.agenda_checked``.
Each change is one short transaction, so quitting the TUI mid-session keeps every tick.
"""

from __future__ import annotations

from collections.abc import Iterable

from coach.sessions.db import Database
from coach.sessions.errors import NotFound
from coach.sessions.models import Session


def agenda_checked(db: Database, session_id: int) -> set[str]:
    """The keys of the ticked agenda items."""
    with db.read() as orm:
        session = orm.get(Session, session_id)
        if session is None:
            raise NotFound(f"session {session_id} does not exist")
        return {str(key) for key in session.agenda_checked or []}


def set_agenda(db: Database, session_id: int, keys: Iterable[str]) -> None:
    """Store exactly ``keys`` as the ticked items (the caller sends its whole, latest set)."""
    with db.transaction() as orm:
        session = orm.get(Session, session_id)
        if session is None:
            raise NotFound(f"session {session_id} does not exist")
        session.agenda_checked = sorted(set(keys))  # a new list, so SQLAlchemy sees the change

"""`coach doctor`: which backend each part of Coach uses, and whether it answers.

Each capability probes itself (its own module knows how to reach it); this only gathers them,
each in its own try, so one broken part never hides the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from coach.probe import Probe

if TYPE_CHECKING:
    from coach.settings import Settings


def probes(settings: Settings) -> list[Probe]:
    from coach.knowledge.store import probe_knowledge
    from coach.prepare.backends import probe_model
    from coach.sessions.db import probe_database
    from coach.sessions.local_notes import probe_local_notes

    checks: list[tuple[str, Callable[[Settings], Probe]]] = [
        ("database", probe_database),
        ("private notes", probe_local_notes),
        ("knowledge base", probe_knowledge),
        ("model", probe_model),
    ]
    found = []
    for part, probe in checks:
        try:
            found.append(probe(settings))
        except Exception as exc:  # a probe that breaks is itself a finding
            found.append(Probe(part, "?", "?", False, f"{type(exc).__name__}: {exc}"))
    return found

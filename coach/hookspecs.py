"""The hooks a Coach plugin can implement. Every hook is documented in docs/plugins.md.

``register_*`` hooks receive a ``register`` callback and call it once per thing they add, so a
plugin never returns lists and one bad item can be reported without losing the others. Paths a
plugin registers are relative to its own folder and must stay inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from coach.knowledge.documents import Document
    from coach.matching.models import Candidate
    from coach.plugins.models import SessionEvent, SessionTemplate, Topic

hookspec = pluggy.HookspecMarker("coach")
hookimpl = pluggy.HookimplMarker("coach")


@hookspec
def register_topics(register: Callable[[Topic], None]) -> None:
    """Add topics: ``register(Topic(...))`` once per topic.

    A topic's ``knowledge`` files are ingested into the default collection tagged with the plugin
    and the topic, so retrieval can be filtered to one topic.
    """


@hookspec
def register_knowledge(register: Callable[..., None]) -> None:
    """Add knowledge files: ``register("knowledge/file.md", topics=["topic-id"])``.

    For files that serve several topics or none; files about one topic can instead be listed in
    that topic's ``knowledge`` field.
    """


@hookspec
def register_prompts(register: Callable[[str, str], None]) -> None:
    """Add or override a prompt template: ``register(name, template_text)``.

    A template registered under the name of a built-in one replaces it (the user's own
    templates in ``COACH_HOME/prompts`` still win over plugins).
    """


@hookspec
def register_session_templates(register: Callable[[SessionTemplate], None]) -> None:
    """Add session templates: ``register(SessionTemplate(...))`` with phases and minutes."""


@hookspec
def register_loaders(
    register: Callable[[Sequence[str], Callable[[Path, bytes], Document]], None],
) -> None:
    """Teach the knowledge base a file type: ``register([".vtt"], load_vtt)``.

    The loader receives the path and the file's bytes and returns a ``Document``; it raises
    ``coach.knowledge.documents.Skip("reason")`` for a file it cannot use.
    """


@hookspec
def register_matching_criteria(
    register: Callable[[str, Callable[[Candidate, Candidate], float | None]], None],
) -> None:
    """Add a matching criterion: ``register("same-site", criterion)``.

    ``criterion(mentor, mentee)`` receives two ``Candidate``s and returns a bonus added to the
    pair's score (negative for a penalty; similarities are about 0 to 1), or None to rule the
    pair out. A criterion that raises is reported once and ignored for that run.
    """


@hookspec
def session_started(event: SessionEvent) -> None:
    """A session has started (its first phase is running)."""


@hookspec
def session_phase_changed(event: SessionEvent) -> None:
    """The running session moved to another phase (``event.previous_phase`` -> ``event.phase``)."""


@hookspec
def session_completed(event: SessionEvent) -> None:
    """A session was completed and its wrap-up saved."""

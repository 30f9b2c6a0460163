"""What plugins contribute, as validated models: topics, session templates, lifecycle events.

Field docstrings are the reference a plugin author reads (docs/plugins.md points here).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Exercise(_Strict):
    """A hands-on task the mentor walks the mentee through during the core of a session."""

    title: Text
    goal: Text
    """What the mentee has done or made at the end."""
    minutes: int = Field(20, ge=1, le=180)
    steps: list[Text] = Field(min_length=1)
    """Concrete, imperative steps, in order."""
    materials: list[Text] = []
    """What to have ready: a laptop logged in to a tool, last week's slides, ..."""


class Resource(_Strict):
    title: Text
    url: str | None = None
    note: str = ""


class Topic(_Strict):
    """One thing a pair can work on in a session, with everything needed to prepare it."""

    id: Slug
    """Unique across all plugins, e.g. ``linkedin-presence``."""
    title: Text
    summary: Text
    tags: list[Slug] = []
    objectives: list[Text] = []
    """Learning objectives for the mentee; each starts with a verb."""
    icebreakers: list[Text] = []
    questions: list[Text] = []
    """Discussion questions; each ends with a question mark."""
    exercises: list[Exercise] = []
    mentor_tips: list[Text] = []
    """For the junior mentor: explaining up, giving upward feedback on this topic."""
    mentee_tips: list[Text] = []
    """For the senior mentee: staying curious, listening, sharing context back."""
    resources: list[Resource] = []
    knowledge: list[str] = []
    """Knowledge files about this topic, relative to the plugin folder (ingested, tagged)."""

    @field_validator("questions")
    @classmethod
    def _questions_are_questions(cls, questions: list[str]) -> list[str]:
        for index, question in enumerate(questions):
            if not question.rstrip().endswith("?"):
                raise ValueError(f"question {index} does not end with '?': {question[:60]!r}")
        return questions


class Phase(_Strict):
    id: Slug
    title: Text
    minutes: int = Field(ge=1, le=240)
    guidance: str = ""
    """What happens in this phase, shown to the pair while it runs."""


class SessionTemplate(_Strict):
    """The phases of a session and how long each should take."""

    id: Slug
    title: Text
    description: str = ""
    phases: list[Phase] = Field(min_length=1)

    @property
    def minutes(self) -> int:
        return sum(phase.minutes for phase in self.phases)


class SessionEvent(_Strict):
    """What lifecycle hooks receive. Private notes are never part of an event."""

    session_id: str
    pair_id: str
    number: int = Field(ge=1)
    """1 for a pair's first session."""
    topic_ids: list[str] = []
    phase: str | None = None
    """The phase now running (None before the first and after the last)."""
    previous_phase: str | None = None
    at: datetime

"""The session plan: what preparation hands a pair, every line traceable to where it came from.

Every backend (the grounded baseline here, local models later) produces this one shape, so the
CLI, the TUI and exports never care who wrote a plan. Each item carries a *provenance* string so
a facilitator can check a suggestion against its source:

- ``plugin:<name>``: copied from a topic plugin's bank;
- ``knowledge:<chunk_id>``: a knowledge-base passage (``source`` holds the original file path);
- ``model:<name>``: written by a model backend;
- ``session:<number>`` / ``experiment:<id>``: the pair's own history (recap items only: the last
  session's summary and the experiments still open). Private notes never become items.

A facilitator may edit a plan before the session (``coach.prepare.editing``). Editing an item's
text keeps its provenance and sets ``edited``: the provenance still says where the item came
from, and ``edited`` says the words are now (partly) the facilitator's, so nobody mistakes them
for a verbatim quote of the source. ``pinned`` items survive regenerating the plan. Both flags
default to False, so plans stored before they existed still load.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Provenance = Annotated[
    str, StringConstraints(pattern=r"^(plugin|knowledge|model|session|experiment):\S+$")
]
MIN_PROMPTS = 5


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanItem(_Model):
    text: str = Field(min_length=1)
    provenance: Provenance
    source: str | None = None
    """Path of the original file, for ``knowledge:`` items."""
    pinned: bool = False
    """Kept when the plan is generated again."""
    edited: bool = False
    """The facilitator changed the text; ``provenance`` still names where it came from."""


class PlanExercise(_Model):
    title: str
    goal: str
    minutes: int = Field(ge=1)
    steps: list[PlanItem] = Field(min_length=1)
    provenance: Provenance


class SuggestedTopic(_Model):
    topic_id: str
    title: str
    score: float
    """Similarity to the mentee's growth areas and goals (cosine, or word overlap without a KB)."""
    reason: str
    provenance: Provenance
    """The plugin that offers the topic."""


class Rejection(_Model):
    """A generated item the quality gates turned away, and why (shown by ``--explain``)."""

    section: str
    """The plan section (``questions``, ``exercise``, ...) or ``summary``/``experiments``."""
    text: str
    reason: str
    provenance: Provenance
    """The ``model:<name>`` that wrote it."""


class SessionPlan(_Model):
    topic_id: str
    topic_title: str
    pair_id: int | None
    backend: str
    """``none`` for the grounded baseline, else the model backend that wrote the plan."""
    seed: int
    created_at: datetime
    icebreakers: list[PlanItem] = Field(min_length=MIN_PROMPTS)
    questions: list[PlanItem] = Field(min_length=MIN_PROMPTS)
    exercise: PlanExercise | None
    """None only when no loaded topic offers any exercise (a notice says so)."""
    mentor_tips: list[PlanItem]
    mentee_tips: list[PlanItem]
    passages: list[PlanItem]
    next_topics: list[SuggestedTopic] = []
    recap: list[PlanItem] = []
    notices: list[str] = []
    rejections: list[Rejection] = []

    def items(self) -> list[tuple[str, PlanItem]]:
        """Every item with the section it belongs to, in reading order (for --explain, tests)."""
        found: list[tuple[str, PlanItem]] = [("recap", item) for item in self.recap]
        found += [("icebreakers", item) for item in self.icebreakers]
        found += [("questions", item) for item in self.questions]
        if self.exercise:
            found += [("exercise", item) for item in self.exercise.steps]
        found += [("mentor_tips", item) for item in self.mentor_tips]
        found += [("mentee_tips", item) for item in self.mentee_tips]
        found += [("passages", item) for item in self.passages]
        return found

    def to_markdown(self, explain: bool = False) -> str:
        """A printable plan; ``explain`` adds each item's provenance (and source file)."""

        def line(item: PlanItem, bullet: str = "-") -> str:
            text = " ".join(item.text.split())
            if explain:
                where = f"{item.provenance}, {item.source}" if item.source else item.provenance
                where += ", edited" if item.edited else ""
                text += f" _[{where}]_"
            return f"{bullet} {text}"

        out = [f"# Session plan: {self.topic_title}", ""]
        who = f"pair {self.pair_id}" if self.pair_id is not None else "no pair"
        out += [f"Topic `{self.topic_id}`, {who}, backend `{self.backend}`, seed {self.seed}.", ""]
        for notice in self.notices:
            out += [f"> {notice}", ""]
        sections = [
            ("Recap", self.recap),
            ("Icebreakers", self.icebreakers),
            ("Discussion questions", self.questions),
        ]
        for title, items in sections:
            if items:
                out += [f"## {title}", "", *(line(i) for i in items), ""]
        if self.exercise:
            ex = self.exercise
            out += [f"## Exercise: {ex.title} ({ex.minutes} min)", "", f"Goal: {ex.goal}", ""]
            out += [line(step, f"{n}.") for n, step in enumerate(ex.steps, start=1)]
            out += ["", f"_[{ex.provenance}]_", ""] if explain else [""]
        for title, items in [
            ("Tips for the mentor", self.mentor_tips),
            ("Tips for the mentee", self.mentee_tips),
            ("From the knowledge base", self.passages),
        ]:
            if items:
                out += [f"## {title}", "", *(line(i) for i in items), ""]
        if self.next_topics:
            out += ["## Next topics", ""]
            out += [f"- **{t.title}** (`{t.topic_id}`): {t.reason}" for t in self.next_topics]
            out.append("")
        if explain and self.rejections:
            out += ["## Rejected by the quality gates", ""]
            out += [
                f"- {r.section}: {' '.join(r.text.split())} — _{r.reason}_ _[{r.provenance}]_"
                for r in self.rejections
            ]
            out.append("")
        return "\n".join(out).rstrip() + "\n"

"""The wrap-up a pair fills in when a session ends: experiments, feedback, confidence, summary.

The models validate everything that can be checked without the database, so a bad form is
rejected before a transaction starts; what depends on the session (``good_fit`` is only asked
after a pair's first session) is checked by ``check_for_session``. Every validation error is an
``InputError`` whose message names the field, e.g. ``wrap-up: feedback[0].rating: ...``, because
the CLI and TUI show these messages as they are.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)
from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from coach.sessions.errors import InputError
from coach.sessions.models import Confidence, Experiment, Feedback, Session

Role = Literal["mentor", "mentee"]
Score = Annotated[int, Field(ge=1, le=5)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
TopicId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64)]


Loc = tuple[int | str, ...]


def _location(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class InvalidInput(InputError):
    """A validation failure that keeps its (location, message) parts.

    Pydantic runs a nested model's ``__init__`` inside the outer model's validation, so the outer
    error arrives wrapping this one; keeping the parts lets the outer message read
    ``feedback[0].rating`` instead of repeating prefixes.
    """

    def __init__(self, what: str, parts: list[tuple[Loc, str]]) -> None:
        self.parts = parts
        text = "; ".join(f"{_location(loc)}: {msg}" if loc else msg for loc, msg in parts)
        super().__init__(f"{what}: {text}")


def _parts(exc: ValidationError) -> list[tuple[Loc, str]]:
    parts: list[tuple[Loc, str]] = []
    for error in exc.errors():
        inner = error.get("ctx", {}).get("error")
        if isinstance(inner, InvalidInput):
            parts += [(tuple(error["loc"]) + loc, msg) for loc, msg in inner.parts]
        else:
            parts.append((tuple(error["loc"]), error["msg"].removeprefix("Value error, ")))
    return parts


class _Input(BaseModel):
    """Raises InputError, not ValidationError, whether built with ``Model(...)`` or validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    _what: ClassVar[str] = "input"

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise InvalidInput(self._what, _parts(exc)) from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            raise InvalidInput(cls._what, _parts(exc)) from None


class PlannedExperiment(_Input):
    """Something to try before the next session, owned by one side of the pair."""

    _what: ClassVar[str] = "experiment"
    title: Title
    owner: Role
    due_date: date | None = None


class SideFeedback(_Input):
    """How one side rated the session."""

    _what: ClassVar[str] = "feedback"
    side: Role
    rating: Score
    what_worked: str = ""
    what_to_change: str = ""
    good_fit: bool | None = None
    """Whether the pairing fits; asked after the first session only, and may stay unanswered."""


class ConfidenceScore(_Input):
    """The mentee's confidence on one topic, 1-5, before and after the session."""

    _what: ClassVar[str] = "confidence"
    topic_id: TopicId
    before: Score | None = None
    after: Score | None = None


class WrapUp(_Input):
    _what: ClassVar[str] = "wrap-up"
    experiments: list[PlannedExperiment] = []
    feedback: list[SideFeedback] = Field(default=[], max_length=2)
    confidence: list[ConfidenceScore] = []
    summary: str = Field(default="", max_length=20_000)

    @field_validator("feedback")
    @classmethod
    def _one_per_side(cls, feedback: list[SideFeedback]) -> list[SideFeedback]:
        sides = [item.side for item in feedback]
        if len(set(sides)) != len(sides):
            raise ValueError("each side gives feedback at most once")
        return feedback

    @field_validator("confidence")
    @classmethod
    def _one_per_topic(cls, scores: list[ConfidenceScore]) -> list[ConfidenceScore]:
        topics = [score.topic_id for score in scores]
        if len(set(topics)) != len(topics):
            raise ValueError("each topic is scored at most once")
        return scores

    def check_for_session(self, number: int) -> None:
        """Checks that depend on the session: ``good_fit`` belongs to session 1 only."""
        if number == 1:
            return
        for index, item in enumerate(self.feedback):
            if item.good_fit is not None:
                raise InputError(
                    f"wrap-up: feedback[{index}].good_fit: the fit question is only asked after "
                    f"a pair's first session, and this is session {number}"
                )


def write_wrap_up(orm: OrmSession, session: Session, wrap_up: WrapUp) -> None:
    """Add the wrap-up to ``orm``'s transaction; the caller commits it together with the status.

    Feedback and confidence are upserted on their unique keys: confidence "before" scores may
    have been recorded when the session was prepared, and the wrap-up completes them.
    """
    session.summary = wrap_up.summary.strip()
    for item in wrap_up.experiments:
        orm.add(
            Experiment(
                pair_id=session.pair_id,
                session_id=session.id,
                title=item.title,
                owner=item.owner,
                due_date=item.due_date,
                status="open",
            )
        )
    existing_feedback = {
        row.side: row
        for row in orm.scalars(select(Feedback).where(Feedback.session_id == session.id))
    }
    for item in wrap_up.feedback:
        row = existing_feedback.get(item.side) or Feedback(session_id=session.id, side=item.side)
        row.rating = item.rating
        row.what_worked = item.what_worked.strip()
        row.what_to_change = item.what_to_change.strip()
        row.good_fit = item.good_fit
        orm.add(row)
    _write_confidence(orm, session, wrap_up.confidence)


def _write_confidence(orm: OrmSession, session: Session, scores: list[ConfidenceScore]) -> None:
    existing = {
        row.topic_id: row
        for row in orm.scalars(select(Confidence).where(Confidence.session_id == session.id))
    }
    for score in scores:
        row = existing.get(score.topic_id) or Confidence(
            session_id=session.id, topic_id=score.topic_id
        )
        if score.before is not None:
            row.before = score.before
        if score.after is not None:
            row.after = score.after
        orm.add(row)

"""What a model is asked to return, one shape per prompt template.

These are the pydantic-ai output types. Their JSON schemas become llama.cpp grammars for the
embedded model and the response schema for a local server, so the bounds here (item counts and
string lengths) also bound how many tokens a model can spend: a 270M model that starts looping
is stopped by the schema, not by a timeout. The quality gates judge the content afterwards.
"""

from __future__ import annotations

import functools
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=220)]


class _Draft(BaseModel):
    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)


class Lines(_Draft):
    """New items for one list of the plan: icebreakers, questions, or one side's tips."""

    items: list[Line] = Field(min_length=1, max_length=6)
    """Each item is one sentence or two, written for this topic."""


@functools.cache
def lines_of(count: int) -> type[Lines]:
    """``Lines`` with at most ``count`` items: the grammar then stops the model after them."""
    return create_model(
        f"Lines{count}",
        __base__=Lines,
        __doc__=Lines.__doc__,
        items=(list[Line], Field(min_length=1, max_length=count)),
    )


class ExerciseDraft(_Draft):
    """A hands-on exercise the senior mentee does on their own device."""

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=80)]
    goal: Line
    minutes: int = Field(ge=5, le=45)
    steps: list[Line] = Field(min_length=3, max_length=5)


class SummaryDraft(_Draft):
    """A finished session in a few sentences, and what the pair agreed to try."""

    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=700)]
    experiments: list[Line] = Field(default_factory=list, max_length=3)


class RecapDraft(_Draft):
    """What a pair reads out at the start of a session about the last one."""

    recap: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]

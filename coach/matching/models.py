"""The shapes of a matching run: who takes part, the rules, and the proposal with its reasons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Candidate:
    """One person taking part, from the database (``person_id``) or a CSV row (``row``)."""

    key: str
    """Identity within one run: the email if given, else ``person:<id>`` or ``row:<n>``."""
    name: str
    role: str
    """``mentor`` or ``mentee``."""
    email: str | None = None
    department: str = ""
    manager: str = ""
    timezone: str = ""
    skills: tuple[str, ...] = ()
    growth_areas: tuple[str, ...] = ()
    goals: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    """Shared interests earn a bonus; optional."""
    person_id: int | None = None
    row: int | None = None


@dataclass(frozen=True)
class MatchRules:
    """The programme's constraints; defaults come from settings."""

    avoid_same_department: bool = True
    avoid_reporting_line: bool = True
    max_timezone_hours: float | None = 6.0
    """Largest UTC-offset difference allowed when both timezones are given; None: no limit."""
    max_mentees_per_mentor: int = 1
    interest_bonus: float = 0.05
    """Added to the score per shared interest (capped at three)."""


@dataclass(frozen=True)
class Reason:
    """One line of "why": a mentor skill that meets a mentee need, or a shared interest."""

    kind: str
    """``skill`` (skill meets a growth area or goal), ``interest``, or a plugin criterion name."""
    mentor_side: str
    mentee_side: str
    weight: float
    """Similarity (cosine) for skills; the bonus for interests and criteria."""


@dataclass(frozen=True)
class ProposedPair:
    mentor: Candidate
    mentee: Candidate
    score: float
    reasons: tuple[Reason, ...]
    locked: bool = False


@dataclass(frozen=True)
class Unmatched:
    candidate: Candidate
    reason: str


@dataclass(frozen=True)
class Proposal:
    pairs: tuple[ProposedPair, ...]
    unmatched: tuple[Unmatched, ...]
    total_score: float
    notices: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Criterion:
    """A plugin's matching rule: ``function(mentor, mentee)`` returns a bonus (negative: a
    penalty) added to the score, or None to rule the pair out."""

    name: str
    function: Callable[[Candidate, Candidate], float | None]
    plugin: str = ""

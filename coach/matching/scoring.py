"""How well a mentor suits a mentee: complementarity by embeddings, shared interests, plugins.

Complementarity is, for each thing the mentee wants (growth areas and goals), the cosine of the
closest mentor skill, averaged over those needs: a mentor who covers every need scores higher
than one who matches a single need very well. Texts are embedded once per run and every pair is
scored with matrix products, so a 1,000 x 1,000 programme costs one embedding pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coach.matching.models import Candidate, Criterion, MatchRules, Reason

if TYPE_CHECKING:
    import numpy as np

MAX_SHARED_INTERESTS = 3
"""Interests only break near-ties: past three, more in common says little about learning."""


def needs(mentee: Candidate) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*mentee.growth_areas, *mentee.goals)))


@dataclass
class Scores:
    """Scores of every mentee (rows) against every mentor (columns), with what explains them."""

    mentees: list[Candidate]
    mentors: list[Candidate]
    total: np.ndarray
    complementarity: np.ndarray
    interests: np.ndarray
    criteria: dict[str, np.ndarray] = field(default_factory=dict)
    """Criterion name -> its bonus per pair (0 where it abstained)."""
    ruled_out: dict[tuple[int, int], str] = field(default_factory=dict)
    """(mentee, mentor) -> the criterion that returned None for the pair."""
    notices: list[str] = field(default_factory=list)
    _vectors: dict[str, Any] = field(default_factory=dict, repr=False)

    def reasons(self, i: int, j: int) -> tuple[Reason, ...]:
        """Which mentor skill met each of mentee ``i``'s needs, best first, then the bonuses."""
        mentee, mentor = self.mentees[i], self.mentors[j]
        found = []
        for need in needs(mentee):
            similarity, skill = max(
                (float(self._vectors[need] @ self._vectors[skill]), skill)
                for skill in mentor.skills
            )
            found.append(Reason("skill", skill, need, round(similarity, 3)))
        found.sort(key=lambda reason: -reason.weight)
        shared = _shared_interests(mentor, mentee)[:MAX_SHARED_INTERESTS]
        if shared and self.interests[i, j]:
            each = round(float(self.interests[i, j]) / len(shared), 3)
            found += [Reason("interest", item, item, each) for item in shared]
        for name, values in self.criteria.items():
            if values[i, j]:
                found.append(Reason(name, mentor.name, mentee.name, round(float(values[i, j]), 3)))
        return tuple(found)


def _shared_interests(mentor: Candidate, mentee: Candidate) -> list[str]:
    theirs = {item.strip().casefold() for item in mentee.interests}
    return [item for item in mentor.interests if item.strip().casefold() in theirs]


def score(
    mentees: list[Candidate],
    mentors: list[Candidate],
    *,
    embedder: Any,
    rules: MatchRules,
    criteria: Sequence[Criterion] = (),
) -> Scores:
    """Score every pair. Every mentee needs a need and every mentor a skill (checked earlier)."""
    import numpy as np

    texts = list(
        dict.fromkeys(
            [n for m in mentees for n in needs(m)] + [s for m in mentors for s in m.skills]
        )
    )
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32) if texts else np.zeros((0, 1))
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1, norms)
    by_text = dict(zip(texts, vectors, strict=True))
    need_lists = [needs(m) for m in mentees]
    need_rows = np.stack([by_text[n] for items in need_lists for n in items])
    skill_rows = np.stack([by_text[s] for m in mentors for s in m.skills])
    need_starts = np.cumsum([0] + [len(items) for items in need_lists[:-1]])
    skill_starts = np.cumsum([0] + [len(m.skills) for m in mentors[:-1]])
    similarity = need_rows @ skill_rows.T  # every need against every skill
    best = np.maximum.reduceat(similarity, skill_starts, axis=1)  # best skill of each mentor
    counts = np.array([len(items) for items in need_lists], dtype=np.float32)
    complementarity = np.add.reduceat(best, need_starts, axis=0) / counts[:, None]

    interests = np.zeros_like(complementarity)
    if rules.interest_bonus and any(m.interests for m in mentors):
        holders: dict[str, list[int]] = {}
        for j, mentor in enumerate(mentors):
            for item in {i.strip().casefold() for i in mentor.interests}:
                holders.setdefault(item, []).append(j)
        for i, mentee in enumerate(mentees):
            for item in {x.strip().casefold() for x in mentee.interests}:
                interests[i, holders.get(item, [])] += 1
        interests = np.minimum(interests, MAX_SHARED_INTERESTS) * rules.interest_bonus

    scores = Scores(
        mentees, mentors, complementarity + interests, complementarity, interests, _vectors=by_text
    )
    for criterion in criteria:
        _apply(criterion, scores)
    return scores


def _apply(criterion: Criterion, scores: Scores) -> None:
    """Run a plugin criterion on every pair; if it fails once it is reported and ignored."""
    import numpy as np

    values = np.zeros_like(scores.total)
    ruled_out = {}
    who = f"matching criterion '{criterion.name}'" + (
        f" from plugin '{criterion.plugin}'" if criterion.plugin else ""
    )
    try:
        for i, mentee in enumerate(scores.mentees):
            for j, mentor in enumerate(scores.mentors):
                result = criterion.function(mentor, mentee)
                if result is None:
                    ruled_out[(i, j)] = f"ruled out by {criterion.name}"
                elif isinstance(result, bool) or not isinstance(result, int | float):
                    raise TypeError(f"returned {result!r}, not a number or None")
                elif not math.isfinite(result):
                    raise ValueError(f"returned {result!r}")
                else:
                    values[i, j] = result
    except Exception as exc:  # a plugin must never stop matching
        scores.notices.append(f"{who} failed and was ignored: {type(exc).__name__}: {exc}")
        return
    scores.criteria[criterion.name] = values
    scores.total = scores.total + values
    for key, reason in ruled_out.items():
        scores.ruled_out.setdefault(key, reason)

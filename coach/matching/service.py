"""Matching for the CLI and the TUI: load candidates, propose pairs with reasons, accept them.

``propose`` is pure (no database): the screen can re-run it after every swap or lock. ``accept``
writes the people from a CSV and every pair in one transaction: all of it or nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from coach.matching.candidates import candidates_from_csv, candidates_from_db
from coach.matching.models import (
    Candidate,
    Criterion,
    MatchRules,
    Proposal,
    ProposedPair,
    Unmatched,
)
from coach.sessions.errors import InputError

if TYPE_CHECKING:
    from coach.plugins.host import PluginHost
    from coach.sessions.db import Database
    from coach.settings import Settings

__all__ = [
    "accept",
    "candidates_from_csv",
    "candidates_from_db",
    "criteria_from_host",
    "proposal_dict",
    "propose",
    "rules_from_settings",
]

FACILITATOR = "ruled out by the facilitator"
PairKeys = tuple[str, str]
"""(mentor key, mentee key)."""


def rules_from_settings(settings: Settings) -> MatchRules:
    return MatchRules(
        avoid_same_department=settings.match_avoid_same_department,
        avoid_reporting_line=settings.match_avoid_reporting_line,
        max_timezone_hours=settings.match_max_timezone_hours,
        max_mentees_per_mentor=settings.match_max_mentees_per_mentor,
        interest_bonus=settings.match_interest_bonus,
    )


def criteria_from_host(host: PluginHost) -> list[Criterion]:
    """The matching criteria plugins registered, in precedence order."""
    return [contribution.value for contribution in host.matching_criteria.values()]


def _keys(item: ProposedPair | PairKeys) -> PairKeys:
    if isinstance(item, ProposedPair):
        return item.mentor.key, item.mentee.key
    mentor, mentee = item
    return mentor, mentee


def propose(
    candidates: Sequence[Candidate],
    *,
    embedder: Any,
    rules: MatchRules,
    criteria: Sequence[Criterion] = (),
    locked: Iterable[ProposedPair | PairKeys] = (),
    forbidden: Iterable[ProposedPair | PairKeys] = (),
) -> Proposal:
    """The best pairs under ``rules``, each with its reasons, and who is left and why.

    ``locked`` pairs are kept as they are (even against a rule, with a notice); ``forbidden``
    pairs (mentor key, mentee key) are never proposed. ``embedder`` has ``embed(texts)``.
    """

    from coach.matching.constraints import REASONS, clash_matrix
    from coach.matching.scoring import needs, score
    from coach.matching.solver import assign

    by_key: dict[str, Candidate] = {}
    for person in candidates:
        if person.key in by_key:
            raise InputError(f"{person.name} ({person.key}) is listed twice")
        if person.role not in ("mentor", "mentee"):
            raise InputError(f"{person.name}: {person.role!r} is not a role (mentor or mentee)")
        by_key[person.key] = person
    notices: list[str] = []
    unmatched: list[Unmatched] = []
    mentors = [p for p in candidates if p.role == "mentor" and p.skills]
    mentees = [p for p in candidates if p.role == "mentee" and needs(p)]
    unmatched += [
        Unmatched(p, "no skills listed to teach")
        for p in candidates
        if p.role == "mentor" and not p.skills
    ]
    unmatched += [
        Unmatched(p, "no growth areas or goals listed")
        for p in candidates
        if p.role == "mentee" and not needs(p)
    ]
    mentor_index = {p.key: j for j, p in enumerate(mentors)}
    mentee_index = {p.key: i for i, p in enumerate(mentees)}

    lock_keys = [_keys(item) for item in locked]
    for mentor_key, mentee_key in lock_keys:
        for key, role in ((mentor_key, "mentor"), (mentee_key, "mentee")):
            if key not in by_key or by_key[key].role != role:
                raise InputError(f"locked pair: {key!r} is not a {role} in this run")
    locked_mentees = Counter(mentee for _, mentee in lock_keys)
    if twice := [key for key, n in locked_mentees.items() if n > 1]:
        raise InputError(f"locked pairs: {', '.join(twice)} locked to more than one mentor")
    used = Counter(mentor for mentor, _ in lock_keys)
    for key, n in used.items():
        if n > rules.max_mentees_per_mentor:
            notices.append(
                f"{by_key[key].name} has {n} locked mentees, more than the"
                f" {rules.max_mentees_per_mentor} allowed"
            )

    scores = None
    if mentors and mentees:
        scores = score(mentees, mentors, embedder=embedder, rules=rules, criteria=criteria)
        notices += scores.notices
        codes = clash_matrix(mentees, mentors, rules)
    reasons = [*REASONS, FACILITATOR]
    pairs: list[ProposedPair] = []
    for mentor_key, mentee_key in lock_keys:
        mentor, mentee = by_key[mentor_key], by_key[mentee_key]
        i, j = mentee_index.get(mentee_key), mentor_index.get(mentor_key)
        if scores is not None and i is not None and j is not None:
            value, why = float(scores.total[i, j]), scores.reasons(i, j)
            rule = reasons[codes[i, j]] or scores.ruled_out.get((i, j))
            if rule:
                notices.append(f"locked pair {mentor.name} - {mentee.name} breaks a rule: {rule}")
        else:
            value, why = 0.0, ()
        pairs.append(ProposedPair(mentor, mentee, round(value, 4), why, locked=True))
    unmatched = [
        u for u in unmatched if u.candidate.key not in {k for pair in lock_keys for k in pair}
    ]

    if scores is not None:
        rows = [i for i, p in enumerate(mentees) if p.key not in locked_mentees]
        capacity = [max(0, rules.max_mentees_per_mentor - used[p.key]) for p in mentors]
        forbidden_cells = codes.copy()
        facilitator = len(REASONS)
        for mentor_key, mentee_key in (_keys(item) for item in forbidden):
            i, j = mentee_index.get(mentee_key), mentor_index.get(mentor_key)
            if i is not None and j is not None and forbidden_cells[i, j] == 0:
                forbidden_cells[i, j] = facilitator
        allowed = forbidden_cells == 0
        for i, j in scores.ruled_out:
            allowed[i, j] = False
        sub_scores, sub_allowed = scores.total[rows], allowed[rows]
        chosen = assign(sub_scores, sub_allowed, capacity)
        taken = Counter()
        for row, j in zip(rows, chosen, strict=True):
            if j is None or not allowed[row, j]:
                continue  # never accept a forbidden cell, whatever the solver returned
            taken[j] += 1
            pairs.append(
                ProposedPair(
                    mentors[j],
                    mentees[row],
                    round(float(scores.total[row, j]), 4),
                    scores.reasons(row, j),
                )
            )
        places = sum(capacity)
        free_mentors = [j for j, c in enumerate(capacity) if c > 0]
        for row, j in zip(rows, chosen, strict=True):
            if j is not None and allowed[row, j]:
                continue
            why = _why(
                [_cell(forbidden_cells, scores.ruled_out, reasons, row, c) for c in free_mentors],
                "mentor",
                crowded=len(rows) > places,
                crowd=f"more mentees than mentor places ({len(rows)} mentees, {places} places)",
            )
            unmatched.append(Unmatched(mentees[row], why))
        for j, mentor in enumerate(mentors):
            if capacity[j] == 0 or taken[j] or used[mentor.key]:
                continue
            why = _why(
                [_cell(forbidden_cells, scores.ruled_out, reasons, i, j) for i in rows],
                "mentee",
                crowded=places > len(rows),
                crowd=f"more mentor places than mentees ({places} places, {len(rows)} mentees)",
            )
            unmatched.append(Unmatched(mentor, why))
    else:
        placed = {k for pair in lock_keys for k in pair}
        for p in [*mentors, *mentees]:
            if p.key in placed:
                continue
            other = "mentee" if p.role == "mentor" else "mentor"
            unmatched.append(Unmatched(p, f"no {other} with something to match in this run"))
    pairs.sort(key=lambda pair: (not pair.locked, -pair.score, pair.mentor.name, pair.mentee.name))
    return Proposal(
        tuple(pairs),
        tuple(unmatched),
        round(sum(pair.score for pair in pairs), 4),
        tuple(notices),
    )


def _cell(
    codes: Any, ruled_out: dict[tuple[int, int], str], reasons: list[str], i: int, j: int
) -> str:
    return reasons[codes[i, j]] or ruled_out.get((i, j), "")


def _why(clashes: list[str], other: str, *, crowded: bool, crowd: str) -> str:
    """Why someone stayed unmatched: every option clashed, too few places, or others won them."""
    if not clashes:
        return f"no {other} places left"
    if all(clashes):
        counts = Counter(clashes)
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        detail = ", ".join(f"{rule} ({n})" for rule, n in ordered)
        return f"no {other} left without a clash: {detail}"
    if crowded:
        return crowd
    return f"every {other} they could pair with is better placed with someone else"


def accept(db: Database, proposal: Proposal) -> list[int]:
    """Save the proposal: people not yet in the programme (from a CSV), then every pair.

    One transaction: if any email is taken or any pair already exists, nothing is saved.
    Everyone from a CSV is added, matched or not, so the programme holds the whole list.
    """
    from sqlalchemy import func, select

    from coach.sessions.models import Pair, Person

    people = {p.mentor.key: p.mentor for p in proposal.pairs}
    people |= {p.mentee.key: p.mentee for p in proposal.pairs}
    people |= {u.candidate.key: u.candidate for u in proposal.unmatched}
    new = [p for p in people.values() if p.person_id is None]
    with db.transaction() as orm:
        emails = [p.email.lower() for p in new if p.email]
        if emails:
            taken = orm.scalars(select(Person).where(func.lower(Person.email).in_(emails))).all()
            if taken:
                listed = ", ".join(f"{p.email} (person {p.id})" for p in taken)
                raise InputError(f"nothing was saved: already in the programme: {listed}")
        ids: dict[str, int] = {}
        for candidate in new:
            row = Person(
                name=candidate.name,
                role=candidate.role,
                email=candidate.email,
                department=candidate.department,
                manager=candidate.manager,
                timezone=candidate.timezone,
                skills=list(candidate.skills),
                growth_areas=list(candidate.growth_areas),
                goals=list(candidate.goals),
            )
            orm.add(row)
            orm.flush()
            ids[candidate.key] = row.id
        pair_ids = []
        for pair in proposal.pairs:
            mentor_id = pair.mentor.person_id or ids[pair.mentor.key]
            mentee_id = pair.mentee.person_id or ids[pair.mentee.key]
            for person_id, role in ((mentor_id, "mentor"), (mentee_id, "mentee")):
                person = orm.get(Person, person_id)
                if person is None or person.role != role:
                    raise InputError(f"nothing was saved: person {person_id} is not a {role}")
            existing = orm.scalar(
                select(Pair.id).where(
                    Pair.mentor_id == mentor_id, Pair.mentee_id == mentee_id, Pair.active.is_(True)
                )
            )
            if existing is not None:
                raise InputError(
                    f"nothing was saved: {pair.mentor.name} and {pair.mentee.name}"
                    f" are already paired (pair {existing})"
                )
            row = Pair(mentor_id=mentor_id, mentee_id=mentee_id)
            orm.add(row)
            orm.flush()
            pair_ids.append(row.id)
        return pair_ids


def proposal_dict(proposal: Proposal, *, explain: bool = True) -> dict[str, Any]:
    """JSON-ready form of a proposal (``--json``)."""

    def person(c: Candidate) -> dict[str, Any]:
        return {"key": c.key, "name": c.name, "role": c.role, "id": c.person_id, "row": c.row}

    return {
        "pairs": [
            {
                "mentor": person(p.mentor),
                "mentee": person(p.mentee),
                "score": p.score,
                "locked": p.locked,
                **(
                    {
                        "reasons": [
                            {
                                "kind": r.kind,
                                "mentor": r.mentor_side,
                                "mentee": r.mentee_side,
                                "weight": r.weight,
                            }
                            for r in p.reasons
                        ]
                    }
                    if explain
                    else {}
                ),
            }
            for p in proposal.pairs
        ],
        "unmatched": [{**person(u.candidate), "reason": u.reason} for u in proposal.unmatched],
        "total_score": proposal.total_score,
        "notices": list(proposal.notices),
    }

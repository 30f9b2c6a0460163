"""Matching: an optimal solver, rules that always hold, meaningful scores, checked input."""

from __future__ import annotations

import hashlib
import itertools
import random
from pathlib import Path

import numpy as np
import pytest

from coach.matching.constraints import clash, clash_matrix, hours_apart, utc_offset_hours
from coach.matching.models import Candidate, MatchRules
from coach.matching.scoring import score
from coach.matching.service import (
    accept,
    candidates_from_csv,
    candidates_from_db,
    propose,
    rules_from_settings,
)
from coach.matching.solver import assign
from coach.sessions.errors import InputError


class FakeEmbedder:
    """Fixed unit vectors from a hash of the text: deterministic, instant, no model."""

    name = "fake"

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = []
        for text in texts:
            seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
            vector = np.random.default_rng(seed).normal(size=16)
            vectors.append(vector / np.linalg.norm(vector))
        return np.array(vectors)


WORDS = ["python", "sql", "video", "tiktok", "ai tools", "podcasts", "excel", "design", "slack"]
DEPARTMENTS = ["IT", "HR", "Sales", "Legal", "Ops"]
ZONES = ["UTC", "UTC+2", "+05:30", "GMT-5", "Europe/London", "Asia/Tokyo", "America/New_York", ""]


def population(seed: int, mentors: int, mentees: int) -> list[Candidate]:
    rng = random.Random(seed)
    people = []
    for index in range(mentors + mentees):
        role = "mentor" if index < mentors else "mentee"
        name = f"{role}-{index}"
        picks = tuple(rng.sample(WORDS, rng.randint(1, 3)))
        people.append(
            Candidate(
                key=name,
                name=name,
                role=role,
                email=f"{name}@example.org",
                department=rng.choice(DEPARTMENTS),
                manager=f"mentor-{rng.randrange(mentors)}" if rng.random() < 0.2 else "",
                timezone=rng.choice(ZONES),
                skills=picks if role == "mentor" else (),
                growth_areas=picks if role == "mentee" else (),
                interests=tuple(rng.sample(["chess", "running", "cooking"], rng.randint(0, 2))),
            )
        )
    return people


def brute_force(scores: np.ndarray, allowed: np.ndarray, capacity: list[int]):
    """Best (matched count, total score) by trying every assignment of mentees to places."""
    rows = scores.shape[0]
    places = [j for j, n in enumerate(capacity) for _ in range(n)] + [None] * rows
    best = (-1, -np.inf)
    for chosen in itertools.permutations(range(len(places)), rows):
        columns = [places[c] for c in chosen]
        if any(j is not None and not allowed[i, j] for i, j in enumerate(columns)):
            continue
        value = (
            sum(j is not None for j in columns),
            sum(scores[i, j] for i, j in enumerate(columns) if j is not None),
        )
        if value[0] > best[0] or (value[0] == best[0] and value[1] > best[1] + 1e-9):
            best = value
    return best


@pytest.mark.parametrize("seed", range(8))
def test_solver_is_optimal_against_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(2, 6), rng.integers(1, 4)
    scores = rng.normal(size=(rows, cols))
    allowed = rng.random((rows, cols)) > 0.3
    capacity = list(rng.integers(1, 3, size=cols))
    chosen = assign(scores, allowed, capacity)
    assert all(j is None or allowed[i, j] for i, j in enumerate(chosen))  # never forbidden
    assert all(chosen.count(j) <= capacity[j] for j in range(cols))
    got = (
        sum(j is not None for j in chosen),
        sum(scores[i, j] for i, j in enumerate(chosen) if j is not None),
    )
    best = brute_force(scores, allowed, capacity)
    assert got[0] == best[0] and got[1] == pytest.approx(best[1], abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_propose_is_optimal_against_brute_force(seed: int) -> None:
    """The whole pipeline: rules, facilitator's forbidden pairs and capacity, on real scores."""
    rng = random.Random(seed)
    people = population(seed, mentors=rng.randint(1, 3), mentees=rng.randint(2, 4))
    mentors = [p for p in people if p.role == "mentor"]
    mentees = [p for p in people if p.role == "mentee"]
    rules = MatchRules(max_mentees_per_mentor=rng.randint(1, 2), max_timezone_hours=5)
    forbidden = [(m.key, e.key) for m in mentors for e in mentees if rng.random() < 0.25]
    proposal = propose(people, embedder=FakeEmbedder(), rules=rules, forbidden=forbidden)

    scores = score(mentees, mentors, embedder=FakeEmbedder(), rules=rules).total
    allowed = np.array(
        [
            [clash(m, e, rules) is None and (m.key, e.key) not in forbidden for m in mentors]
            for e in mentees
        ]
    )
    best = brute_force(scores, allowed, [rules.max_mentees_per_mentor] * len(mentors))
    assert len(proposal.pairs) == best[0]
    assert proposal.total_score == pytest.approx(best[1], abs=1e-3)
    for pair in proposal.pairs:
        assert (pair.mentor.key, pair.mentee.key) not in forbidden
    assert len(proposal.pairs) + len(
        [u for u in proposal.unmatched if u.candidate.role == "mentee"]
    ) == len(mentees)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rules_never_broken_on_200_people(seed: int) -> None:
    people = population(seed, mentors=80, mentees=120)
    rules = MatchRules(max_mentees_per_mentor=2, max_timezone_hours=4)
    proposal = propose(people, embedder=FakeEmbedder(), rules=rules)
    assert proposal.pairs
    for pair in proposal.pairs:
        assert clash(pair.mentor, pair.mentee, rules) is None
    per_mentor = [pair.mentor.key for pair in proposal.pairs]
    assert max(per_mentor.count(key) for key in per_mentor) <= 2
    matched = [pair.mentee.key for pair in proposal.pairs]
    assert len(matched) == len(set(matched))
    placed = set(matched) | set(per_mentor) | {u.candidate.key for u in proposal.unmatched}
    assert placed == {p.key for p in people}
    assert all(u.reason for u in proposal.unmatched)


def test_vectorised_rules_agree_with_the_rule_for_one_pair() -> None:
    people = population(7, mentors=40, mentees=60)
    mentors = [p for p in people if p.role == "mentor"]
    mentees = [p for p in people if p.role == "mentee"]
    rules = MatchRules(max_timezone_hours=3)
    codes = clash_matrix(mentees, mentors, rules)
    for i, mentee in enumerate(mentees):
        for j, mentor in enumerate(mentors):
            assert (codes[i, j] == 0) == (clash(mentor, mentee, rules) is None)


def test_rules_can_be_switched_off() -> None:
    a = Candidate("a", "Ann", "mentor", department="IT", skills=("x",), timezone="UTC-8")
    b = Candidate("b", "Bo", "mentee", department="it", manager="ann", goals=("x",))
    b = Candidate(**{**vars(b), "timezone": "Asia/Tokyo"})
    assert clash(a, b, MatchRules()) == "same department"
    assert clash(a, b, MatchRules(avoid_same_department=False)) == "same reporting line"
    loose = MatchRules(avoid_same_department=False, avoid_reporting_line=False)
    assert clash(a, b, loose) == "timezones too far apart"
    assert clash(a, b, MatchRules(False, False, None)) is None


def test_timezones() -> None:
    assert utc_offset_hours("UTC+2") == 2
    assert utc_offset_hours("+05:30") == 5.5
    assert utc_offset_hours("GMT-3") == -3
    assert utc_offset_hours("utc") == 0
    assert utc_offset_hours("Asia/Kolkata") == 5.5
    assert utc_offset_hours("Mars/Base") is None and utc_offset_hours("UTC+25") is None
    assert hours_apart(12, -11) == 1 and hours_apart(-5, 1) == 6


def test_real_model_prefers_the_skill_that_meets_the_need(torch_embedder) -> None:
    python = Candidate("p", "Pat", "mentor", skills=("Python",))
    garden = Candidate("g", "Gus", "mentor", skills=("gardening",))
    mentee = Candidate("m", "Mo", "mentee", growth_areas=("data analysis",))
    scores = score([mentee], [python, garden], embedder=torch_embedder, rules=MatchRules())
    assert scores.total[0, 0] > scores.total[0, 1]
    proposal = propose([python, garden, mentee], embedder=torch_embedder, rules=MatchRules())
    (pair,) = proposal.pairs
    assert pair.mentor.name == "Pat"
    (reason,) = pair.reasons
    assert (reason.kind, reason.mentor_side, reason.mentee_side) == (
        "skill",
        "Python",
        "data analysis",
    )
    assert reason.weight == pytest.approx(pair.score, abs=1e-3)
    assert [(u.candidate.name, u.reason) for u in proposal.unmatched] == [
        ("Gus", "more mentor places than mentees (2 places, 1 mentees)")
    ]


def test_forbidden_and_locked_pairs() -> None:
    ann = Candidate("ann", "Ann", "mentor", department="A", skills=("python",))
    bo = Candidate("bo", "Bo", "mentor", department="B", skills=("python",))
    cy = Candidate("cy", "Cy", "mentee", department="C", growth_areas=("python",))
    di = Candidate("di", "Di", "mentee", department="A", growth_areas=("python",))
    rules = MatchRules()
    proposal = propose(
        [ann, bo, cy, di], embedder=FakeEmbedder(), rules=rules, forbidden=[("bo", "di")]
    )
    assert [p.mentee.key for p in proposal.pairs] == ["cy"]  # Ann or Bo: an equal score
    assert [(u.candidate.key, u.reason) for u in proposal.unmatched if u.candidate.key == "di"] == [
        (
            "di",
            "no mentor left without a clash: ruled out by the facilitator (1), same department (1)",
        )
    ]
    locked = propose(
        [ann, bo, cy, di], embedder=FakeEmbedder(), rules=rules, locked=[("ann", "di")]
    )
    assert locked.pairs[0].locked and (locked.pairs[0].mentor.key, locked.pairs[0].mentee.key) == (
        "ann",
        "di",
    )
    assert ("bo", "cy") in {(p.mentor.key, p.mentee.key) for p in locked.pairs}
    assert any("breaks a rule: same department" in n for n in locked.notices)


def test_shared_interests_add_a_bonus() -> None:
    ann = Candidate("ann", "Ann", "mentor", skills=("python",), interests=("Chess", "running"))
    bo = Candidate("bo", "Bo", "mentor", skills=("python",))
    cy = Candidate("cy", "Cy", "mentee", growth_areas=("python",), interests=("chess",))
    proposal = propose([ann, bo, cy], embedder=FakeEmbedder(), rules=MatchRules())
    (pair,) = proposal.pairs
    assert pair.mentor.key == "ann" and pair.score == pytest.approx(1.05, abs=1e-3)
    assert ("interest", "Chess", 0.05) in [(r.kind, r.mentor_side, r.weight) for r in pair.reasons]


HEADER = "name,role,email,department,manager,timezone,skills,growth_areas,goals,interests\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(text)
    return path


def test_csv_candidates_with_interests(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "Ann,mentor,ann@x.org,IT,,UTC+1,python; sql,,,chess; hiking\n"
        + "Bo,mentee,,HR,,,,data analysis,grow,\n",
    )
    ann, bo = candidates_from_csv(path)
    assert (ann.key, ann.skills, ann.interests, ann.row) == (
        "ann@x.org",
        ("python", "sql"),
        ("chess", "hiking"),
        2,
    )
    assert (bo.key, bo.growth_areas, bo.goals) == ("row:3", ("data analysis",), ("grow",))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name,email\nAnn,a@x.org\n", "row 1: the header must name the column(s) role"),
        ("name,role,goals\nAnn,mentor,\n", "row 1, skills: missing column"),
        ("name,role,skills\nAnn,mentor,x\n", "row 1, growth_areas: missing column"),
        (
            HEADER + "Ann,mentor,a@x.org,,,,x,,,\nAnna,mentor,A@x.org,,,,y,,,\n",
            "row 3, email: 'a@x.org' is also on row 2",
        ),
        (HEADER + "Ann,teacher,,,,,x,,,\n", "row 2, role: 'teacher' is not a role"),
        (HEADER + "Ann,mentor,,,,,,,,\n", "row 2, skills: a mentor needs at least one skill"),
        (HEADER + "Bo,mentee,,,,,x,,,\n", "row 2, growth_areas: a mentee needs a growth area"),
        (
            HEADER + "Bo,mentee,,,,Mars/Base,,x,,\n",
            "row 2, timezone: 'Mars/Base' is not a timezone",
        ),
        (
            HEADER + "Bo,mentee,,,,,,x,,\nBo,mentee,,,,,,y,,\n",
            "row 3, name: mentee 'Bo' is also on row 2",
        ),
    ],
)
def test_bad_csv_names_the_row(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        candidates_from_csv(write(tmp_path, text))
    assert "nothing was matched" in str(caught.value) and expected in str(caught.value)


def test_a_missing_column_is_named_once_on_the_header_row(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        candidates_from_csv(write(tmp_path, "name,role\nAnn,mentor\nBo,mentee\n"))
    lines = str(caught.value).splitlines()[1:]
    assert [line.split(",")[0].strip() for line in lines] == ["row 1", "row 1"]


def test_every_problem_at_once(tmp_path: Path) -> None:
    text = HEADER + "Ann,mentor,,,,,,,,\nBo,boss,,,,,,,,\nCy,mentee,,,,,,,,\n"
    with pytest.raises(InputError) as caught:
        candidates_from_csv(write(tmp_path, text))
    message = str(caught.value)
    assert "3 problem(s)" in message
    assert [line.split(",")[0].strip() for line in message.splitlines()[1:]] == [
        "row 2",
        "row 3",
        "row 4",
    ]


def test_accept_from_csv_and_database(db, tmp_path: Path) -> None:
    from coach.sessions.service import add_pair, add_person, list_pairs, list_people
    from coach.settings import load_settings

    path = write(
        tmp_path,
        HEADER
        + "Ann,mentor,ann@x.org,IT,,,python,,,\n"
        + "Bo,mentee,bo@x.org,HR,,,,python,,\n"
        + "Cy,mentee,cy@x.org,HR,,,,python,,\n",
    )
    proposal = propose(candidates_from_csv(path), embedder=FakeEmbedder(), rules=MatchRules())
    (pair_id,) = accept(db, proposal)
    assert len(list_people(db)) == 3  # the unmatched mentee is in the programme too
    (pair,) = list_pairs(db)
    assert pair.id == pair_id and pair.mentor.email == "ann@x.org"
    # From the database: only people outside an active pair.
    left = candidates_from_db(db)
    assert [c.name for c in left] == [{"Bo": "Cy", "Cy": "Bo"}[pair.mentee.name]]
    assert left[0].person_id is not None and left[0].key.endswith("@x.org")
    # A second accept of the same file clashes on emails: nothing at all is saved.
    with pytest.raises(InputError, match="nothing was saved"):
        accept(db, proposal)
    assert len(list_people(db)) == 3 and len(list_pairs(db)) == 1
    mentor = add_person(db, {"name": "Dee", "role": "mentor", "skills": ["python"]})
    add_pair(db, mentor, left[0].person_id)
    assert candidates_from_db(db) == []
    assert (
        rules_from_settings(load_settings(match_max_mentees_per_mentor=3)).max_mentees_per_mentor
        == 3
    )

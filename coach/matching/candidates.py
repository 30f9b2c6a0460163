"""Who takes part in a matching run: people from a CSV file or from the programme database.

A CSV is checked as a whole before anything is matched, with every problem located by row (the
header is row 1, as in a spreadsheet): the people import's checks, plus what matching needs:
no person twice, a skill for every mentor, a growth area or goal for every mentee, and
timezones Coach can read.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from coach.matching.constraints import utc_offset_hours
from coach.matching.models import Candidate
from coach.sessions.errors import InputError
from coach.sessions.people_csv import duplicate_emails, problem_report, read_people_csv
from coach.sessions.validation import Problem

if TYPE_CHECKING:
    from coach.sessions.db import Database
    from coach.sessions.models import Person
    from coach.sessions.validation import PersonIn

EXTRA_COLUMNS = ("interests",)


def split_list(text: str) -> tuple[str, ...]:
    """A ';'-separated cell, as the people import reads skills."""
    return tuple(dict.fromkeys(p.strip() for p in text.split(";") if p.strip()))


def candidates_from_csv(path: Path | str) -> list[Candidate]:
    """Everyone in a people CSV (plus an optional ``interests`` column), or an InputError
    listing every problem by row."""
    path = Path(path)
    parsed = read_people_csv(path, extra_columns=EXTRA_COLUMNS)
    missing = _missing_columns(parsed.columns)
    problems = parsed.problems + missing + duplicate_emails(parsed.emails)
    if not missing:  # else every row would repeat what the header already says
        problems += _matching_problems(parsed.people)
    if problems:
        raise InputError(problem_report(path, problems, nothing="matched"))
    return [
        Candidate(
            key=person.email or f"row:{row}",
            name=person.name,
            role=person.role,
            email=person.email,
            department=person.department,
            manager=person.manager,
            timezone=person.timezone,
            skills=tuple(person.skills),
            growth_areas=tuple(person.growth_areas),
            goals=tuple(person.goals),
            interests=split_list(parsed.extras.get(row, {}).get("interests", "")),
            row=row,
        )
        for row, person in parsed.people
    ]


def _missing_columns(columns: list[str]) -> list[Problem]:
    """Columns matching cannot do without, named once on the header row (not on every row)."""
    if not columns:  # the header itself was unreadable, and that is reported already
        return []
    problems = []
    if "skills" not in columns:
        problems.append(Problem(1, "skills", "missing column: matching reads mentors' skills"))
    if "growth_areas" not in columns and "goals" not in columns:
        problems.append(
            Problem(
                1, "growth_areas", "missing column: matching reads mentees' growth areas or goals"
            )
        )
    return problems


def _matching_problems(people: list[tuple[int, PersonIn]]) -> list[Problem]:
    problems = []
    unnamed_rows: dict[tuple[str, str], int] = {}
    for row, person in people:
        if person.role == "mentor" and not person.skills:
            problems.append(Problem(row, "skills", "a mentor needs at least one skill to match on"))
        if person.role == "mentee" and not (person.growth_areas or person.goals):
            problems.append(
                Problem(row, "growth_areas", "a mentee needs a growth area or a goal to match on")
            )
        if person.timezone and utc_offset_hours(person.timezone) is None:
            problems.append(
                Problem(
                    row,
                    "timezone",
                    f"{person.timezone!r} is not a timezone"
                    " (use a name like Europe/London or an offset like UTC+2)",
                )
            )
        if not person.email:
            # Without an email, the same name and role twice is one person entered twice as far
            # as anyone reading the proposal can tell.
            key = (person.name.casefold(), person.role)
            if key in unnamed_rows:
                problems.append(
                    Problem(
                        row,
                        "name",
                        f"{person.role} {person.name!r} is also on row {unnamed_rows[key]}"
                        " (give each an email if they are two people)",
                    )
                )
            else:
                unnamed_rows[key] = row
    return problems


def candidate_from_person(person: Person) -> Candidate:
    return Candidate(
        key=person.email or f"person:{person.id}",
        name=person.name,
        role=person.role,
        email=person.email,
        department=person.department or "",
        manager=person.manager or "",
        timezone=person.timezone or "",
        skills=tuple(person.skills or ()),
        growth_areas=tuple(person.growth_areas or ()),
        goals=tuple(person.goals or ()),
        person_id=person.id,
    )


def candidates_from_db(db: Database) -> list[Candidate]:
    """The programme's people who are not in an active pair yet."""
    from coach.sessions.service import list_pairs, list_people

    paired = {
        pid for pair in list_pairs(db, active=True) for pid in (pair.mentor_id, pair.mentee_id)
    }
    return [candidate_from_person(p) for p in list_people(db) if p.id not in paired]

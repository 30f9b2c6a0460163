"""`coach match` as a user runs it: a CSV or the database, tables, JSON, --explain, --accept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_coach

PEOPLE = """name,role,email,department,manager,timezone,skills,growth_areas,goals,interests
Ann Lee,mentor,ann@x.org,IT,,UTC+1,Python; SQL,,,chess
Gus Moss,mentor,gus@x.org,Estates,,Europe/Paris,gardening; composting,,,
Cy Fox,mentee,cy@x.org,Finance,,UTC,,data analysis,,chess; hiking
Di Wu,mentee,di@x.org,HR,Gus Moss,Asia/Tokyo,,growing vegetables,,
"""


@pytest.fixture
def people_csv(coach_home: Path, tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE)
    return path


def test_match_a_csv_with_reasons(people_csv: Path) -> None:
    result = run_coach("match", str(people_csv), "--explain")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Rules: same department avoided" in out
    assert "Ann Lee [row 2] -> Cy Fox [row 4]" in out
    assert "meets 'data analysis'" in out and "shared interest 'chess' (+0.05)" in out
    # Di's only gardener is her manager, and Tokyo is 8 hours from Paris anyway.
    assert "Di Wu [row 5] (mentee): no mentor left without a clash" in out
    assert "Gus Moss [row 3] (mentor): every mentee they could pair with is better placed" in out


def test_json_and_accept_save_everything_in_one_go(people_csv: Path) -> None:
    result = run_coach("match", str(people_csv), "--json", "--explain", "--accept")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    (pair,) = data["pairs"]
    assert (pair["mentor"]["name"], pair["mentee"]["name"]) == ("Ann Lee", "Cy Fox")
    assert pair["reasons"][0]["kind"] == "skill" and pair["reasons"][0]["mentee"] == "data analysis"
    assert pair["score"] > 0 and data["rules"]["max_mentees_per_mentor"] == 1
    assert sorted(u["name"] for u in data["unmatched"]) == ["Di Wu", "Gus Moss"]
    assert len(data["saved_pair_ids"]) == 1

    from coach.sessions.db import open_database
    from coach.sessions.service import list_pairs, list_people
    from coach.settings import load_settings

    db = open_database(load_settings())
    try:
        assert len(list_people(db)) == 4
        (saved,) = list_pairs(db)
        assert (saved.mentor.name, saved.mentee.name) == ("Ann Lee", "Cy Fox")
    finally:
        db.dispose()
    # From the database: only Gus and Di are left, and they still clash; nothing more is saved.
    again = run_coach("match", "--from-db", "--json", "--accept")
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["pairs"] == [] and data["saved_pair_ids"] == []
    assert sorted(u["name"] for u in data["unmatched"]) == ["Di Wu", "Gus Moss"]
    # The same file again: its emails are taken, so nothing is saved at all.
    clash = run_coach("match", str(people_csv), "--accept")
    assert clash.returncode == 1 and "nothing was saved" in clash.stderr


def test_bad_file_lists_rows_and_saves_nothing(coach_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        PEOPLE
        + "Ann Lee,mentor,ann@x.org,IT,,,Python,,,\n"
        + "Bo,boss,,,,,,,,\n"
        + "Ed,mentor,,,,,,,,\n"
        + "Fay,mentee,,,,,,,,\n"
    )
    result = run_coach("match", str(path), "--accept")
    assert result.returncode == 1
    message = result.stderr
    assert "bad.csv: nothing was matched; 4 problem(s) to fix:" in message
    assert "row 6, email: 'ann@x.org' is also on row 2" in message
    assert "row 7, role: 'boss' is not a role" in message
    assert "row 8, skills: a mentor needs at least one skill" in message
    assert "row 9, growth_areas: a mentee needs a growth area or a goal" in message
    assert json.loads(run_coach("people", "list", "--json").stdout) == []  # nothing saved
    missing = tmp_path / "missing.csv"
    missing.write_text("name,email\nAnn,a@x.org\n")
    result = run_coach("match", str(missing))
    assert result.returncode == 1 and "row 1: the header must name the column(s) role" in (
        result.stderr
    )


def test_usage_errors_exit_2(coach_home: Path, people_csv: Path) -> None:
    assert run_coach("match").returncode == 2
    both = run_coach("match", str(people_csv), "--from-db")
    assert both.returncode == 2 and "one of them" in both.stderr
    assert run_coach("match", "no-such.csv").returncode == 2

"""A shared programme (PostgreSQL): the facilitator's report shows only the anonymised data."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_coach


@pytest.fixture
def shared_demo(postgres, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COACH_DATABASE_URL", postgres.create_database())
    made = run_coach("demo-data")
    assert made.returncode == 0, made.stderr
    return made.stdout


def test_the_report_of_a_shared_programme_is_the_anonymised_report(shared_demo: str) -> None:
    from datetime import UTC, datetime

    from coach.sessions.db import open_database
    from coach.sessions.metrics import programme_metrics
    from coach.settings import load_settings

    db = open_database(load_settings())
    try:
        metrics = programme_metrics(db, now=datetime.now(UTC))
    finally:
        db.dispose()
    names = {n for p in metrics.pairs for n in (p.mentor_name, p.mentee_name)}

    shown = run_coach("report", "--json")
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert {p["pair"] for p in report["pairs"]} == {p.key for p in metrics.pairs}
    assert not any({"pair_id", "mentor", "mentee"} & set(p) for p in report["pairs"])
    printed = run_coach("report").stdout + run_coach("report", "--csv").stdout
    assert names and not any(name in printed for name in names)


def test_names_are_refused_on_a_shared_database_with_the_reason(shared_demo: str) -> None:
    refused = run_coach("report", "--names")
    assert refused.returncode == 2
    assert "shared" in refused.stderr and "anonymised" in refused.stderr
    assert "Traceback" not in refused.stderr

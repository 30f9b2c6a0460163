"""`coach doctor` names each part's backend and whether it answers, against real servers."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_coach
from tests.servers import free_port


def parts(stdout: str) -> dict[str, dict]:
    return {probe["part"]: probe for probe in json.loads(stdout)}


def test_the_embedded_defaults_all_answer(monkeypatch: pytest.MonkeyPatch, coach_home) -> None:
    monkeypatch.setenv("COACH_MODEL", "none")
    shown = run_coach("doctor", "--json")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    found = parts(shown.stdout)
    assert list(found) == ["database", "private notes", "knowledge base", "model"]
    assert found["database"]["backend"] == "sqlite"
    assert found["database"]["where"] == str(coach_home / "coach.sqlite3")
    assert found["knowledge base"]["backend"] == "chroma (embedded)"
    assert found["model"]["backend"] == "none"
    assert all(p["ok"] for p in found.values())
    text = run_coach("doctor")
    assert text.returncode == 0 and "✓ database" in text.stdout


def test_shared_servers_are_named_without_the_password_and_checked(
    postgres, chroma_server, chroma_database, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres.create_database().replace("postgres@", "postgres:s3cret@")
    monkeypatch.setenv("COACH_DATABASE_URL", url)
    monkeypatch.setenv("COACH_KNOWLEDGE_URL", chroma_server.url)
    monkeypatch.setenv("COACH_KNOWLEDGE_DATABASE", chroma_database)
    monkeypatch.setenv("COACH_MODEL", "none")
    shown = run_coach("doctor", "--json")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "s3cret" not in shown.stdout + shown.stderr
    found = parts(shown.stdout)
    assert found["database"]["backend"] == "postgresql" and found["database"]["ok"]
    assert found["private notes"]["backend"] == "sqlite (local)"
    assert found["knowledge base"]["backend"] == "chroma server"
    assert chroma_server.url in found["knowledge base"]["where"]


def test_a_part_that_does_not_answer_fails_the_check_and_the_others_still_show(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("COACH_KNOWLEDGE_URL", closed)
    monkeypatch.setenv("COACH_MODEL", f"openai:local@{closed}/v1")
    shown = run_coach("doctor", "--json")
    assert shown.returncode == 1
    found = parts(shown.stdout)
    assert found["database"]["ok"]
    assert not found["knowledge base"]["ok"] and closed in found["knowledge base"]["detail"]
    assert not found["model"]["ok"] and found["model"]["backend"] == "openai"
    text = run_coach("doctor")
    assert text.returncode == 1 and "✗ knowledge base" in text.stdout
    assert "Traceback" not in text.stdout + text.stderr

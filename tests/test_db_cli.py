"""`coach db upgrade` and `coach db current` through the real CLI, on SQLite and a real
PostgreSQL: from an empty database, from an older revision, twice, and when they cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.sessions.db import downgrade, make_engine, normalise_url, upgrade
from tests.conftest import run_coach

HEAD = "0005"


@pytest.fixture
def empty_database(
    database_backend: str, coach_home: Path, request: pytest.FixtureRequest, monkeypatch
) -> str:
    """The configured database, with no schema yet; returns its URL."""
    if database_backend == "postgresql":
        url = request.getfixturevalue("postgres").create_database(migrated=False)
        monkeypatch.setenv("COACH_DATABASE_URL", url.replace("postgresql+psycopg", "postgresql"))
        return url
    return f"sqlite:///{coach_home / 'coach.sqlite3'}"


def where(url: str) -> str:
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    return url.replace("postgresql+psycopg", "postgresql")


def test_upgrade_from_empty_then_again_is_a_no_op(empty_database: str, database_backend) -> None:
    first = run_coach("db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        f"{database_backend} {where(empty_database)}: upgraded from an empty database to {HEAD}"
    )
    again = run_coach("db", "upgrade")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().endswith(f": already at head ({HEAD})")
    current = run_coach("db", "current")
    assert current.returncode == 0, current.stderr
    assert current.stdout.split("\n")[:5] == [
        f"backend:  {database_backend}",
        f"where:    {where(empty_database)}",
        f"current:  {HEAD}",
        f"head:     {HEAD}",
        f"status:   revision {HEAD} (head)",
    ]


def test_current_shows_an_older_revision_and_upgrade_brings_it_to_head(
    empty_database: str,
) -> None:
    engine = make_engine(empty_database)
    upgrade(engine, "0003")
    engine.dispose()
    current = run_coach("db", "current")
    assert current.returncode == 0, current.stderr
    assert "current:  0003" in current.stdout
    assert f"revision 0003, head is {HEAD}: run `coach db upgrade`" in current.stdout
    upgraded = run_coach("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip().endswith(f"upgraded from 0003 to {HEAD}")


def test_current_never_creates_or_upgrades(empty_database: str) -> None:
    current = run_coach("db", "current")
    assert current.returncode == 0, current.stderr
    assert "current:  none (empty database)" in current.stdout
    assert f"no schema yet, head is {HEAD}: run `coach db upgrade`" in current.stdout
    if empty_database.startswith("sqlite"):
        assert not Path(where(empty_database)).exists()
    else:
        engine = make_engine(empty_database)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT to_regclass('people')").scalar() is None
        engine.dispose()


def test_a_database_from_a_newer_coach_is_refused(empty_database: str) -> None:
    engine = make_engine(empty_database)
    upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    engine.dispose()
    for command in ("upgrade", "current"):
        result = run_coach("db", command)
        assert result.returncode == 1
        assert "0099" in result.stdout + result.stderr
        assert "upgrade Coach" in result.stdout + result.stderr
        assert "Traceback" not in result.stderr


def test_an_unreachable_server_is_one_line_and_exit_1(coach_home: Path) -> None:
    from tests.postgres import free_port

    port = free_port()
    url = f"postgresql://coach:s3cret@127.0.0.1:{port}/programme"
    for command in ("upgrade", "current"):
        result = run_coach("db", command, env={"COACH_DATABASE_URL": url})
        assert result.returncode == 1
        assert result.stderr.startswith(
            "coach: error: cannot reach the programme database at "
            f"postgresql://coach@127.0.0.1:{port}/programme: "
        )
        assert "s3cret" not in result.stdout + result.stderr
        assert "Traceback" not in result.stderr


def test_an_unsupported_url_is_a_settings_error(coach_home: Path) -> None:
    env = {"COACH_DATABASE_URL": "mysql://coach:s3cret@127.0.0.1/programme"}
    result = run_coach("db", "upgrade", env=env)
    assert result.returncode == 2
    assert "uses 'mysql'" in result.stderr and "s3cret" not in result.stderr


def test_downgraded_postgres_database_is_upgraded_by_the_cli(postgres, coach_home: Path) -> None:
    """The facilitator's one-time preparation on a shared database that an old Coach made."""
    url = postgres.create_database()
    engine = make_engine(url)
    downgrade(engine, "0002")
    engine.dispose()
    env = {"COACH_DATABASE_URL": url.replace("postgresql+psycopg", "postgres")}
    result = run_coach("db", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"postgresql {where(normalise_url(url))}: upgraded from 0002 to {HEAD}"
    )

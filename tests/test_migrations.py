"""Alembic migrations on SQLite and a real PostgreSQL: from nothing, from the previous schema with
data, down to nothing and up again, at the same moment from several processes, and against the
models; plus what opening a database says when it is unreachable, too new or misnamed."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError

from coach.sessions.db import (
    DatabaseTooNew,
    DatabaseUnavailable,
    InvalidDatabaseUrl,
    database_url,
    downgrade,
    head_revision,
    make_engine,
    normalise_url,
    open_database,
    probe_database,
    upgrade,
)
from coach.sessions.models import Base
from coach.settings import ConfigError, load_settings

HEAD = "0005"


@pytest.fixture
def empty_url(database_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database with no schema at all, on the test's backend."""
    if database_backend == "postgresql":
        return request.getfixturevalue("postgres").create_database(migrated=False)
    return f"sqlite:///{tmp_path / 'old.sqlite3'}"


@pytest.fixture
def engine(empty_url: str):
    engine = make_engine(empty_url)
    yield engine
    engine.dispose()


def schema_differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def revision(engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_head_is_the_newest_migration() -> None:
    assert head_revision() == HEAD


def test_empty_database_upgrades_to_the_models(engine) -> None:
    assert upgrade(engine) == (None, HEAD)
    assert schema_differences(engine) == []
    assert revision(engine) == HEAD


@pytest.mark.sqlite_only(reason="file mode, WAL and the foreign_keys pragma are SQLite's own")
def test_sqlite_file_is_private_in_wal_mode_with_foreign_keys(
    coach_home: Path, database_backend: str
) -> None:
    database = open_database(load_settings())
    path = coach_home / "coach.sqlite3"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


def test_previous_schema_with_data_upgrades_and_keeps_it(engine) -> None:
    upgrade(engine, "0001")
    now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC).isoformat(sep=" ")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO people (id, name, role, department, skills, growth_areas, goals,"
                " created_at) VALUES (1, 'Ada', 'mentor', 'Data', '[\"python\"]', '[]', '[]',"
                " :now), (2, 'Grace', 'mentee', 'Board', '[]', '[\"ai\"]', '[]', :now)"
            ),
            {"now": now},
        )
    assert "confidence" not in inspect(engine).get_table_names()
    assert upgrade(engine) == ("0001", HEAD)
    assert upgrade(engine) == (HEAD, HEAD)  # a second run is a no-op
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT name, role, skills, manager, timezone FROM people ORDER BY id")
        ).all()
    # SQLite hands JSON back as text, PostgreSQL as parsed values: compare the values.
    assert [(r[0], r[1], _json(r[2]), r[3], r[4]) for r in rows] == [
        ("Ada", "mentor", ["python"], "", ""),
        ("Grace", "mentee", [], "", ""),
    ]
    assert "confidence" in inspect(engine).get_table_names()
    assert schema_differences(engine) == []


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def test_downgrade_to_nothing_and_upgrade_again(engine) -> None:
    upgrade(engine)
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert revision(engine) is None
    assert upgrade(engine) == (None, HEAD)
    assert upgrade(engine) == (HEAD, HEAD)
    assert schema_differences(engine) == []


def test_a_reader_never_blocks_a_writer(coach_home: Path, database_backend: str) -> None:
    import threading

    from coach.sessions.models import Person

    database = open_database(load_settings())
    with database.transaction() as orm:
        orm.add(Person(name="Ada", role="mentor"))
    wrote = threading.Event()

    def write() -> None:
        with database.transaction() as orm:
            orm.add(Person(name="Grace", role="mentee"))
        wrote.set()

    with database.read() as orm:
        assert [p.name for p in orm.query(Person)] == ["Ada"]
        writer = threading.Thread(target=write)
        writer.start()
        assert wrote.wait(5), "the writer waited for the reader"
        writer.join()
    with database.read() as orm:
        assert sorted(p.name for p in orm.query(Person)) == ["Ada", "Grace"]
    database.dispose()


def test_sessions_from_before_agenda_ticks_upgrade_with_none_ticked(engine) -> None:
    from coach.sessions.db import Database
    from coach.sessions.demo import create_demo_programme
    from coach.sessions.service import list_sessions, session_detail

    upgrade(engine)
    create_demo_programme(Database(engine), now=datetime(2026, 3, 1, tzinfo=UTC))
    downgrade(engine, "0004")  # 0005 (note uids) undone the proper way
    with engine.begin() as connection:  # back to 0003: the column goes, the rows stay
        connection.exec_driver_sql("ALTER TABLE sessions DROP COLUMN agenda_checked")
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0003'")
    upgrade(engine)
    database = Database(engine)
    sessions = list_sessions(database)
    assert sessions
    assert {tuple(session_detail(database, s.id)["agenda_checked"]) for s in sessions} == {()}


UPGRADER = """
import sys, time
from pathlib import Path
from coach.sessions.db import make_engine, upgrade
engine = make_engine(sys.argv[1])
go = Path(sys.argv[2])
Path(sys.argv[3]).touch()
while not go.exists():
    time.sleep(0.002)
print(*upgrade(engine))
"""


def test_machines_upgrading_at_once_take_turns(empty_url: str, tmp_path: Path) -> None:
    """Three processes find the same empty database and upgrade it at the same moment."""
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADER, empty_url, str(go), str(tmp_path / f"ready-{i}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{i}").exists() for i in range(3)):
        assert time.monotonic() < deadline and all(w.poll() is None for w in workers)
        time.sleep(0.01)
    go.touch()
    outputs = []
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr
        outputs.append(stdout.split())
    # One created the schema; the others waited for it and found the work done.
    assert sorted(outputs) == [[HEAD, HEAD], [HEAD, HEAD], ["None", HEAD]]
    engine = make_engine(empty_url)
    assert schema_differences(engine) == []
    engine.dispose()


def test_a_database_from_a_newer_coach_is_refused_clearly(
    engine, empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    monkeypatch.setenv("COACH_DATABASE_URL", empty_url)
    with pytest.raises(DatabaseTooNew, match=r"upgraded by a newer Coach \(revision 0099"):
        open_database(load_settings())
    probe = probe_database(load_settings())
    assert not probe.ok and "0099" in probe.detail and "upgrade Coach" in probe.detail


# --- URLs and unreachable servers (no database needed) --------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "postgresql://coach:pw@db.example:5432/prog",
            "postgresql+psycopg://coach:pw@db.example:5432/prog",
        ),
        ("postgres://coach@db.example/prog", "postgresql+psycopg://coach@db.example/prog"),
        (
            "postgresql+psycopg://coach@db.example/prog",
            "postgresql+psycopg://coach@db.example/prog",
        ),
        ("sqlite:////srv/coach.sqlite3", "sqlite:////srv/coach.sqlite3"),
    ],
)
def test_postgresql_urls_use_psycopg_3(given: str, expected: str) -> None:
    assert normalise_url(given) == expected
    assert database_url(load_settings(database_url=given)) == expected


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ("mysql://coach:s3cret@db.example/prog", "uses 'mysql'"),
        ("postgresql+psycopg2://coach:s3cret@db.example/prog", "uses 'postgresql+psycopg2'"),
        ("postgresql://coach:s3cret@db.example:notaport/prog", "cannot be parsed"),
        ("db.example/prog", "is not a URL"),
        ("postgresql://coach:s3cret@/prog", "names no host"),
    ],
)
def test_a_bad_url_is_a_config_error_without_the_password(given: str, complaint: str) -> None:
    with pytest.raises(InvalidDatabaseUrl, match=re.escape(complaint)) as caught:
        database_url(load_settings(database_url=given))
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value, ValueError)
    assert "s3cret" not in str(caught.value)
    probe = probe_database(load_settings(database_url=given))
    assert not probe.ok and "s3cret" not in probe.where + probe.detail


def test_an_unreachable_server_fails_fast_and_clearly(coach_home: Path) -> None:
    from tests.postgres import free_port

    port = free_port()  # nothing listens there
    url = f"postgresql://coach:s3cret@127.0.0.1:{port}/programme"
    began = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as caught:
        open_database(load_settings(database_url=url))
    assert time.monotonic() - began < 10
    message = str(caught.value)
    assert message.startswith(
        f"cannot reach the programme database at postgresql://coach@127.0.0.1:{port}/programme: "
    )
    assert "s3cret" not in message
    assert isinstance(caught.value, OSError)  # callers handling "cannot open" handle this too
    probe = probe_database(load_settings(database_url=url))
    assert probe.backend == "postgresql" and not probe.ok
    assert probe.where == f"postgresql://coach:***@127.0.0.1:{port}/programme"
    assert "cannot reach" in probe.detail and "s3cret" not in probe.detail


# --- the probe `coach doctor` shows ---------------------------------------------------------------


def test_probe_of_sqlite_never_creates_or_upgrades_it(coach_home: Path, tmp_path: Path) -> None:
    probe = probe_database(load_settings())
    path = coach_home / "coach.sqlite3"
    assert (probe.backend, probe.where, probe.ok) == ("sqlite", str(path), True)
    assert "not created yet" in probe.detail
    assert not path.exists()
    open_database(load_settings()).dispose()
    probe = probe_database(load_settings())
    assert probe.ok and probe.detail.endswith(f"revision {HEAD} (head)")
    assert probe.detail.startswith("SQLite ")


def test_probe_of_postgresql_reports_version_and_revision_and_never_upgrades(postgres) -> None:
    url = postgres.create_database(migrated=False)
    engine = make_engine(url)
    upgrade(engine, "0003")
    settings = load_settings(database_url=url.replace("postgresql+psycopg", "postgresql"))
    probe = probe_database(settings)
    assert (probe.backend, probe.ok) == ("postgresql", True)
    assert probe.where == url.replace("postgresql+psycopg", "postgresql")
    assert probe.detail.startswith("PostgreSQL ")
    assert probe.detail.endswith(f"revision 0003, head is {HEAD}: run `coach db upgrade`")
    assert revision(engine) == "0003"
    upgrade(engine)
    assert probe_database(settings).detail.endswith(f"revision {HEAD} (head)")
    engine.dispose()


def test_a_restarted_server_is_reconnected(private_postgres, coach_home: Path) -> None:
    """A pooled connection the server dropped is replaced (pre-ping), not handed out dead."""
    from coach.sessions.models import Person

    database = open_database(load_settings(database_url=private_postgres.create_database()))
    try:
        with database.transaction() as orm:
            orm.add(Person(name="Ada", role="mentor"))
        private_postgres.stop()
        with (
            pytest.raises(OperationalError, match=r"(?i)connect"),
            database.transaction() as orm,
        ):
            orm.add(Person(name="Grace", role="mentee"))
        private_postgres.start()
        with database.transaction() as orm:
            orm.add(Person(name="Grace", role="mentee"))
        with database.read() as orm:
            assert sorted(p.name for p in orm.query(Person)) == ["Ada", "Grace"]
    finally:
        database.dispose()

"""Alembic migrations: from nothing, from the previous schema with data, and against the models."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from coach.sessions.db import make_engine, open_database, upgrade
from coach.sessions.models import Base
from coach.settings import load_settings


def test_empty_database_upgrades_to_the_models(coach_home: Path) -> None:
    database = open_database(load_settings())
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == "0005"
    path = coach_home / "coach.sqlite3"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_previous_schema_with_data_upgrades_and_keeps_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
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
    upgrade(engine)
    upgrade(engine)  # a second run is a no-op
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT name, role, skills, manager, timezone FROM people ORDER BY id")
        ).all()
    assert [tuple(r) for r in rows] == [
        ("Ada", "mentor", '["python"]', "", ""),
        ("Grace", "mentee", "[]", "", ""),
    ]
    assert "confidence" in inspect(engine).get_table_names()


def test_a_reader_never_blocks_a_writer(coach_home: Path) -> None:
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


def test_sessions_from_before_agenda_ticks_upgrade_with_none_ticked(tmp_path: Path) -> None:
    from coach.sessions.db import Database
    from coach.sessions.demo import create_demo_programme
    from coach.sessions.service import list_sessions, session_detail

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine)
    create_demo_programme(Database(engine), now=datetime(2026, 3, 1, tzinfo=UTC))
    _downgrade(engine, "0004")  # 0005 (note uids) undone the proper way
    with engine.begin() as connection:  # back to 0003: the column goes, the rows stay
        connection.exec_driver_sql("ALTER TABLE sessions DROP COLUMN agenda_checked")
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0003'")
    upgrade(engine)
    database = Database(engine)
    sessions = list_sessions(database)
    assert sessions
    assert {tuple(session_detail(database, s.id)["agenda_checked"]) for s in sessions} == {()}


def _downgrade(engine, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from coach.sessions.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

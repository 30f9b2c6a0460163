"""Opening the programme database: SQLite under the data dir by default, any SQLAlchemy URL.

SQLite runs in WAL mode with a busy timeout, so a second process (the CLI beside the TUI) waits
for a write lock instead of failing; foreign keys are enforced; the file is private (0600).
Opening always brings the schema to the newest Alembic revision.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker

if TYPE_CHECKING:
    from coach.sessions.local_notes import LocalNotes
    from coach.settings import Settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 10_000


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{settings.data_dir / 'coach.sqlite3'}"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():  # created private before SQLite opens it; -wal/-shm inherit the mode
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        path.chmod(0o600)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    connection.isolation_level = None  # let SQLAlchemy's "begin" hook issue BEGIN itself
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Writers take the write lock at the start, so two processes never deadlock upgrading a
    # read lock; read-only units (Database.read) begin deferred and never block a writer.
    if connection.get_execution_options().get("coach_read_only"):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` (safe to run any number of times)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


class Database:
    def __init__(self, engine: Engine, local_notes: LocalNotes | None = None) -> None:
        self.engine = engine
        self.local_notes = local_notes
        """This machine's notes when the database is shared (``coach.sessions.local_notes``)."""
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[OrmSession]:
        """One unit of work: committed when the block ends, rolled back entirely on error."""
        with self._sessions() as orm, orm.begin():
            yield orm

    @contextlib.contextmanager
    def read(self) -> Iterator[OrmSession]:
        """A read-only unit of work (e.g. a screen refreshing): it never holds the write lock."""
        with (
            self.engine.connect().execution_options(coach_read_only=True) as connection,
            OrmSession(bind=connection, expire_on_commit=False) as orm,
            orm.begin(),
        ):
            yield orm
            orm.rollback()

    def dispose(self) -> None:
        if self.local_notes is not None:
            self.local_notes.close()
        self.engine.dispose()


def open_database(settings: Settings) -> Database:
    settings.ensure_dirs()
    engine = make_engine(database_url(settings))
    upgrade(engine)
    if not settings.shared_database:
        return Database(engine)
    from coach.sessions.local_notes import LocalNotes

    database = Database(engine)
    database.local_notes = LocalNotes(settings.private_notes_path, database)
    database.local_notes.sync_pending()  # notes a server outage kept here last time
    return database

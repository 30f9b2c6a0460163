"""Opening the programme database: SQLite under the data dir by default, or PostgreSQL.

SQLite runs in WAL mode with a busy timeout, so a second process (the CLI beside the TUI) waits
for a write lock instead of failing; foreign keys are enforced; the file is private (0600).
On PostgreSQL, write transactions take turns the same way (an advisory lock held until commit).
PostgreSQL (``postgresql://`` or ``postgres://`` URLs, driven by psycopg 3) is a programme's
shared database: connections are checked before use, so a restarted server is reconnected, and a
server that is down fails within ``CONNECT_TIMEOUT_S`` with ``DatabaseUnavailable`` instead of
hanging. Opening always brings the schema to the newest Alembic revision; on PostgreSQL an
advisory lock makes machines that upgrade at the same moment take turns.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker

from coach.settings import ConfigError

if TYPE_CHECKING:
    from coach.probe import Probe
    from coach.sessions.local_notes import LocalNotes
    from coach.settings import Settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_S = 5
"""How long connecting to a PostgreSQL server may take before it counts as unreachable."""
MIGRATION_LOCK_KEY = 0x636F616368  # "coach": one fixed advisory lock key for schema upgrades
WRITE_LOCK_KEY = 0x636F616377  # "coacw": held by every PostgreSQL write transaction
POSTGRES_DRIVER = "postgresql+psycopg"


class InvalidDatabaseUrl(ConfigError, ValueError):
    """``database_url`` cannot be parsed or names a database Coach does not support."""


class DatabaseUnavailable(ConnectionError):
    """The programme database server cannot be reached (down, refused, timed out, bad login).

    A ``ConnectionError`` (so an ``OSError``): callers that already handle "cannot open" for
    files handle an unreachable server the same way.
    """


class DatabaseTooNew(RuntimeError):
    """The database was upgraded by a newer Coach: its revision is unknown to this one."""


# --- URLs ---------------------------------------------------------------------------------------


def _mask(raw: str) -> str:
    """``raw`` with any password between ``user:`` and ``@`` hidden (for unparsable URLs)."""
    return re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", raw)


def normalise_url(raw: str) -> str:
    """A SQLAlchemy URL Coach can use: PostgreSQL through psycopg 3, or SQLite.

    ``postgresql://`` and ``postgres://`` become ``postgresql+psycopg://``; anything else that
    is not SQLite raises ``InvalidDatabaseUrl`` naming the URL without its password.
    """
    raw = raw.strip()
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme in ("postgres", "postgresql", POSTGRES_DRIVER):
        raw = POSTGRES_DRIVER + raw[len(scheme) :]
    elif scheme not in ("sqlite", "sqlite+pysqlite"):
        shown = _mask(raw)
        if not scheme:
            raise InvalidDatabaseUrl(
                f"database_url {shown!r} is not a URL; expected postgresql://user:password@host"
                ":port/database or sqlite:///path"
            )
        raise InvalidDatabaseUrl(
            f"database_url {shown!r} uses {scheme!r}; Coach supports postgresql:// (psycopg 3) "
            "and sqlite:///path"
        )
    try:
        url = make_url(raw)
        url.port  # noqa: B018  (parsed lazily by some versions)
    except (ArgumentError, ValueError) as exc:
        raise InvalidDatabaseUrl(f"database_url {_mask(raw)!r} cannot be parsed: {exc}") from None
    if url.get_backend_name() == "postgresql" and not url.host:
        raise InvalidDatabaseUrl(f"database_url {_mask(raw)!r} names no host")
    return url.render_as_string(hide_password=False)


def database_url(settings: Settings) -> str:
    """The SQLAlchemy URL of the programme database (see ``normalise_url``)."""
    if settings.database_url:
        return normalise_url(settings.database_url)
    return f"sqlite:///{settings.data_dir / 'coach.sqlite3'}"


def display_url(url: str | URL, *, hide: bool = True) -> str:
    """Where the database is, for people: a path for SQLite, a URL without its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    parsed = parsed.set(drivername=parsed.get_backend_name())
    if hide:
        return parsed.render_as_string(hide_password=True)
    return parsed._replace(password=None).render_as_string()  # set() ignores None


# --- engines ------------------------------------------------------------------------------------


def private_sqlite_file(path: Path) -> None:
    """Create ``path`` readable by the user only (0600) before SQLite opens it; its -wal and
    -shm files inherit the mode. Notes live in it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    path.chmod(0o600)


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        private_sqlite_file(Path(url.removeprefix("sqlite:///")))
    if make_url(url).get_backend_name() == "postgresql":
        engine = create_engine(
            url,
            pool_pre_ping=True,  # a connection the server dropped (restart) is replaced
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "coach"},
        )
        event.listen(engine, "begin", _postgres_begin_writer)
        return engine
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


def _postgres_begin_writer(connection: Any) -> None:
    # The service checks, then writes (an email not in use, a pair not yet active, ...): correct
    # when writers take turns, as SQLite's BEGIN IMMEDIATE makes them. READ COMMITTED would let
    # two machines pass the same check, so every write transaction takes one advisory lock
    # first (released at commit), waiting as long as SQLite's busy timeout. Read-only units
    # (Database.read) take nothing, so readers never wait for writers nor writers for readers.
    if connection.get_execution_options().get("coach_read_only"):
        return
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = {BUSY_TIMEOUT_MS}")
    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def _reason(exc: BaseException, url: str | URL) -> str:
    """The driver's message in one line, never with the password in it."""
    original = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    reason = "; ".join(lines) or type(original).__name__
    password = make_url(url).password
    if password:
        reason = reason.replace(str(password), "***")
    return reason


@contextlib.contextmanager
def connected(engine: Engine) -> Iterator[Connection]:
    """A connection; a server that cannot be reached raises ``DatabaseUnavailable``."""
    try:
        connection = engine.connect()
    except DBAPIError as exc:
        if engine.dialect.name == "sqlite":
            raise
        where = display_url(engine.url, hide=False)
        raise DatabaseUnavailable(
            f"cannot reach the programme database at {where}: {_reason(exc, engine.url)}"
        ) from None
    with connection:
        yield connection


# --- migrations ---------------------------------------------------------------------------------


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision this Coach knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {
        script.revision
        for script in ScriptDirectory.from_config(_alembic_config()).walk_revisions()
    }


def current_revision(connection: Connection) -> str | None:
    """The database's Alembic revision; None for a database Coach never migrated."""
    from alembic.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _check_known(connection: Connection, current: str | None) -> None:
    if current is not None and current not in known_revisions():
        where = display_url(connection.engine.url, hide=False)
        raise DatabaseTooNew(
            f"the programme database at {where} was upgraded by a newer Coach (revision "
            f"{current}; this Coach knows up to {head_revision()}): upgrade Coach"
        )


@contextlib.contextmanager
def _migrating(engine: Engine) -> Iterator[tuple[Connection, Any]]:
    """One transaction for a migration run, and an Alembic config that uses it.

    On PostgreSQL it first takes an advisory lock, so machines migrating one shared database at
    the same moment take turns.
    """
    config = _alembic_config()
    with connected(engine) as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        config.attributes["connection"] = connection
        yield connection, config


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Run the Alembic migrations up to ``revision`` (safe to run any number of times).

    All of it is one transaction. On PostgreSQL it first takes an advisory lock, so machines
    that upgrade one shared database at the same moment take turns, and the second finds the
    work done. Returns the revision before and after. A revision this Coach does not know
    raises ``DatabaseTooNew``; an unreachable server raises ``DatabaseUnavailable``.
    """
    from alembic import command

    with _migrating(engine) as (connection, config):
        before = current_revision(connection)
        _check_known(connection, before)
        command.upgrade(config, revision)
        after = current_revision(connection)
    return before, after


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to ``revision`` (``"base"`` for an empty database); for tests."""
    from alembic import command

    with _migrating(engine) as (_connection, config):
        command.downgrade(config, revision)


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
    """Open the programme database and bring its schema to the newest revision.

    Raises ``InvalidDatabaseUrl`` (a ConfigError) for a bad URL, ``DatabaseUnavailable`` when a
    server cannot be reached and ``DatabaseTooNew`` when a newer Coach upgraded it.
    """
    settings.ensure_dirs()
    engine = make_engine(database_url(settings))
    try:
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    if not settings.shared_database:
        return Database(engine)
    from coach.sessions.local_notes import LocalNotes

    database = Database(engine)
    database.local_notes = LocalNotes(settings.private_notes_path, database)
    database.local_notes.sync_pending()  # notes a server outage kept here last time
    return database


# --- what `coach doctor` and `coach db current` report --------------------------------------------


def revision_detail(current: str | None, head: str) -> tuple[bool, str]:
    """Whether a database at ``current`` is usable as it is, and the revision in words."""
    if current == head:
        return True, f"revision {current} (head)"
    if current is None:
        return True, f"no schema yet, head is {head}: run `coach db upgrade`"
    if current not in known_revisions():
        return (
            False,
            f"revision {current} is from a newer Coach (head here is {head}): upgrade Coach",
        )
    return True, f"revision {current}, head is {head}: run `coach db upgrade`"


def probe_database(settings: Settings) -> Probe:
    """Which programme database Coach would use, and whether it answers; never migrates it."""
    from coach.probe import Probe

    try:
        url = database_url(settings)
    except ConfigError as exc:
        raw = settings.database_url or ""
        backend = "postgresql" if raw.lower().startswith("postgres") else "unknown"
        return Probe("database", backend, _mask(raw), False, str(exc))
    backend = make_url(url).get_backend_name()
    head = head_revision()
    if backend == "sqlite":
        return _probe_sqlite(url, head)
    where = display_url(url)
    engine = make_engine(url)
    try:
        with connected(engine) as connection:
            version = connection.exec_driver_sql("SHOW server_version").scalar()
            current = current_revision(connection)
    except DatabaseUnavailable as exc:
        return Probe("database", backend, where, False, str(exc))
    except DBAPIError as exc:
        return Probe("database", backend, where, False, _reason(exc, url))
    finally:
        engine.dispose()
    ok, revision = revision_detail(current, head)
    return Probe("database", backend, where, ok, f"PostgreSQL {version}, {revision}")


def _probe_sqlite(url: str, head: str) -> Probe:
    import sqlite3

    from coach.probe import Probe

    path = make_url(url).database or ":memory:"
    if path == ":memory:" or not Path(path).exists():
        detail = f"not created yet (made on first use at revision {head})"
        return Probe("database", "sqlite", path, True, detail)
    try:
        connection = sqlite3.connect(
            f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=5
        )
        try:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            current = None
            if "alembic_version" in tables:
                row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
                current = row[0] if row else None
        finally:
            connection.close()
    except sqlite3.Error as exc:
        return Probe("database", "sqlite", path, False, f"cannot read it: {exc}")
    ok, revision = revision_detail(current, head)
    return Probe("database", "sqlite", path, ok, f"SQLite {sqlite3.sqlite_version}, {revision}")

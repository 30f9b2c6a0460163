"""A private PostgreSQL cluster on 127.0.0.1 for tests and benchmarks: the real server, not a mock.

``PostgresServer`` runs ``initdb`` into a temporary directory and starts that cluster on a free
port of 127.0.0.1 (and a Unix socket in the same directory). Its settings trade durability for
speed (``fsync=off``): a test cluster is thrown away at the end. Running as root, every server
binary runs as the ``postgres`` OS user (PostgreSQL refuses root), which then owns the directory.

Databases are cheap: ``create_database()`` copies a template database that was migrated to the
newest Alembic revision once (``CREATE DATABASE x TEMPLATE coach_template``), in tens of
milliseconds, instead of running the migrations for every test.

The fixtures are defined only when pytest is already imported, so ``bench/`` can use the class
without pytest.

Fixtures (import them into ``tests/conftest.py``):

* ``postgres`` (session): one shared running cluster. Never stop it; take a database of your own
  with ``postgres.create_database()``.
* ``private_postgres`` (function): a cluster of its own that a fault test may ``stop()`` and
  ``start()`` again; the port stays the same across a restart, so URLs stay valid.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

LOOPBACK = "127.0.0.1"
TEMPLATE = "coach_template"
INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found under /usr/lib/postgresql/*/bin "
    "or on PATH: install Debian's `postgresql` package "
    "(apt-get install -y --no-install-recommends postgresql), as .ci/run does"
)


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bin_dir() -> Path:
    """The newest PostgreSQL server's bin directory (``initdb``, ``pg_ctl``, ``postgres``)."""
    if explicit := os.environ.get("COACH_TEST_PG_BIN"):
        candidates = [explicit]
    else:

        def major(path: str) -> int:
            name = Path(path).parent.parent.name
            return int(name) if name.isdigit() else 0

        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=major, reverse=True)
        candidates = [str(Path(p).parent) for p in found]
        if on_path := shutil.which("initdb"):
            candidates.append(str(Path(on_path).parent))
    for candidate in candidates:
        folder = Path(candidate)
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PostgresMissing(INSTALL_HINT)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


class PostgresServer:
    """One private cluster: ``start()``, ``stop()``, ``create_database()``, ``url()``, ``remove()``.

    Also a context manager: entering starts it, leaving stops it and removes every file.
    """

    def __init__(self, *, port: int | None = None, template: bool = True) -> None:
        self.bin_dir = find_bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="coach-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.log_path = self.root / "server.log"
        self.port = port or free_port()
        self.template = template
        self._initialised = False
        self._template_ready = False
        self.user = "postgres"
        self._run_as = ["runuser", "-u", "postgres", "--"] if _as_root() else []
        if not _as_root():
            import getpass

            self.user = getpass.getuser()

    # --- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> PostgresServer:
        try:
            self.start()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.remove()

    def _server_command(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        return subprocess.run(
            [*self._run_as, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=self.root,
            check=False,
        )

    def _init(self) -> None:
        self.socket_dir.mkdir(exist_ok=True)
        if _as_root():
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        result = self._server_command(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        settings = {
            "listen_addresses": f"'{LOOPBACK}'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "32MB",
            "logging_collector": "off",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# coach tests\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        # Loopback only, whatever initdb wrote.
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )
        self._initialised = True

    def start(self, timeout: float = 60) -> None:
        """Start the cluster (``initdb`` first on the first start) and wait until it answers."""
        if not self._initialised:
            self._init()
        result = self._server_command(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log_path),
            "-w",
            "-t",
            str(int(timeout)),
            "start",
            timeout=timeout + 10,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"PostgreSQL did not start on port {self.port}:\n{result.stdout}{result.stderr}\n"
                f"{self.log_tail()}"
            )
        self._wait_accepting(timeout)
        if self.template and not self._template_ready:
            self._make_template()

    def stop(self, timeout: float = 60) -> None:
        """Stop the cluster (fast shutdown: clients are disconnected) and wait until it is down."""
        if not self.running:
            return
        result = self._server_command(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-m",
            "fast",
            "-w",
            "-t",
            str(int(timeout)),
            "stop",
            timeout=timeout + 10,
        )
        if result.returncode != 0 and self.running:
            raise RuntimeError(f"PostgreSQL did not stop:\n{result.stdout}{result.stderr}")
        deadline = time.monotonic() + timeout
        while self._port_accepts() and time.monotonic() < deadline:
            time.sleep(0.05)

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def remove(self) -> None:
        """Stop the cluster if it runs and delete its directory."""
        try:
            if self._initialised:
                self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def _port_accepts(self) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def _wait_accepting(self, timeout: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"PostgreSQL does not answer: {exc}\n{self.log_tail()}"
                    ) from None
                time.sleep(0.05)

    # --- databases ------------------------------------------------------------------------------

    def dsn(self, name: str) -> str:
        """A libpq connection string (for psycopg directly)."""
        return f"host={LOOPBACK} port={self.port} user={self.user} dbname={name}"

    def url(self, name: str) -> str:
        """The SQLAlchemy URL of database ``name`` on this cluster (psycopg 3)."""
        return f"postgresql+psycopg://{self.user}@{LOOPBACK}:{self.port}/{name}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(self.dsn(database), autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)

    def create_database(self, name: str | None = None, *, migrated: bool = True) -> str:
        """A new database; returns its URL. ``migrated``: a copy of the template at head."""
        name = name or f"coach_{uuid.uuid4().hex[:12]}"
        if migrated and self.template:
            self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        else:
            self.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _make_template(self) -> None:
        from coach.sessions.db import make_engine, upgrade

        self.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
        self.execute(f'CREATE DATABASE "{TEMPLATE}" TEMPLATE template0')
        engine = make_engine(self.url(TEMPLATE))
        try:
            upgrade(engine)
        finally:
            engine.dispose()  # CREATE DATABASE ... TEMPLATE needs it without connections
        self._template_ready = True


@contextlib.contextmanager
def postgres_server(**kwargs: object) -> Iterator[PostgresServer]:
    """A started private cluster, stopped and removed when the block ends (even on error)."""
    server = PostgresServer(**kwargs)  # type: ignore[arg-type]
    with server:
        yield server


# --- fixtures -------------------------------------------------------------------------------------

# Only under pytest (already imported by then): bench/ uses this module without importing pytest.
if "pytest" in sys.modules:
    import pytest

    def _server_or_fail(**kwargs: object) -> PostgresServer:
        try:
            return PostgresServer(**kwargs)  # type: ignore[arg-type]
        except PostgresMissing as exc:
            pytest.fail(str(exc), pytrace=False)

    @pytest.fixture(scope="session")
    def postgres() -> Iterator[PostgresServer]:
        """One running cluster shared by the whole session. Never stop it."""
        with _server_or_fail() as server:
            yield server

    @pytest.fixture
    def private_postgres() -> Iterator[PostgresServer]:
        """A running cluster of this test's own: stop() and start() it at will."""
        with _server_or_fail() as server:
            yield server

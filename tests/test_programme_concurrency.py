"""Two processes writing people and pairs to one database at once (the CLI beside the TUI).

SQLite allows one writer at a time; Coach's transactions take the write lock when they begin and
wait for it (busy timeout), so concurrent writers queue instead of failing with "database is
locked" or interleaving a check with another process's insert.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from coach.sessions.models import Pair, Person
from tests.conftest import run_coach

WORKER = """
import sys, time
from pathlib import Path

from coach.sessions.db import open_database
from coach.sessions.errors import InputError
from coach.sessions.service import add_pair, add_person, list_people
from coach.settings import load_settings

mode, tag, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
db = open_database(load_settings())
list_people(db)  # warm up (connect, compile queries) so both start writing at once
(go.parent / f"ready-{tag}").touch()
while not go.exists():
    time.sleep(0.0005)
if mode == "people":
    ids = {"mentor": [], "mentee": []}
    for i in range(count):
        role = "mentor" if i % 2 == 0 else "mentee"
        email = f"{tag}.{i}@example.org"
        ids[role].append(add_person(db, {"name": f"{tag} {i}", "role": role, "email": email}))
    for mentor_id, mentee_id in zip(ids["mentor"], ids["mentee"]):
        add_pair(db, mentor_id, mentee_id)
else:  # both workers try to create the same pair
    try:
        print("paired", add_pair(db, int(sys.argv[5]), int(sys.argv[6])))
    except InputError as exc:
        print("refused", exc)
"""


def run_together(tmp_path: Path, *argv_per_worker: list[str]) -> list[subprocess.CompletedProcess]:
    """Start workers, let them all open the database, then release them at the same instant."""
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, argv[0], argv[1], argv[2], str(go), *argv[3:]],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argv_per_worker
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{argv[1]}").exists() for argv in argv_per_worker):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(w.poll() is None for w in workers), [w.communicate() for w in workers]
        time.sleep(0.01)
    go.touch()
    results = []
    for worker, argv in zip(workers, argv_per_worker, strict=True):
        stdout, stderr = worker.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(argv, worker.returncode, stdout, stderr))
    return results


def test_two_processes_add_people_and_pairs_at_once(db, tmp_path: Path) -> None:
    results = run_together(tmp_path, ["people", "left", "30"], ["people", "right", "30"])
    for result in results:
        assert result.returncode == 0, result.stderr
        assert "locked" not in result.stderr
    with db.transaction() as orm:
        names = list(orm.scalars(select(Person.name).order_by(Person.id)))
        pairs = orm.scalar(select(func.count()).select_from(Pair))
    assert len(names) == 60
    assert sorted(names) == sorted(
        [f"left {i}" for i in range(30)] + [f"right {i}" for i in range(30)]
    )
    assert pairs == 30


def test_two_processes_pairing_the_same_two_create_one_pair(db, tmp_path: Path) -> None:
    from coach.sessions.service import add_person

    mentor = add_person(db, {"name": "Ada", "role": "mentor"})
    mentee = add_person(db, {"name": "Grace", "role": "mentee"})
    ids = [str(mentor), str(mentee)]
    results = run_together(tmp_path, ["pair", "a", "0", *ids], ["pair", "b", "0", *ids])
    assert all(result.returncode == 0 for result in results), [r.stderr for r in results]
    outcomes = sorted(result.stdout.split()[0] for result in results)
    assert outcomes == ["paired", "refused"], [r.stdout for r in results]
    with db.transaction() as orm:
        assert orm.scalar(select(func.count()).select_from(Pair)) == 1


def test_two_cli_imports_into_a_new_database_at_once(coach_home: Path, tmp_path: Path) -> None:
    """Neither process finds the database: both create and migrate it, then import."""
    files = []
    for tag in ("north", "south"):
        path = tmp_path / f"{tag}.csv"
        rows = "".join(f"{tag} {i},mentee,{tag}.{i}@example.org\n" for i in range(30))
        path.write_text("name,role,email\n" + rows)
        files.append(path)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "coach", "people", "import", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in files
    ]
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr
        assert "Imported 30 people" in stdout
    listed = run_coach("people", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    emails = {person["email"] for person in json.loads(listed.stdout)}
    assert len(emails) == 60

"""A shared programme under load, on a private PostgreSQL cluster, with SQLite as the baseline.

* ``notes``: 50 pairs, each a thread with its own machine (COACH_HOME, local note store,
  connection pool) and its own running session, write their note once a second for
  ``--seconds`` (default 60) through ``NoteAutosaver``. Afterwards every pair's final text must be
  on the server and every write counted (no lost writes). Figures: how long a write keeps the
  typist waiting (``flush``), and how long until the server has it; the same 50 writers on one
  SQLite file are the baseline.
* ``report``: 1,000 pairs x 6 sessions (phases, feedback from both sides, confidence,
  experiments) bulk-inserted into PostgreSQL and SQLite; the programme report as ``coach report``
  makes it (``programme_metrics`` + ``programme_report``), goal <= 2 s on PostgreSQL.

    python bench/run.py notes report            # from the repository root
    python bench/programme_load.py notes --seconds 10
    BENCH_NOTES_SECONDS=10 python bench/run.py notes

It starts its own cluster with ``tests/postgres.py`` (which needs no pytest) and removes it after.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PAIRS = 50
NOTES_SECONDS = 60.0
REPORT_PAIRS = 1000
REPORT_SESSIONS = 6
Report = Callable[..., None]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _notes_seconds() -> float:
    return float(os.environ.get("BENCH_NOTES_SECONDS", NOTES_SECONDS))


# --- notes ----------------------------------------------------------------------------------------


def _make_sessions(db, pairs: int) -> list[int]:
    """One running session per pair, people and pairs made for it."""
    from coach.sessions.engine import schedule_session
    from coach.sessions.models import Pair, Person

    ids = []
    with db.transaction() as orm:
        made = [
            Pair(
                mentor=Person(name=f"Mentor {n}", role="mentor"),
                mentee=Person(name=f"Mentee {n}", role="mentee"),
            )
            for n in range(pairs)
        ]
        orm.add_all(made)
        orm.flush()
        pair_ids = [pair.id for pair in made]
    for pair_id in pair_ids:
        ids.append(schedule_session(db, pair_id))
    return ids


def _pair_writes(
    settings, session_id: int, seconds: float, start: threading.Barrier, out: dict
) -> None:
    """One pair's machine: open the database, write the note once a second, close."""
    from coach.sessions.autosave import NoteAutosaver
    from coach.sessions.db import open_database

    db = open_database(settings)
    try:
        saver = NoteAutosaver(db, session_id, author_role="mentee")
        flush, shared, last, writes = [], [], "", 0
        start.wait()
        began = time.monotonic()
        while time.monotonic() - began < seconds:
            tick = began + writes  # once a second, on the second
            time.sleep(max(0.0, tick - time.monotonic()))
            last = f"session {session_id}, write {writes}: " + "typing a sentence. " * (writes + 1)
            t0 = time.perf_counter()
            saver.update(last)
            saver.flush()
            flush.append(time.perf_counter() - t0)
            writes += 1
            if db.local_notes is not None and isinstance(saver.note_id, str):
                # Until the server has this version (the store syncs in the background).
                deadline = began + writes  # give up at the next write's tick
                while time.monotonic() < deadline:
                    mine = db.local_notes.get(saver.note_id)
                    if mine is not None and not mine.pending:
                        shared.append(time.perf_counter() - t0)
                        break
                    time.sleep(0.005)
                else:
                    shared.append(float("inf"))
        saver.close()
        if db.local_notes is not None:
            db.local_notes.wait_synced(30)
        out.update(
            flush=flush,
            shared=shared,
            last=last,
            writes=writes,
            saves=saver.saves,
            failures=saver.failures,
            note_id=saver.note_id,
        )
    except BaseException as exc:  # reported as a lost pair, never hidden
        out["error"] = repr(exc)
    finally:
        db.dispose()


def _run_pairs(work: Path, url: str | None, seconds: float, label: str) -> dict:
    from sqlalchemy import select

    from coach.sessions.db import open_database
    from coach.sessions.models import Note
    from coach.settings import load_settings

    def settings(home: Path):
        return load_settings(home=home, database_url=url) if url else load_settings(home=home)

    shared_home = work / f"{label}-facilitator"
    setup = open_database(settings(shared_home))
    sessions = _make_sessions(setup, PAIRS)
    results: list[dict] = [{} for _ in sessions]
    start = threading.Barrier(len(sessions))
    threads = [
        threading.Thread(
            target=_pair_writes,
            # With a server each pair is its own machine; with SQLite they share the one file.
            args=(
                settings(work / f"{label}-pair-{n}" if url else shared_home),
                session_id,
                seconds,
                start,
                results[n],
            ),
            name=f"pair-{n}",
        )
        for n, session_id in enumerate(sessions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lost = []
    with setup.read() as orm:
        for session_id, result in zip(sessions, results, strict=True):
            texts = list(orm.scalars(select(Note.text).where(Note.session_id == session_id)))
            ok = (
                "error" not in result
                and texts == [result["last"]]
                and result["saves"] == result["writes"]
                and not result["failures"]
            )
            if not ok:
                lost.append((session_id, result.get("error"), len(texts)))
    setup.dispose()
    flush = [v for r in results for v in r.get("flush", [])]
    shared = [v for r in results for v in r.get("shared", [])]
    return {
        "lost": lost,
        "writes": sum(r.get("writes", 0) for r in results),
        "flush": flush,
        "shared": shared,
    }


def notes(work: Path, report: Report, seconds: float | None = None) -> None:
    """50 pairs autosaving once a second into PostgreSQL (vs one SQLite file) without a loss."""
    from tests.postgres import PostgresServer

    seconds = seconds if seconds is not None else _notes_seconds()
    with PostgresServer() as server:
        url = server.create_database("notes").replace("postgresql+psycopg", "postgresql")
        pg = _run_pairs(work, url, seconds, "pg")
    lite = _run_pairs(work, None, seconds, "sqlite")
    shared = pg["shared"] or [float("nan")]
    p95_server = _percentile(shared, 0.95)
    p95_sqlite = _percentile(lite["flush"], 0.95)
    passed = not pg["lost"] and not lite["lost"] and p95_server <= 1.0
    report(
        f"notes: {PAIRS} pairs x {seconds:.0f} s, once a second",
        "no lost writes; p95 until on the server <= 1 s",
        passed,
        writes=str(pg["writes"]),
        lost=str(len(pg["lost"])),
        pg_flush_p50_ms=1000 * statistics.median(pg["flush"]),
        pg_flush_p95_ms=1000 * _percentile(pg["flush"], 0.95),
        pg_server_p50_ms=1000 * statistics.median(shared),
        pg_server_p95_ms=1000 * p95_server,
        sqlite_p50_ms=1000 * statistics.median(lite["flush"]),
        sqlite_p95_ms=1000 * p95_sqlite,
        sqlite_lost=str(len(lite["lost"])),
        ratio_server_p95_to_sqlite=p95_server / p95_sqlite,
    )
    if pg["lost"] or lite["lost"]:
        print(f"  lost (session, error, rows): pg {pg['lost'][:5]} sqlite {lite['lost'][:5]}")


# --- report ---------------------------------------------------------------------------------------


def fill_programme(db, pairs: int = REPORT_PAIRS, sessions: int = REPORT_SESSIONS) -> None:
    """Bulk-insert a programme with full history (explicit ids, one transaction per table)."""
    import random

    from sqlalchemy import insert

    from coach.sessions.models import (
        Confidence,
        Experiment,
        Feedback,
        Pair,
        Person,
        Session,
        SessionPhase,
    )
    from coach.sessions.templates import STANDARD_60

    rng = random.Random(11)
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    rows: dict[type, list[dict]] = {
        m: [] for m in (Person, Pair, Session, SessionPhase, Feedback, Confidence, Experiment)
    }
    session_id = 0
    for p in range(1, pairs + 1):
        for offset, role in ((0, "mentor"), (1, "mentee")):
            rows[Person].append(
                {
                    "id": 2 * p - 1 + offset,
                    "name": f"{role.title()} {p}",
                    "email": f"{role}.{p}@example.org",
                    "role": role,
                    "department": f"Dept {p % 30}",
                    "skills": ["ai-tools"],
                    "growth_areas": [],
                    "goals": [],
                    "created_at": start,
                }
            )
        rows[Pair].append(
            {
                "id": p,
                "mentor_id": 2 * p - 1,
                "mentee_id": 2 * p,
                "cadence_days": 14,
                "planned_sessions": 6,
                "active": p % 10 != 0,
                "created_at": start,
            }
        )
        held = rng.randint(0, sessions)
        for number in range(1, sessions + 1):
            session_id += 1
            when = start + timedelta(days=14 * number + rng.randint(0, 3))
            done = number <= held
            status = "completed" if done else rng.choice(["planned", "cancelled"])
            rows[Session].append(
                {
                    "id": session_id,
                    "pair_id": p,
                    "number": number,
                    "topic_ids": ["ai-tools"],
                    "template_id": STANDARD_60.id,
                    "status": status,
                    "scheduled_at": when,
                    "started_at": when if done else None,
                    "ended_at": when + timedelta(minutes=60) if done else None,
                    "summary": "Tried a prompt together." if done else "",
                    "cancel_reason": "" if status != "cancelled" else "ill",
                }
            )
            for position, phase in enumerate(STANDARD_60.phases):
                rows[SessionPhase].append(
                    {
                        "session_id": session_id,
                        "position": position,
                        "phase_id": phase.id,
                        "title": phase.title,
                        "planned_minutes": phase.minutes,
                        "seconds_spent": 60.0 * phase.minutes if done else 0.0,
                    }
                )
            if not done:
                continue
            for side in ("mentor", "mentee"):
                rows[Feedback].append(
                    {
                        "session_id": session_id,
                        "side": side,
                        "rating": rng.randint(2, 5),
                        "what_worked": "hands-on",
                        "what_to_change": "",
                        "good_fit": True if number == 1 else None,
                        "created_at": when,
                    }
                )
            for topic in ("ai-tools", "async-meetings"):
                before = rng.randint(1, 4)
                rows[Confidence].append(
                    {
                        "session_id": session_id,
                        "topic_id": topic,
                        "before": before,
                        "after": min(5, before + rng.randint(0, 2)),
                    }
                )
            for owner in ("mentor", "mentee"):
                rows[Experiment].append(
                    {
                        "pair_id": p,
                        "session_id": session_id,
                        "title": f"Try something, {owner}",
                        "owner": owner,
                        "status": rng.choice(["open", "done", "dropped"]),
                        "created_at": when,
                    }
                )
    with db.transaction() as orm:
        for model, batch in rows.items():
            orm.execute(insert(model), batch)


def _time_report(db, rounds: int = 3) -> tuple[float, int]:
    from coach.sessions.export import programme_report
    from coach.sessions.metrics import programme_metrics

    best = float("inf")
    pairs = 0
    for _ in range(rounds):
        began = time.perf_counter()
        metrics = programme_metrics(db, now=datetime(2026, 6, 1, tzinfo=UTC))
        data = programme_report(metrics)
        best = min(best, time.perf_counter() - began)
        pairs = len(data["pairs"])
    return best, pairs


def report_section(work: Path, report: Report) -> None:
    """The programme report over 1,000 pairs x 6 sessions on PostgreSQL (vs SQLite)."""
    from coach.sessions.db import open_database
    from coach.settings import load_settings
    from tests.postgres import PostgresServer

    with PostgresServer() as server:
        url = server.create_database("report")
        pg = open_database(load_settings(home=work / "report-pg", database_url=url))
        began = time.perf_counter()
        fill_programme(pg)
        pg_fill = time.perf_counter() - began
        pg_seconds, pg_pairs = _time_report(pg)
        pg.dispose()
    lite = open_database(load_settings(home=work / "report-sqlite"))
    began = time.perf_counter()
    fill_programme(lite)
    lite_fill = time.perf_counter() - began
    lite_seconds, lite_pairs = _time_report(lite)
    lite.dispose()
    report(
        f"report: {REPORT_PAIRS:,} pairs x {REPORT_SESSIONS} sessions",
        "<= 2 s on PostgreSQL",
        pg_seconds <= 2.0 and pg_pairs == lite_pairs == REPORT_PAIRS,
        pg_s=pg_seconds,
        sqlite_s=lite_seconds,
        ratio_pg_to_sqlite=pg_seconds / lite_seconds,
        pg_fill_s=pg_fill,
        sqlite_fill_s=lite_fill,
    )


def _print_report(name: str, goal: str, passed: bool, **figures: float | str) -> None:
    shown = "  ".join(
        f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()
    )
    print(f"[{'PASS' if passed else 'MISS'}] {name}: {shown}  (goal: {goal})", flush=True)


def main(argv: list[str]) -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="*", choices=["notes", "report"], default=[])
    parser.add_argument("--seconds", type=float, default=None, help="how long pairs write")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="coach-bench-load-") as tmp:
        for name in args.sections or ["notes", "report"]:
            if name == "notes":
                notes(Path(tmp), _print_report, args.seconds)
            else:
                report_section(Path(tmp), _print_report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""The home screen's reads and the shared "which session to run" rule, without any UI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coach.sessions.activity import (
    NextSession,
    create_pair,
    next_session,
    overview,
    recent_activity,
    session_to_run,
)
from coach.sessions.demo import create_demo_programme
from coach.sessions.engine import SessionEngine, schedule_session
from coach.sessions.errors import InputError, NotFound
from coach.sessions.experiments import update_experiment
from coach.sessions.metrics import programme_metrics
from coach.sessions.service import add_pair, add_person, list_people, list_sessions, pair_detail

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def _pair(db, n: int = 1) -> int:
    mentor = add_person(db, {"name": f"Mentor {n}", "role": "mentor", "email": f"m{n}@x.org"})
    mentee = add_person(db, {"name": f"Mentee {n}", "role": "mentee", "email": f"e{n}@x.org"})
    return add_pair(db, mentor, mentee)


def test_next_session_prefers_running_then_earliest_startable():
    planned = NextSession(3, 3, "planned", None)
    prepared = NextSession(4, 4, "prepared", NOW)
    done = NextSession(1, 1, "completed", NOW)
    running = NextSession(2, 2, "running", NOW)
    assert next_session([prepared, done, planned]) == planned
    assert next_session([prepared, planned, running, done]) == running
    assert next_session([done, NextSession(5, 2, "cancelled", None)]) is None
    assert next_session([]) is None


def test_session_to_run_resumes_then_picks_planned_then_schedules(db):
    pair = _pair(db)
    first = session_to_run(db, pair)  # nothing yet: session 1 is scheduled
    assert [s.id for s in list_sessions(db, pair)] == [first]
    assert session_to_run(db, pair) == first  # planned: reused, not scheduled twice
    second = schedule_session(db, pair)
    SessionEngine(db, second, clock=lambda: NOW).start()
    assert session_to_run(db, pair) == second  # running wins over the earlier planned one
    SessionEngine(db, second, clock=lambda: NOW).cancel("ill")
    assert session_to_run(db, pair) == first
    assert len(list_sessions(db, pair)) == 2


def test_session_to_run_refuses_unknown_and_inactive_pairs(db):
    with pytest.raises(NotFound):
        session_to_run(db, 99)
    create_demo_programme(db, now=NOW)
    inactive = next(p.pair_id for p in programme_metrics(db, now=NOW).pairs if not p.active)
    with pytest.raises(InputError, match="inactive"):
        session_to_run(db, inactive)


def test_overview_of_the_demo_matches_the_metrics(db):
    create_demo_programme(db, now=NOW)
    metrics = programme_metrics(db, now=NOW, stall_days=21)
    seen = overview(db, now=NOW, stall_days=21)
    assert [row.pair_id for row in seen.pairs] == [p.pair_id for p in metrics.pairs if p.active]
    assert [row.pair_id for row in seen.stalled] == metrics.stalled_pairs
    assert seen.people == 24 and seen.all_pairs == 12 and not seen.empty
    assert seen.running == []
    for row in seen.pairs:
        items = pair_detail(db, row.pair_id)["sessions"]["items"]
        planned = [i for i in items if i["status"] == "planned"]
        assert (row.next.id if row.next else None) == (planned[0]["id"] if planned else None)
    # A longer stall threshold clears the stalled pairs.
    assert overview(db, now=NOW, stall_days=200).stalled == []


def test_overview_shows_a_running_session_and_an_empty_programme(db):
    assert overview(db, now=NOW).empty
    pair = _pair(db)
    session = schedule_session(db, pair)
    SessionEngine(db, session, clock=lambda: NOW).start()
    seen = overview(db, now=NOW)
    assert not seen.empty
    assert [(row.pair_id, row.next.id) for row in seen.running] == [(pair, session)]


def test_recent_activity_is_newest_first_and_limited(db):
    pair = _pair(db)
    session = schedule_session(db, pair)
    engine = SessionEngine(db, session, clock=lambda: NOW + timedelta(days=400))
    engine.start()
    events = recent_activity(db, limit=12)
    assert [e.kind for e in events] == ["session_started", "pair_created"]
    assert events[0].text == "Session 1 started"
    assert events[0].pair == "Mentor 1 & Mentee 1"
    assert all(e.pair_id == pair for e in events)

    create_demo_programme(db, now=NOW)
    events = recent_activity(db, limit=12)
    assert len(events) == 12
    assert events[0].kind == "session_started"  # 400 days ahead of the demo
    times = [e.at for e in events]
    assert times == sorted(times, reverse=True)
    kinds = {e.kind for e in recent_activity(db, limit=200)}
    assert kinds == {
        "pair_created",
        "session_started",
        "session_completed",
        "session_cancelled",
        "experiment_added",
        "experiment_done",
    }
    assert len(recent_activity(db, limit=3)) == 3
    with pytest.raises(InputError):
        recent_activity(db, limit=0)


def test_recent_activity_reports_an_experiment_marked_done(db):
    create_demo_programme(db, now=NOW)
    open_one = next(
        e
        for p in programme_metrics(db, now=NOW).pairs
        for e in pair_detail(db, p.pair_id)["open_experiments"]
    )
    update_experiment(db, open_one["id"], "done", clock=lambda: NOW + timedelta(days=1))
    newest = recent_activity(db, limit=1)[0]
    assert newest.kind == "experiment_done"
    assert newest.text == f"Experiment done: {open_one['title']}"


def test_create_pair_checks_both_people_before_writing(db):
    mentor = {"name": "Ada", "email": "ada@x.org", "department": "IT"}
    with pytest.raises(InputError) as caught:
        create_pair(db, mentor, {"name": "", "email": "bo@bad"})
    assert str(caught.value).splitlines() == [
        "Mentee name: required",
        "Mentee email: 'bo@bad' is not an email address",
    ]
    assert list_people(db) == []  # the valid mentor was not written either

    with pytest.raises(InputError, match="Mentee email: the mentor has the same address"):
        create_pair(db, mentor, {"name": "Bo", "email": "ADA@x.org"})
    pair = create_pair(db, mentor, {"name": "Bo", "email": "bo@x.org", "growth_areas": ["AI"]})
    detail = pair_detail(db, pair)
    assert detail["mentor"]["name"] == "Ada" and detail["mentor"]["department"] == "IT"
    assert detail["mentee"]["growth_areas"] == ["AI"]

    with pytest.raises(InputError) as caught:
        create_pair(db, {"name": "Cy", "email": "cy@x.org"}, {"name": "Di", "email": "Bo@x.org"})
    assert str(caught.value) == "Mentee email: 'bo@x.org' already belongs to Bo"
    assert len(list_people(db)) == 2

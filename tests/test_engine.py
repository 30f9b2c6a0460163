"""The session engine on a real SQLite database: templates, scheduling, the phase state machine,
pause-aware timing, crash recovery, the wrap-up, experiments, the recap and lifecycle events."""

from __future__ import annotations

import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from coach.plugins.host import PluginHost
from coach.plugins.models import SessionEvent
from coach.sessions import wrapup
from coach.sessions.db import Database, open_database
from coach.sessions.engine import (
    SessionEngine,
    WrapUp,
    recap,
    schedule_session,
    update_experiment,
)
from coach.sessions.errors import InputError, NotFound
from coach.sessions.models import (
    Confidence,
    Experiment,
    Feedback,
    Note,
    Pair,
    Person,
    Session,
    SessionPhase,
)
from coach.sessions.templates import BUILTIN_TEMPLATES, STANDARD_60, all_templates
from coach.settings import load_settings

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def add_pair(db: Database, *, active: bool = True) -> int:
    with db.transaction() as orm:
        mentor = Person(name="Ada", role="mentor")
        mentee = Person(name="Grace", role="mentee")
        pair = Pair(mentor=mentor, mentee=mentee, active=active)
        orm.add(pair)
        orm.flush()
        return pair.id


@pytest.fixture
def pair_id(db: Database) -> int:
    return add_pair(db)


def engine_for(db: Database, pair_id: int, clock: FakeClock, **kwargs) -> SessionEngine:
    """A started session: the pair's first unless ``number`` sessions are completed first."""
    session_id = schedule_session(db, pair_id, topic_ids=["ai-tools"], **kwargs)
    engine = SessionEngine(db, session_id, clock=clock)
    engine.start()
    return engine


def run_to_session(db: Database, pair_id: int, clock: FakeClock, number: int) -> SessionEngine:
    """Complete sessions until the next one is ``number``, then start it."""
    for _ in range(number - 1):
        engine_for(db, pair_id, clock).complete(WrapUp(summary="done"))
    return engine_for(db, pair_id, clock)


def count(db: Database, model: type) -> int:
    with db.transaction() as orm:
        return orm.scalar(select(func.count()).select_from(model))


def session_row(db: Database, session_id: int) -> Session:
    with db.transaction() as orm:
        return orm.get(Session, session_id)


# --- templates ---------------------------------------------------------------------------------


def test_standard_template_is_sixty_minutes_in_the_agreed_shape() -> None:
    template = BUILTIN_TEMPLATES["standard-60"]
    assert [p.minutes for p in template.phases] == [5, 10, 25, 10, 7, 3]
    assert [p.id for p in template.phases] == [
        "check-in",
        "recap",
        "core",
        "share-back",
        "action-plan",
        "close",
    ]
    assert template.minutes == 60


def test_first_session_has_the_agreement_and_ends_with_the_fit_check() -> None:
    template = BUILTIN_TEMPLATES["first-session"]
    ids = [p.id for p in template.phases]
    assert "agreement" in ids and ids[-1] == "fit-check"
    agreement = template.phases[ids.index("agreement")].guidance.lower()
    for term in ("cadence", "confidentiality", "boundaries", "feedback", "no-blame exit"):
        assert term in agreement, term
    assert "good fit" in template.phases[-1].guidance.lower() + template.phases[-1].title.lower()
    assert 60 <= template.minutes <= 75


def test_check_in_is_thirty_minutes_and_every_phase_has_guidance() -> None:
    assert BUILTIN_TEMPLATES["check-in-30"].minutes == 30
    for template in BUILTIN_TEMPLATES.values():
        for phase in template.phases:
            assert len(phase.guidance) > 40, (template.id, phase.id)
            assert phase.guidance.rstrip().endswith((".", "!")), (template.id, phase.id)


def make_plugin_folder(root: Path, name: str, toml: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "plugin.toml").write_text(textwrap.dedent(toml))
    return folder


TEMPLATES_PACK = """
[plugin]
name = "lunch"
version = "1.0.0"

[[session_templates]]
id = "lunch"
title = "Lunch-and-learn"
phases = [
  { id = "eat", title = "Eat and catch up", minutes = 10, guidance = "Eat first." },
  { id = "demo", title = "One demo", minutes = 20 },
]

[[session_templates]]
id = "standard-60"
title = "A plugin's own idea of the standard session"
phases = [{ id = "chat", title = "Just chat", minutes = 60 }]
"""


def test_plugins_add_templates_but_never_replace_a_builtin(
    tmp_path: Path, db: Database, pair_id: int
) -> None:
    assert all_templates(None) == BUILTIN_TEMPLATES and all_templates(None).warnings == []
    make_plugin_folder(tmp_path / "plugins", "lunch", TEMPLATES_PACK)
    host = PluginHost(load_settings(plugins_dir=tmp_path / "plugins"), entry_points=False)
    catalogue = all_templates(host)
    assert catalogue["standard-60"] == STANDARD_60
    assert catalogue["lunch"].minutes == 30
    assert "async-check-in" in catalogue, "the built-in remote-work plugin's template"
    assert set(BUILTIN_TEMPLATES) < set(catalogue)
    assert len(catalogue.warnings) == 1
    assert "'lunch'" in catalogue.warnings[0] and "'standard-60'" in catalogue.warnings[0]
    assert all_templates(host).warnings == catalogue.warnings, "no warnings pile up"

    session_id = schedule_session(db, pair_id, template_id="lunch", templates=catalogue)
    with db.transaction() as orm:
        phases = orm.get(Session, session_id).phases
        assert [(p.phase_id, p.planned_minutes) for p in phases] == [("eat", 10), ("demo", 20)]
    with pytest.raises(NotFound, match="'lunch' does not exist"):
        schedule_session(db, pair_id, template_id="lunch")  # built-ins only by default


# --- scheduling --------------------------------------------------------------------------------


def test_schedule_numbers_sessions_and_copies_template_phases(db: Database, pair_id: int) -> None:
    when = datetime(2026, 4, 1, 14, 0, tzinfo=UTC)
    first = schedule_session(db, pair_id, topic_ids=["ai-tools", "ai-tools"], scheduled_at=when)
    second = schedule_session(db, pair_id)
    third = schedule_session(db, pair_id, template_id="check-in-30")
    SessionEngine(db, second).cancel("mentee travelling")
    fourth = schedule_session(db, pair_id)
    with db.transaction() as orm:
        rows = {s.id: s for s in orm.scalars(select(Session).where(Session.pair_id == pair_id))}
        assert [rows[i].number for i in (first, second, third, fourth)] == [1, 2, 3, 4]
        assert [rows[i].template_id for i in (first, second, third, fourth)] == [
            "first-session",
            "standard-60",
            "check-in-30",
            "standard-60",
        ]
        assert rows[first].topic_ids == ["ai-tools"] and rows[first].scheduled_at == when
        assert rows[first].status == "planned" and rows[first].current_phase is None
        standard = rows[second].phases
        assert [(p.position, p.phase_id, p.planned_minutes) for p in standard] == [
            (i, p.id, p.minutes) for i, p in enumerate(STANDARD_60.phases)
        ]
        assert all(p.seconds_spent == 0 and p.entered_at is None for p in standard)
        assert [p.guidance for p in standard] == [p.guidance for p in STANDARD_60.phases]
        assert all(p.guidance for p in standard)
        assert sum(p.planned_minutes for p in rows[third].phases) == 30
        assert "agreement" in [p.phase_id for p in rows[first].phases]


def test_schedule_rejects_unknown_or_inactive_pairs_and_unknown_templates(
    db: Database, pair_id: int
) -> None:
    with pytest.raises(NotFound, match="pair 999 does not exist"):
        schedule_session(db, 999)
    inactive = add_pair(db, active=False)
    with pytest.raises(InputError, match=f"pair {inactive} is inactive"):
        schedule_session(db, inactive)
    with pytest.raises(NotFound, match=r"'nope' does not exist.*standard-60"):
        schedule_session(db, pair_id, template_id="nope")
    with pytest.raises(InputError, match="time zone"):
        schedule_session(db, pair_id, scheduled_at=datetime(2026, 4, 1, 14, 0))
    assert count(db, Session) == 0 and count(db, SessionPhase) == 0


# --- the state machine and timing --------------------------------------------------------------


def test_phases_advance_go_back_and_add_up_their_time(
    db: Database, pair_id: int, clock: FakeClock
) -> None:
    engine = run_to_session(db, pair_id, clock, 2)  # standard-60
    state = engine.status()
    assert (state.status, state.phase_index, state.phase_id) == ("running", 0, "check-in")
    assert (state.phase_count, state.planned_seconds, state.planned_total_seconds) == (6, 300, 3600)
    assert state.phase_title == "Check-in and icebreaker" and not state.paused

    clock.advance(120)
    engine.next_phase()
    clock.advance(30)
    state = engine.status()
    assert (state.phase_id, state.phase_seconds, state.total_seconds) == ("recap", 30, 150)

    engine.previous_phase()  # back to check-in: its 120 s are kept and it counts on
    clock.advance(15)
    state = engine.status()
    assert (state.phase_id, state.phase_seconds, state.total_seconds) == ("check-in", 135, 165)
    with db.transaction() as orm:
        phases = orm.get(Session, engine.session_id).phases
        assert [p.seconds_spent for p in phases[:2]] == [120, 30]
        assert phases[0].entered_at == clock.now - timedelta(seconds=15)
        assert phases[1].entered_at is None
        assert orm.get(Session, engine.session_id).current_phase == 0


def test_pauses_do_not_count_and_overrun_is_detected(
    db: Database, pair_id: int, clock: FakeClock
) -> None:
    engine = run_to_session(db, pair_id, clock, 2)
    clock.advance(200)
    engine.pause()
    clock.advance(1000)
    state = engine.status()
    assert state.paused and state.phase_seconds == 200 and not state.overrun
    assert session_row(db, engine.session_id).paused_at == clock.now - timedelta(seconds=1000)
    engine.resume()
    clock.advance(100)
    state = engine.status()
    assert not state.paused and state.phase_seconds == 300
    assert not state.overrun and state.overrun_seconds == 0, "exactly on time is not an overrun"
    clock.advance(45.5)
    state = engine.status()
    assert state.overrun and state.overrun_seconds == 45.5 and state.total_seconds == 345.5
    assert session_row(db, engine.session_id).paused_at is None


def test_next_on_the_last_phase_stops_timing_but_does_not_complete(
    db: Database, pair_id: int, clock: FakeClock
) -> None:
    engine = run_to_session(db, pair_id, clock, 2)
    for _ in range(6):
        clock.advance(60)
        engine.next_phase()
    state = engine.status()
    assert state.status == "running" and state.phase_index == 6 and state.phase_id is None
    assert state.total_seconds == 360 and not state.overrun
    clock.advance(600)
    assert engine.status().total_seconds == 360, "nothing is timed past the last phase"
    with pytest.raises(InputError, match="past its last phase; complete it"):
        engine.next_phase()
    with pytest.raises(InputError, match="nothing to pause"):
        engine.pause()
    engine.previous_phase()
    clock.advance(5)
    assert engine.status().phase_id == "close" and engine.status().phase_seconds == 65
    engine.next_phase()
    engine.complete(WrapUp(summary="Covered prompting."))
    state = engine.status()
    assert state.status == "completed" and state.phase_index is None and state.total_seconds == 365


def test_illegal_transitions_raise_clear_input_errors(
    db: Database, pair_id: int, clock: FakeClock
) -> None:
    engine = SessionEngine(db, schedule_session(db, pair_id), clock=clock)
    for action, message in [
        (engine.next_phase, "is planned; it cannot move to the next phase"),
        (engine.pause, "is planned; it cannot pause"),
        (engine.resume, "is planned; it cannot resume"),
        (lambda: engine.complete(WrapUp()), "is planned; it cannot be completed"),
    ]:
        with pytest.raises(InputError, match=message):
            action()
    engine.start()
    with pytest.raises(InputError, match="is running; it cannot start"):
        engine.start()
    with pytest.raises(InputError, match="already in its first phase"):
        engine.previous_phase()
    with pytest.raises(InputError, match="is not paused"):
        engine.resume()
    engine.pause()
    for action, message in [
        (engine.pause, "is paused; resume it to pause"),
        (engine.next_phase, "is paused; resume it to move to the next phase"),
        (engine.previous_phase, "is paused; resume it to go back a phase"),
    ]:
        with pytest.raises(InputError, match=message):
            action()
    with pytest.raises(InputError, match="give a reason"):
        engine.cancel("  ")
    engine.cancel("the mentee was called into a board meeting")
    for action, message in [
        (lambda: engine.complete(WrapUp()), "is cancelled; it cannot be completed"),
        (lambda: engine.cancel("again"), "is cancelled; it cannot be cancelled"),
        (engine.start, "is cancelled; it cannot start"),
        (engine.resume, "is cancelled; it cannot resume"),
    ]:
        with pytest.raises(InputError, match=message):
            action()
    row = session_row(db, engine.session_id)
    assert row.status == "cancelled" and row.ended_at == clock.now and row.paused_at is None
    assert row.cancel_reason == "the mentee was called into a board meeting"
    with pytest.raises(NotFound, match="session 999 does not exist"):
        SessionEngine(db, 999)


def test_a_naive_clock_is_refused(db: Database, pair_id: int) -> None:
    engine = SessionEngine(db, schedule_session(db, pair_id), clock=datetime.now)
    with pytest.raises(ValueError, match="timezone-aware"):
        engine.start()
    assert session_row(db, engine.session_id).status == "planned"


def test_a_new_engine_after_a_crash_resumes_where_the_session_was(
    db: Database, pair_id: int, clock: FakeClock
) -> None:
    session_id = run_to_session(db, pair_id, clock, 2).session_id
    SessionEngine(db, session_id, clock=clock).next_phase()
    clock.advance(40)
    db.dispose()  # the process "dies": no engine object, no pooled connection survives

    reopened = open_database(load_settings())
    clock.advance(80)  # the time the process was down counts in the running phase
    engine = SessionEngine(reopened, session_id, clock=clock)
    state = engine.status()
    assert (state.status, state.phase_id, state.phase_seconds) == ("running", "recap", 120)
    engine.pause()
    reopened.dispose()

    again = open_database(load_settings())
    clock.advance(500)  # ... but not while paused
    engine = SessionEngine(again, session_id, clock=clock)
    state = engine.status()
    assert state.paused and state.phase_id == "recap" and state.phase_seconds == 120
    engine.resume()
    clock.advance(10)
    engine.next_phase()
    assert engine.status().phase_id == "core"
    assert engine.status().total_seconds == 130
    again.dispose()


# --- the wrap-up -------------------------------------------------------------------------------

FULL_WRAP_UP = {
    "summary": "  Tried a first prompt together; Grace explained how the board sees AI.  ",
    "experiments": [
        {"title": "Write one prompt a day", "owner": "mentee", "due_date": "2026-03-20"},
        {"title": "Sit in on a strategy meeting", "owner": "mentor"},
    ],
    "feedback": [
        {"side": "mentor", "rating": 5, "what_worked": "hands-on", "good_fit": True},
        {"side": "mentee", "rating": 4, "what_to_change": "more time for questions"},
    ],
    "confidence": [{"topic_id": "ai-tools", "before": 2, "after": 4}],
}


def test_complete_writes_the_whole_wrap_up_and_stops_timing(
    db: Database, pair_id: int, clock: FakeClock
) -> None:
    engine = engine_for(db, pair_id, clock)
    with db.transaction() as orm:  # "before" scores recorded when the session was prepared
        orm.add(Confidence(session_id=engine.session_id, topic_id="ai-tools", before=1))
        orm.add(Confidence(session_id=engine.session_id, topic_id="prompting-basics", before=3))
    clock.advance(90)
    engine.pause()
    clock.advance(30)
    scores = [*FULL_WRAP_UP["confidence"], {"topic_id": "prompting-basics", "after": 4}]
    engine.complete({**FULL_WRAP_UP, "confidence": scores})
    with db.transaction() as orm:
        session = orm.get(Session, engine.session_id)
        assert session.status == "completed" and session.ended_at == clock.now
        assert session.summary == FULL_WRAP_UP["summary"].strip()
        assert session.current_phase is None and session.paused_at is None
        assert all(p.entered_at is None for p in session.phases)
        assert session.phases[0].seconds_spent == 90
        experiments = orm.scalars(select(Experiment).order_by(Experiment.id)).all()
        assert [(e.title, e.owner, e.due_date, e.status, e.session_id) for e in experiments] == [
            ("Write one prompt a day", "mentee", date(2026, 3, 20), "open", session.id),
            ("Sit in on a strategy meeting", "mentor", None, "open", session.id),
        ]
        feedback = {f.side: f for f in orm.scalars(select(Feedback))}
        assert (feedback["mentor"].rating, feedback["mentor"].good_fit) == (5, True)
        assert feedback["mentee"].what_to_change == "more time for questions"
        assert feedback["mentee"].good_fit is None
        scores = {c.topic_id: (c.before, c.after) for c in orm.scalars(select(Confidence))}
        assert scores == {"ai-tools": (2, 4), "prompting-basics": (3, 4)}, "before is kept"
    clock.advance(100)
    assert engine.status().total_seconds == 90


@pytest.mark.parametrize(
    ("wrap_up", "field"),
    [
        ({"feedback": [{"side": "mentee", "rating": 6}]}, "feedback[0].rating"),
        ({"experiments": [{"title": "Try it", "owner": "boss"}]}, "experiments[0].owner"),
        ({"experiments": [{"title": "   ", "owner": "mentor"}]}, "experiments[0].title"),
        ({"confidence": [{"topic_id": "ai-tools", "after": 0}]}, "confidence[0].after"),
        (
            {"feedback": [{"side": "mentor", "rating": 3}, {"side": "mentor", "rating": 4}]},
            "feedback: each side gives feedback at most once",
        ),
        ({"summary": "ok", "mood": "great"}, "mood: Extra inputs"),
    ],
)
def test_invalid_wrap_up_names_the_field_and_writes_nothing(
    db: Database, pair_id: int, clock: FakeClock, wrap_up: dict, field: str
) -> None:
    with pytest.raises(InputError, match=f"^wrap-up: {field}".replace("[", r"\[")):
        WrapUp(**wrap_up)
    engine = engine_for(db, pair_id, clock)
    with pytest.raises(InputError, match=field.replace("[", r"\[")):
        engine.complete({**FULL_WRAP_UP, **wrap_up})
    assert session_row(db, engine.session_id).status == "running"
    assert count(db, Experiment) == count(db, Feedback) == count(db, Confidence) == 0


def test_good_fit_is_only_accepted_after_the_first_session(
    db: Database, pair_id: int, clock: FakeClock
) -> None:
    engine = run_to_session(db, pair_id, clock, 2)
    with pytest.raises(InputError, match=r"feedback\[0\]\.good_fit: .*this is session 2"):
        engine.complete(FULL_WRAP_UP)
    row = session_row(db, engine.session_id)
    assert row.status == "running" and row.summary == "" and row.ended_at is None
    assert count(db, Experiment) == count(db, Feedback) == 0
    engine.complete({**FULL_WRAP_UP, "feedback": [{"side": "mentee", "rating": 4}]})
    assert session_row(db, engine.session_id).status == "completed"


def test_a_failure_half_way_through_the_wrap_up_writes_nothing(
    db: Database, pair_id: int, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = engine_for(db, pair_id, clock)
    clock.advance(30)

    def broken(*_args) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(wrapup, "_write_confidence", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        engine.complete(FULL_WRAP_UP)
    row = session_row(db, engine.session_id)
    assert (row.status, row.summary, row.ended_at, row.current_phase) == ("running", "", None, 0)
    assert count(db, Experiment) == count(db, Feedback) == 0
    assert engine.status().phase_seconds == 30, "the phase is still being timed"


# --- experiments and the recap -----------------------------------------------------------------


def test_recap_shows_the_last_summary_and_open_experiments(
    db: Database, pair_id: int, clock: FakeClock
) -> None:
    assert recap(db, pair_id).last_number is None and recap(db, pair_id).open_experiments == []
    first = engine_for(db, pair_id, clock)
    first.complete(
        {
            "summary": "First steps with prompts.",
            "experiments": [
                {"title": "No date", "owner": "mentor"},
                {"title": "Due later", "owner": "mentee", "due_date": "2026-03-30"},
                {"title": "Due earlier", "owner": "mentee", "due_date": "2026-03-10"},
                {"title": "Already done", "owner": "mentor", "due_date": "2026-03-01"},
            ],
        }
    )
    clock.advance(7 * 86400)
    second = engine_for(db, pair_id, clock)
    second.complete(
        {"summary": "Prompt review.", "experiments": [{"title": "Due today", "owner": "mentor"}]}
    )
    engine_for(db, pair_id, clock).cancel("holiday")  # a cancelled session is not "the last"
    with db.transaction() as orm:
        ids = {e.title: e.id for e in orm.scalars(select(Experiment))}
    update_experiment(db, ids["Already done"], "done")
    update_experiment(db, ids["Due today"], "dropped")

    result = recap(db, pair_id, today=date(2026, 3, 10))
    assert result.last_number == 2 and result.last_summary == "Prompt review."
    assert result.last_date == clock.now.date() and result.last_ended_at == clock.now
    assert [(e.title, e.owner, e.due_date, e.overdue) for e in result.open_experiments] == [
        ("Due earlier", "mentee", date(2026, 3, 10), False),
        ("Due later", "mentee", date(2026, 3, 30), False),
        ("No date", "mentor", None, False),
    ]
    later = recap(db, pair_id, today=date(2026, 3, 11))
    assert [e.overdue for e in later.open_experiments] == [True, False, False]
    with pytest.raises(NotFound, match="pair 999"):
        recap(db, 999)


def test_update_experiment_sets_completed_at_only_when_done(
    db: Database, pair_id: int, clock: FakeClock
) -> None:
    engine_for(db, pair_id, clock).complete(
        {"experiments": [{"title": "Post once on LinkedIn", "owner": "mentee"}]}
    )
    with db.transaction() as orm:
        experiment_id = orm.scalar(select(Experiment.id))

    def stored() -> tuple[str, datetime | None]:
        with db.transaction() as orm:
            row = orm.get(Experiment, experiment_id)
            return row.status, row.completed_at

    update_experiment(db, experiment_id, "done", clock=clock)
    assert stored() == ("done", START)
    clock.advance(60)
    update_experiment(db, experiment_id, "done", clock=clock)
    assert stored() == ("done", START), "marking done again keeps the first completion time"
    update_experiment(db, experiment_id, "open")
    assert stored() == ("open", None)
    with pytest.raises(InputError, match="one of open, done, dropped, not 'finished'"):
        update_experiment(db, experiment_id, "finished")
    with pytest.raises(NotFound, match="experiment 999"):
        update_experiment(db, 999, "done")


# --- lifecycle events --------------------------------------------------------------------------


def test_lifecycle_events_carry_phases_and_never_notes(
    db: Database, pair_id: int, clock: FakeClock
) -> None:
    calls: list[tuple[str, SessionEvent]] = []
    session_id = schedule_session(db, pair_id, topic_ids=["ai-tools"], template_id="check-in-30")
    with db.transaction() as orm:
        for private in (True, False):
            text = f"SECRET-{private}: the reorg is next month"
            orm.add(Note(session_id=session_id, author_role="mentee", private=private, text=text))
    engine = SessionEngine(
        db, session_id, clock=clock, notify=lambda hook, event: calls.append((hook, event))
    )
    engine.start()
    clock.advance(10)
    engine.next_phase()
    engine.previous_phase()
    engine.pause()  # pausing and resuming are not lifecycle events
    engine.resume()
    engine.complete(WrapUp(summary="Short one."))
    assert [(hook, e.phase, e.previous_phase) for hook, e in calls] == [
        ("session_started", "check-in", None),
        ("session_phase_changed", "recap", "check-in"),
        ("session_phase_changed", "check-in", "recap"),
        ("session_completed", None, "check-in"),
    ]
    for _, event in calls:
        assert (event.session_id, event.pair_id) == (str(session_id), str(pair_id))
        assert event.number == 1 and event.topic_ids == ["ai-tools"]
        assert "SECRET" not in event.model_dump_json()
    assert [e.at for _, e in calls] == [START, *[START + timedelta(seconds=10)] * 3]


def test_a_failing_notifier_never_undoes_a_transition(
    db: Database, pair_id: int, clock: FakeClock
) -> None:
    def notify(hook: str, event: SessionEvent) -> list[str]:
        if hook == "session_started":
            raise ConnectionError("listener is down")
        return [f"plugin 'x': hook {hook} raised KeyError"]

    engine = SessionEngine(db, schedule_session(db, pair_id), clock=clock, notify=notify)
    engine.start()
    engine.next_phase()
    assert engine.status().phase_index == 1
    assert engine.warnings == [
        "session_started notification failed: ConnectionError: listener is down",
        "plugin 'x': hook session_phase_changed raised KeyError",
    ]


LISTENER = """
from coach.plugins import hookimpl

received = []

@hookimpl
def session_started(event):
    received.append(("started", event.number, event.phase))

@hookimpl
def session_phase_changed(event):
    received.append(("changed", event.previous_phase, event.phase))

@hookimpl
def session_completed(event):
    received.append(("completed", event.number, event.phase))
"""


def test_events_reach_plugins_through_the_host(
    tmp_path: Path, db: Database, pair_id: int, clock: FakeClock
) -> None:
    folder = make_plugin_folder(
        tmp_path / "plugins",
        "engine-listener",
        '[plugin]\nname = "engine-listener"\nmodule = "plugin.py"\n',
    )
    (folder / "plugin.py").write_text(LISTENER)
    host = PluginHost(
        load_settings(plugins_dir=tmp_path / "plugins"), builtins=False, entry_points=False
    )
    engine = SessionEngine(db, schedule_session(db, pair_id), clock=clock, notify=host.notify)
    engine.start()
    engine.next_phase()
    engine.complete({"feedback": [{"side": "mentee", "rating": 5, "good_fit": True}]})
    assert sys.modules["coach_plugin_engine_listener"].received == [
        ("started", 1, "introductions"),
        ("changed", "introductions", "agreement"),
        ("completed", 1, None),
    ]
    assert engine.warnings == []

"""The wrap-up screen: a filled form completes the session; a wrong field keeps the form."""

from __future__ import annotations

import json

import pytest

from tests.ui.helpers import settle
from tests.ui.test_live import TOPIC, detail, new_session

SECRET = "PRIVATE-worry-about-my-role"


def running_session(db, clock, *, number: int = 1) -> int:
    """A running session ``number`` of a new pair, with a shared and a private note."""
    from coach.sessions.engine import SessionEngine, schedule_session
    from coach.sessions.models import Note

    pair, session_id = new_session(db)
    for _ in range(number - 1):  # complete the earlier sessions first
        engine = SessionEngine(db, session_id, clock=clock)
        engine.start()
        engine.complete({})
        session_id = schedule_session(db, pair, topic_ids=[TOPIC])
    SessionEngine(db, session_id, clock=clock).start()
    with db.transaction() as orm:
        orm.add(Note(session_id=session_id, author_role="mentor", text="Rewrote the headline"))
        orm.add(Note(session_id=session_id, author_role="mentee", private=True, text=SECRET))
    return session_id


async def open_wrapup(pilot, session_id: int):
    pilot.app.open_wrapup(session_id)
    await settle(pilot, rounds=4)
    screen = pilot.app.screen
    assert type(screen).__name__ == "WrapUpScreen"
    return screen


def fill(screen, **values) -> None:
    """Set inputs, selects and the summary by widget id (``exp_0_title`` for ``#exp-0-title``)."""
    from textual.widgets import Input, Select, TextArea

    for key, value in values.items():
        widget = screen.query_one("#" + key.replace("_", "-"))
        if isinstance(widget, Input | Select):
            widget.value = value
        elif isinstance(widget, TextArea):
            widget.load_text(value)


async def test_a_filled_wrap_up_completes_the_session(make_app, ui_context, db, clock) -> None:
    session_id = running_session(db, clock)
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_live(session_id)
        await settle(pilot, rounds=3)
        screen = await open_wrapup(pilot, session_id)
        summary = screen.query_one("#summary").text
        assert summary == "Mentor: Rewrote the headline."  # the shared notes; never a private one
        assert "notes" in str(screen.query_one("#summary-source").render())
        fill(
            screen,
            exp_0_title="Post once about the team launch",
            exp_0_due="2026-11-20",
            exp_1_title="Send a guide on hashtags",
            exp_1_owner="mentor",
            mentor_rating=4,
            mentor_worked="The mentee drove the keyboard",
            mentee_rating=5,
            mentee_change="More time for the exercise",
            mentee_fit=True,
            conf_0_before=2,
            conf_0_after=4,
            summary="We rewrote the LinkedIn headline together.",
        )
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot, rounds=3)
        assert type(app.screen).__name__ not in ("WrapUpScreen", "LiveSessionScreen")
        assert any("complete" in n.message for n in app._notifications)

    saved = detail(db, session_id)
    assert saved["status"] == "completed"
    assert saved["summary"] == "We rewrote the LinkedIn headline together."
    assert [(e["title"], e["owner"], e["due_date"]) for e in saved["experiments"]] == [
        ("Post once about the team launch", "mentee", "2026-11-20"),
        ("Send a guide on hashtags", "mentor", None),
    ]
    assert [(f["side"], f["rating"], f["good_fit"]) for f in saved["feedback"]] == [
        ("mentor", 4, None),
        ("mentee", 5, True),
    ]
    assert saved["feedback"][1]["what_to_change"] == "More time for the exercise"
    assert saved["confidence"] == [{"topic_id": TOPIC, "before": 2, "after": 4}]


DUE = "experiments[0].due_date"


@pytest.mark.parametrize(
    ("values", "field", "widget"),
    [
        ({"exp_0_title": "Try it", "exp_0_due": "2026-13-40"}, DUE, "exp-0-due"),
        ({"exp_0_title": "Try it", "exp_0_due": "2026-10-01"}, DUE, "exp-0-due"),
        ({"exp_1_due": "2026-12-01"}, "experiments[0].title", "exp-1-title"),
        ({"mentee_worked": "Good pace"}, "feedback[1].rating", "mentee-rating"),
        ({"summary": "x" * 20_001}, "summary", None),
    ],
)  # fmt: skip
async def test_a_wrong_field_is_named_and_nothing_typed_is_lost(
    make_app, ui_context, db, clock, values, field, widget
) -> None:
    session_id = running_session(db, clock)
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_wrapup(pilot, session_id)
        fill(screen, mentor_rating=3, mentor_worked="Clear steps", **values)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot, rounds=3)
        assert app.screen is screen
        error = str(screen.query_one("#error").render())
        assert field in error
        if widget:
            assert screen.query_one(f"#{widget}").has_class("-invalid")
        assert screen.query_one("#mentor-worked").value == "Clear steps"
        for key, value in values.items():
            shown = screen.query_one("#" + key.replace("_", "-"))
            assert (shown.text if key == "summary" else shown.value) == value
        assert detail(db, session_id)["status"] == "running"

        # Mend the field: the same form saves, with what was typed before.
        fill(screen, exp_0_title="", exp_0_due="", exp_1_due="", mentee_worked="")
        fill(screen, summary="Short and fine.")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot, rounds=3)
    saved = detail(db, session_id)
    assert saved["status"] == "completed" and saved["feedback"][0]["what_worked"] == "Clear steps"


async def test_the_fit_check_is_asked_after_the_first_session_only(
    make_app, ui_context, db, clock
) -> None:
    first, second = running_session(db, clock), running_session(db, clock, number=2)
    assert detail(db, second)["number"] == 2
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_wrapup(pilot, first)
        assert screen.query("#mentor-fit") and screen.query("#mentee-fit")
        app.pop_screen()
        screen = await open_wrapup(pilot, second)
        assert not screen.query("#mentor-fit") and not screen.query("#mentee-fit")
        fill(screen, mentor_rating=5)
        await pilot.press("ctrl+s")
        await settle(pilot, rounds=3)
    assert detail(db, second)["feedback"] == [
        {"side": "mentor", "rating": 5, "what_worked": "", "what_to_change": "", "good_fit": None}
    ]


async def test_the_summary_is_drafted_by_the_model_from_shared_notes_only(
    make_app, make_context, db, clock
) -> None:
    from tests.test_prepare_agents import generator, scripted

    calls: list[str] = []
    written = "The mentor showed the LinkedIn headline editor and the mentee rewrote the headline."
    model = scripted(lambda _p, _a: json.dumps({"summary": written, "experiments": []}), calls)
    session_id = running_session(db, clock)
    app = make_app(make_context(generator=generator(model)))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_wrapup(pilot, session_id)
        assert screen.query_one("#summary").text == written
        assert "model:scripted" in str(screen.query_one("#summary-source").render())
        assert calls and SECRET not in calls[0] and "Rewrote the headline" in calls[0]


async def test_a_completed_session_cannot_be_wrapped_up_again(
    make_app, ui_context, db, clock
) -> None:
    from coach.sessions.engine import SessionEngine

    session_id = running_session(db, clock)
    SessionEngine(db, session_id, clock=clock).complete({"summary": "Done."})
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_wrapup(pilot, session_id)
        assert "completed" in str(screen.query_one("#error").render())
        assert screen.query_one("#save").disabled
    assert detail(db, session_id)["summary"] == "Done."


def test_snapshot_wrapup(snap_compare, make_app, ui_context, db, clock) -> None:
    session_id = running_session(db, clock)
    app = make_app(ui_context)

    async def run_before(pilot) -> None:
        await open_wrapup(pilot, session_id)
        fill(pilot.app.screen, exp_0_title="Post once about the team launch", exp_0_due="2026-11")
        await pilot.press("ctrl+s")
        await settle(pilot, rounds=3)
        pilot.app.focused.cursor_blink = False  # the focus is on the wrong field: hold still

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)

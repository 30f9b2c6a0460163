"""First run: the onboarding appears on an empty programme, creates a pair or loads the demo."""

from __future__ import annotations

from coach.sessions.service import list_pairs, list_people
from tests.ui.helpers import settle
from tests.ui.test_home import cells, text_of

MENTOR = {"name": "Ada Lovelace", "email": "ada@example", "department": "Engineering"}
MENTEE = {"name": "Bo Chen", "email": "bo@example.org", "department": "Sales"}


async def fill(pilot, side: str, values: dict[str, str]) -> None:
    """Type into the form the way a person does: click a field, then type."""
    for field, value in values.items():
        await pilot.click(f"#{side}-{field}")
        await pilot.press(*value)


async def test_onboarding_appears_once_on_an_empty_programme(make_app, ui_context):
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.__class__.__name__ == "OnboardingScreen"
        assert app.screen.first_run
        assert app.focused.id == "mentor-name"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "HomeScreen"
        await pilot.press("r")  # still empty: not offered a second time in this run
        await settle(pilot)
        assert app.screen.__class__.__name__ == "HomeScreen"
        assert "No pairs yet" in text_of(app.screen.query_one("#message"))


async def test_onboarding_is_not_offered_when_the_programme_has_pairs(make_app, demo_context):
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.__class__.__name__ == "HomeScreen"


async def test_a_bad_email_is_shown_inline_and_the_form_keeps_what_was_typed(
    make_app, ui_context, db
):
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await fill(pilot, "mentor", MENTOR)
        await fill(pilot, "mentee", MENTEE)
        await fill(pilot, "mentee", {"growth": "AI tools, remote work"})
        await pilot.click("#create")
        await settle(pilot)
        screen = app.screen
        assert screen.__class__.__name__ == "OnboardingScreen"
        error = screen.query_one("#error")
        assert error.display
        assert text_of(error) == "Mentor email: 'ada@example' is not an email address"
        assert screen.query_one("#mentor-email").has_class("-invalid")
        assert not screen.query_one("#mentee-email").has_class("-invalid")
        assert app.focused.id == "mentor-email"
        form = screen.form()
        assert form["mentor"] == MENTOR
        assert form["mentee"] == {**MENTEE, "growth_areas": ["AI tools", "remote work"]}
        assert list_people(db) == []


async def test_a_good_pair_is_created_and_listed_on_home(make_app, ui_context, db):
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await fill(pilot, "mentor", {**MENTOR, "email": "ada@example.org"})
        await fill(pilot, "mentee", MENTEE)
        await fill(pilot, "mentee", {"growth": "AI tools, remote work"})
        await pilot.press("enter")  # enter in the last field creates the pair
        await settle(pilot)
        assert app.screen.__class__.__name__ == "HomeScreen"
        rows = cells(app.screen.query_one("#pairs"))
        assert rows == [["Ada Lovelace", "Bo Chen", "not scheduled", "0/6"]]
        assert any(n.title == "Pair created" for n in app._notifications)
    (pair,) = list_pairs(db)
    assert (pair.mentor.email, pair.mentee.growth_areas) == (
        "ada@example.org",
        ["AI tools", "remote work"],
    )
    assert pair.mentor.department == "Engineering"


async def test_load_demo_fills_the_programme(make_app, ui_context, db):
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.click("#demo")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "HomeScreen"
        assert app.screen.query_one("#pairs").row_count == 11
        assert any(n.title == "Demo data loaded" for n in app._notifications)
    assert len(list_pairs(db)) == 12


async def test_load_demo_failure_is_a_notification(make_app, demo_context, monkeypatch):
    from coach.sessions import demo
    from coach.sessions.errors import InputError
    from coach.ui.screens.onboarding import load_demo

    def refuse(*args, **kwargs):
        raise InputError("pair(s) 3 join a demo person with a real one")

    monkeypatch.setattr(demo, "create_demo_programme", refuse)
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        load_demo(app)
        await settle(pilot)
        (note,) = [n for n in app._notifications if n.title == "Demo data not loaded"]
        assert note.message == "pair(s) 3 join a demo person with a real one"
        assert app.is_running


async def test_knowledge_progress_is_shown_while_it_builds(make_app, ui_context):
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert "Knowledge base off" in text_of(screen.query_one("#kb-text"))
        assert not screen.query_one("#kb-bar").display
        ui_context.update("knowledge", state="loading", detail="indexing 3/10 files", progress=0.3)
        await pilot.pause()
        bar = screen.query_one("#kb-bar")
        assert bar.display and bar.percentage == 0.3
        assert text_of(screen.query_one("#kb-text")).endswith("indexing 3/10 files")
        ui_context.update("knowledge", state="ready", detail="268 passages", progress=None)
        await pilot.pause()
        assert not bar.display
        assert text_of(screen.query_one("#kb-text")) == "Knowledge base ready (268 passages)"


async def test_new_pair_from_home_is_not_a_first_run(make_app, demo_context):
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "OnboardingScreen"
        assert not app.screen.first_run
        assert app.screen.query_one("#dialog").border_title == "New pair"
        await pilot.click("#skip")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "HomeScreen"


def test_onboarding_snapshot(snap_compare, make_app, ui_context):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await fill(pilot, "mentor", MENTOR)
        await pilot.click("#create")
        await settle(pilot)
        for field in pilot.app.screen.query("Input"):
            field.cursor_blink = False
        await pilot.pause()

    assert snap_compare(make_app(ui_context), terminal_size=(80, 24), run_before=run_before)


def test_onboarding_snapshot_large(snap_compare, make_app, ui_context):
    async def run_before(pilot) -> None:
        await settle(pilot)
        ui_context.update("knowledge", state="loading", detail="indexing 3/10 files", progress=0.3)
        for field in pilot.app.screen.query("Input"):
            field.cursor_blink = False
        await pilot.pause()

    assert snap_compare(make_app(ui_context), terminal_size=(120, 40), run_before=run_before)

"""The pair screen: profile, agreement, history, experiments that can be closed, next session."""

from __future__ import annotations

import pytest

from coach.sessions.activity import overview
from coach.sessions.experiments import update_experiment
from coach.sessions.service import pair_detail
from tests.ui.conftest import FIXED_NOW
from tests.ui.helpers import settle
from tests.ui.test_home import live_calls, text_of  # noqa: F401  (fixture)


@pytest.fixture
def stalled_pair(db, demo_context) -> dict:
    """A demo pair with open experiments (a stalled one keeps its last experiments open)."""
    pair = next(row for row in overview(db, now=FIXED_NOW).pairs if row.stalled)
    detail = pair_detail(db, pair.pair_id)
    assert detail["open_experiments"]
    return detail


async def open_pair(app, pilot, pair_id: int):
    app.open_pair(pair_id)
    await settle(pilot)
    assert app.screen.__class__.__name__ == "PairScreen"
    return app.screen


async def test_pair_screen_shows_people_agreement_history_and_experiments(
    make_app, demo_context, stalled_pair
):
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pair(app, pilot, stalled_pair["id"])
        mentor, mentee = text_of(screen.query_one("#mentor")), text_of(screen.query_one("#mentee"))
        assert stalled_pair["mentor"]["name"] in mentor
        assert stalled_pair["mentor"]["timezone"] in mentor
        assert stalled_pair["mentor"]["skills"][0] in mentor
        assert stalled_pair["mentee"]["goals"][0] in mentee
        assert stalled_pair["mentee"]["growth_areas"][0] in mentee
        agreement = text_of(screen.query_one("#agreement"))
        assert f"Agreed on {stalled_pair['agreement']['agreed_at'][:10]}" in agreement
        assert stalled_pair["agreement"]["cadence"] in agreement
        history = text_of(screen.query_one("#sessions"))
        sessions = stalled_pair["sessions"]
        assert history.count("completed") == sessions["completed"]
        summary = text_of(screen.query_one("#summary"))
        held = f"{sessions['completed']} of {stalled_pair['planned_sessions']} sessions held"
        assert held in summary and "next: not scheduled" in summary
        options = screen.query_one("#experiments")
        assert options.option_count == len(stalled_pair["open_experiments"])
        first = stalled_pair["open_experiments"][0]
        assert first["title"] in str(options.get_option_at_index(0).prompt)
        assert "(overdue)" in str(options.get_option_at_index(0).prompt)


async def test_marking_an_experiment_done_and_dropping_another(
    make_app, demo_context, db, stalled_pair
):
    experiments = stalled_pair["open_experiments"]
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pair(app, pilot, stalled_pair["id"])
        await pilot.press("d")
        await settle(pilot)
        left = pair_detail(db, stalled_pair["id"])["open_experiments"]
        assert [e["id"] for e in left] == [e["id"] for e in experiments[1:]]
        assert screen.query_one("#experiments").option_count == len(experiments) - 1
        if left:  # the mouse way: the Dropped button acts on the highlighted one
            await pilot.click("#dropped")
            await settle(pilot)
            assert len(pair_detail(db, stalled_pair["id"])["open_experiments"]) == len(left) - 1
    from coach.sessions.models import Experiment

    with db.read() as orm:
        done = orm.get(Experiment, experiments[0]["id"])
        assert done.status == "done" and done.completed_at == FIXED_NOW


async def test_no_open_experiments_hides_the_keys(make_app, demo_context, db, stalled_pair):
    for item in stalled_pair["open_experiments"]:
        update_experiment(db, item["id"], "dropped")
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pair(app, pilot, stalled_pair["id"])
        assert not screen.query_one("#experiments").display
        assert "Open experiments (none)" in text_of(screen.query_one("#experiments-heading"))
        keys = {key for key, active in screen.active_bindings.items() if active.enabled}
        assert "d" not in keys and "p" in keys


async def test_s_on_the_pair_screen_resumes_its_session(
    make_app,
    demo_context,
    db,
    live_calls,  # noqa: F811
):
    pair = overview(db, now=FIXED_NOW).pairs[1]
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pair(app, pilot, pair.pair_id)
        await pilot.press("s")
        await settle(pilot)
    assert live_calls == [pair.next.id]


async def test_an_unknown_pair_is_a_notification_not_a_crash(make_app, demo_context):
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pair(app, pilot, 999)
        assert "pair 999 does not exist" in text_of(screen.query_one("#summary"))
        assert any("999" in n.message for n in app._notifications)


def test_pair_snapshot(snap_compare, make_app, demo_context, stalled_pair):
    async def run_before(pilot) -> None:
        await settle(pilot)
        pilot.app.open_pair(stalled_pair["id"])
        await settle(pilot)

    assert snap_compare(make_app(demo_context), terminal_size=(80, 24), run_before=run_before)


def test_pair_snapshot_large_scrolled_to_experiments(
    snap_compare, make_app, demo_context, stalled_pair
):
    async def run_before(pilot) -> None:
        await settle(pilot)
        pilot.app.open_pair(stalled_pair["id"])
        await settle(pilot)
        pilot.app.screen.query_one("#scroll").scroll_end(animate=False)
        await pilot.pause()

    assert snap_compare(make_app(demo_context), terminal_size=(120, 40), run_before=run_before)

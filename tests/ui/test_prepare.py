"""The prepare screen: choose a topic, generate, edit the plan, save it; errors stay on screen.

The plan logic itself is tested in ``tests/test_plan_editing.py``; here the screen must drive
it from the keyboard, show what it did (marks, provenance, progress) and store what it shows.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from textual.widgets import DataTable, Markdown, OptionList, Select, TextArea

from coach.ui.screens.prepare import PrepareScreen
from coach.ui.widgets.plan_dialogs import EditItemScreen, LeaveScreen
from tests.ui.helpers import settle

TOPIC = "linkedin-presence"
FRESH = {
    "icebreakers": ["Which LinkedIn post by a colleague made you stop scrolling this month?"],
    "questions": [
        "How could you share a team success on LinkedIn without sounding like an advert?"
    ],
    "mentor_tips": ["Open your own LinkedIn profile first and show what you changed and why."],
    "mentee_tips": ["Ask your mentor which leaders' LinkedIn posts they actually read, and why."],
}


pytestmark = pytest.mark.usefixtures("no_real_models")


def add_pair(db, growth_areas: tuple[str, ...] = ("LinkedIn",)) -> int:
    from coach.sessions import service

    mentor = service.add_person(db, {"name": "Ada Mentor", "role": "mentor"})
    mentee = service.add_person(
        db, {"name": "Sam Mentee", "role": "mentee", "growth_areas": list(growth_areas)}
    )
    return service.add_pair(db, mentor, mentee)


def scripted_generator(answer: Callable[[str], list[str]]):
    """A Generator on a FunctionModel answering ``{"items": answer(prompt)}``."""
    from pydantic_ai.messages import ModelResponse, TextPart, UserPromptPart
    from pydantic_ai.models.function import FunctionModel
    from pydantic_ai.profiles import ModelProfile

    from coach.prepare.generate import Generator
    from coach.settings import load_settings

    def respond(messages, info) -> ModelResponse:
        parts = [p for m in messages for p in getattr(m, "parts", [])]
        prompt = next(p.content for p in parts if isinstance(p, UserPromptPart))
        return ModelResponse(parts=[TextPart(json.dumps({"items": answer(prompt)}))])

    profile = ModelProfile(
        supports_json_schema_output=True, default_structured_output_mode="native"
    )
    model = FunctionModel(respond, model_name="scripted", profile=profile)
    return Generator(model=model, label="scripted", settings=load_settings())


def by_section(prompt: str) -> list[str]:
    opening = prompt.strip().split("\n", 1)[0].lower()
    if "tips" in opening:
        return FRESH[
            "mentee_tips" if "mentee" in opening.split("tips", 1)[1][:40] else "mentor_tips"
        ]
    return FRESH["icebreakers" if "icebreaker" in opening else "questions"]


async def open_prepare(pilot, pair_id: int) -> PrepareScreen:
    await pilot.pause()
    pilot.app.open_prepare(pair_id)
    await settle(pilot, lambda: isinstance(pilot.app.screen, PrepareScreen))
    screen = pilot.app.screen
    await settle(pilot, lambda: bool(screen.choices))
    return screen


async def generate(pilot, screen: PrepareScreen, key: str = "enter") -> None:
    before = screen.plan
    await pilot.press(key)
    await settle(pilot, lambda: screen.plan is not before and not screen.busy, seconds=300)


async def go_to(pilot, screen: PrepareScreen, section: str, index: int = 0) -> None:
    """Move the table's cursor with the arrow keys, as a user would."""
    table = screen.query_one("#items", DataTable)
    table.focus()
    target = screen._rows.index((section, index))
    key = "down" if target > table.cursor_row else "up"
    await pilot.press(*[key] * abs(target - table.cursor_row))
    assert table.cursor_row == target


def cells(screen: PrepareScreen, section: str, index: int) -> list[str]:
    table = screen.query_one("#items", DataTable)
    return [str(cell) for cell in table.get_row_at(screen._rows.index((section, index)))]


def stored_plan(db, pair_id: int):
    from coach.prepare.editing import open_preparation

    return open_preparation(db, pair_id).plan


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


# --- the whole flow -------------------------------------------------------------------------


async def test_choose_generate_edit_and_save_from_the_keyboard(make_app, demo_context):
    db = demo_context.db
    pair_id = add_pair(db)
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_prepare(pilot, pair_id)
        topics = screen.query_one("#topics", OptionList)
        assert screen.choices[0].topic_id == TOPIC and screen.choices[0].suggested
        assert topics.highlighted == 0 and topics.has_focus
        assert "growth area 'LinkedIn'" in str(topics.get_option_at_index(0).prompt)
        assert len([o for o in topics.options]) == len(demo_context.host.topics)  # all reachable

        await generate(pilot, screen)
        plan = screen.plan
        assert plan.topic_id == TOPIC and plan.backend == "none"
        assert stored_plan(db, pair_id) == plan  # generating stores, as `coach prepare` does
        assert not screen.dirty and screen.progress_log[0] == "Generating the plan…"

        await go_to(pilot, screen, "icebreakers", 1)
        pinned = plan.icebreakers[1].text
        await pilot.press("p")
        assert screen.plan.icebreakers[1].pinned and cells(screen, "icebreakers", 1)[0] == "●"
        await pilot.press("ctrl+down")
        assert screen.plan.icebreakers[2].text == pinned
        assert screen._rows[screen.query_one("#items", DataTable).cursor_row] == ("icebreakers", 2)
        await pilot.press("ctrl+up", "ctrl+up", "ctrl+up")  # stops at the top of its section
        assert screen.plan.icebreakers[0].text == pinned

        await go_to(pilot, screen, "questions", 5)
        removed = screen.plan.questions[5].text
        await pilot.press("d")
        assert len(screen.plan.questions) == 5 and removed not in str(screen.plan)
        await pilot.press("d")  # a plan keeps five questions
        assert len(screen.plan.questions) == 5
        assert any("at least 5" in m for m in messages(app))

        await go_to(pilot, screen, "questions", 0)
        original = screen.plan.questions[0]
        await pilot.press("e")
        assert isinstance(app.screen, EditItemScreen)
        app.screen.query_one(TextArea).text = "What would **you** post about our team?"
        await pilot.press("ctrl+s")
        await pilot.pause()
        edited = screen.plan.questions[0]
        assert edited.text == "What would **you** post about our team?" and edited.edited
        assert edited.provenance == original.provenance
        assert cells(screen, "questions", 0)[0] == " ✎"
        detail = screen.query_one("#detail", Markdown)
        assert "_edited_" in detail.source and original.provenance in detail.source

        await go_to(pilot, screen, "questions", 1)
        replaced = screen.plan.questions[1].text
        await pilot.press("r")
        await settle(pilot, lambda: not screen.busy)
        new = screen.plan.questions[1]
        assert new.text != replaced and new.text not in [q.text for q in plan.questions]
        assert any("New question from the bank" in m for m in messages(app))

        assert screen.dirty
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: not screen.dirty)
        saved = stored_plan(db, pair_id)
        assert saved == screen.plan
        assert saved.icebreakers[0].pinned and saved.questions[0].edited

        await pilot.press("g")  # generate again: the pin survives, in its place
        await settle(pilot, lambda: screen.plan.seed == 1 and not screen.busy)
        assert screen.plan.icebreakers[0].text == pinned and screen.plan.icebreakers[0].pinned

        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HomeScreen"


async def test_a_stored_plan_opens_with_its_marks_and_provenance(make_app, ui_context):
    from coach.prepare.editing import edit_item, generate_for_pair, save_plan, toggle_pin

    db, host = ui_context.db, ui_context.host
    pair_id = add_pair(db)
    plan = generate_for_pair(db, None, host, pair_id=pair_id, topic_id=TOPIC)
    plan = toggle_pin(edit_item(plan, "mentor_tips", 0, "Show, don't tell."), "mentor_tips", 0)
    save_plan(db, pair_id, plan, host=host)
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_prepare(pilot, pair_id)
        await settle(pilot, lambda: screen.plan is not None)
        assert screen.plan == plan
        assert screen.query_one("#views").current == "plan-view"
        assert cells(screen, "mentor_tips", 0)[:3] == ["●✎", "Mentor tip", "Show, don't tell."]
        assert cells(screen, "questions", 0)[3] == "social-media"  # plugin:social-media
        await go_to(pilot, screen, "mentor_tips", 0)
        assert "`plugin:social-media`" in screen.query_one("#detail", Markdown).source
        await pilot.press("r")  # a pinned item is not replaced
        await pilot.pause()
        assert screen.plan == plan and any("pinned" in m for m in messages(app))


async def test_leaving_with_unsaved_edits_asks_first(make_app, ui_context):
    db = ui_context.db
    pair_id = add_pair(db)
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_prepare(pilot, pair_id)
        await generate(pilot, screen)
        await pilot.press("p")  # pins the first row
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LeaveScreen)
        await pilot.press("escape")  # stay
        await pilot.pause()
        assert app.screen is screen and screen.dirty
        await pilot.press("escape", "s")  # save, then leave
        await settle(pilot, lambda: app.screen is not screen)
        first = stored_plan(db, pair_id).items()[0][1]
        assert first.pinned

        again = await open_prepare(pilot, pair_id)
        await settle(pilot, lambda: again.plan is not None)
        await pilot.press("p")  # unpins it
        await pilot.press("escape", "d")  # discard, then leave
        await settle(pilot, lambda: app.screen is not again)
        assert stored_plan(db, pair_id).items()[0][1].pinned  # the change was dropped


async def test_the_layout_follows_the_terminal_size(make_app, ui_context):
    pair_id = add_pair(ui_context.db)
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_prepare(pilot, pair_id)
        await generate(pilot, screen)
        table = screen.query_one("#items", DataTable)
        narrow = table.columns["item"].width
        await go_to(pilot, screen, "questions", 2)
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        wide = table.columns["item"].width
        assert wide == narrow + 40
        assert screen._rows[table.cursor_row] == ("questions", 2)  # the cursor stays put
        assert table.row_count == len(screen.plan.items())
        assert screen.query_one("#detail").region.bottom <= 38  # above status and footer


# --- models ---------------------------------------------------------------------------------


async def test_a_generator_that_raises_is_a_notification_and_the_app_stays(make_app, make_context):
    from coach.prepare.generate import Generator

    class Broken(Generator):
        @property
        def writes_exercises(self) -> bool:
            raise RuntimeError("the model crashed")

    broken = scripted_generator(by_section)
    broken.__class__ = Broken
    context = make_context(generator=broken)
    pair_id = add_pair(context.db)
    app = make_app(context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_prepare(pilot, pair_id)
        assert screen.query_one("#backend", Select).value == "model"
        await pilot.press("enter")
        await settle(pilot, lambda: not screen.busy)
        assert screen.plan is None and app.is_running and app.screen is screen
        assert any("the model crashed" in m for m in messages(app))
        assert not screen.query_one("#progress").has_class("busy")


async def test_a_model_plan_shows_its_items_with_model_provenance(make_app, make_context):
    context = make_context(generator=scripted_generator(by_section))
    pair_id = add_pair(context.db)
    app = make_app(context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_prepare(pilot, pair_id)
        await generate(pilot, screen)
        plan = screen.plan
        assert plan.backend == "scripted"
        assert plan.questions[0].text == FRESH["questions"][0]
        assert cells(screen, "questions", 0)[3] == "model:scripted"
        assert "Asking scripted for discussion questions…" in screen.progress_log
        select = screen.query_one("#backend", Select)
        select.value = "none"  # the grounded backend, from the same screen
        await go_to(pilot, screen, "questions", 0)
        await pilot.press("r")
        await settle(pilot, lambda: not screen.busy)
        assert screen.plan.questions[0].provenance.startswith("plugin:")


@pytest.mark.slow
async def test_with_knowledge_topics_rank_by_meaning_and_passages_show_their_file(
    make_app, kb_context
):
    pair_id = add_pair(kb_context.db, ("being visible to recruiters and peers online",))
    app = make_app(kb_context)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_prepare(pilot, pair_id)
        assert screen.choices[0].suggested and screen.choices[0].score > 0
        screen.query_one("#topics", OptionList).highlighted = [
            c.topic_id for c in screen.choices
        ].index(TOPIC)
        await generate(pilot, screen)
        assert screen.plan.passages
        await go_to(pilot, screen, "passages", 0)
        before = screen.plan.passages[0]
        await pilot.press("r")
        await settle(pilot, lambda: not screen.busy)
        new = screen.plan.passages[0]
        assert new.provenance != before.provenance and new.provenance.startswith("knowledge:")
        assert cells(screen, "passages", 0)[3].startswith("kb: ")
        assert f"`{new.source}`" in screen.query_one("#detail", Markdown).source


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_the_embedded_model_writes_gated_items_from_the_screen(
    make_app, make_context, synced
):
    from coach.prepare.generate import generator_for
    from coach.settings import load_settings

    generator, _ = generator_for(load_settings(), "embedded")
    await asyncio.to_thread(generator.model.load)
    _, kb, _ = synced
    context = make_context(kb=kb, generator=generator)
    pair_id = add_pair(context.db)
    app = make_app(context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_prepare(pilot, pair_id)
        screen.query_one("#topics", OptionList).highlighted = [
            c.topic_id for c in screen.choices
        ].index(TOPIC)
        await generate(pilot, screen)
        generated = [i for _, i in screen.plan.items() if i.provenance.startswith("model:")]
        assert generated, screen.plan.to_markdown(explain=True)
        assert {i.provenance for i in generated} == {"model:gemma-3-270m"}
        assert any(line.startswith("Asking embedded for") for line in screen.progress_log)
        assert any(cells(screen, s, i)[3] == "model:gemma-3-270m" for s, i in screen._rows)


# --- snapshots ------------------------------------------------------------------------------


def _snapshot_app(make_app, ui_context):
    pair_id = add_pair(ui_context.db)
    app = make_app(ui_context)

    async def run_before(pilot) -> None:
        screen = await open_prepare(pilot, pair_id)
        await generate(pilot, screen)
        await go_to(pilot, screen, "icebreakers", 1)
        await pilot.press("p")
        app.clear_notifications()
        await pilot.pause()

    return app, run_before


def test_snapshot_generated_plan_80x24(snap_compare, make_app, ui_context):
    app, run_before = _snapshot_app(make_app, ui_context)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_snapshot_generated_plan_120x40(snap_compare, make_app, ui_context):
    app, run_before = _snapshot_app(make_app, ui_context)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_snapshot_topic_choice_80x24(snap_compare, make_app, ui_context):
    pair_id = add_pair(ui_context.db)
    app = make_app(ui_context)

    async def run_before(pilot) -> None:
        await open_prepare(pilot, pair_id)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)

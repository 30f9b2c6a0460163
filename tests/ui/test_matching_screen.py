"""The matching screen: proposed pairs with their reasons, lock, swap, accept, bad files.

Most tests use a deterministic bag-of-words embedder (the UI logic is the subject, and the
pairs it yields are obvious by construction); one test runs the real embedding model.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from textual.widgets import DataTable, Static, TabbedContent

from coach.ui.screens import matching
from coach.ui.screens.matching import MatchingScreen
from tests.ui.helpers import screen_name, settle


class WordsEmbedder:
    """Texts sharing words point the same way: a hashed bag of words, normalised."""

    name = "test-words"

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), 128), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().replace(",", " ").split():
                vectors[row, zlib.crc32(word.encode()) % 128] += 1.0
            norm = np.linalg.norm(vectors[row])
            if norm:
                vectors[row] /= norm
            else:
                vectors[row, 0] = 1.0
        return vectors


@pytest.fixture
def words(monkeypatch):
    """The screen proposes at once with the words embedder, whatever the knowledge base does."""
    embedder = WordsEmbedder()
    monkeypatch.setattr(matching, "embedder_for", lambda context: embedder)
    return embedder


def person(db, name, role, department, **lists):
    from coach.sessions.service import add_person

    return add_person(
        db,
        {
            "name": name,
            "role": role,
            "email": f"{name.split()[0].lower()}@example.org",
            "department": department,
            **lists,
        },
    )


@pytest.fixture
def four(db):
    """Two mentors and two mentees; Ada suits Cleo and Bo suits Dan best, the other way
    round is a fair second choice (every cross pair shares a word)."""
    ids = {
        "Ada": person(
            db, "Ada Mentor", "mentor", "Sales", skills=["python testing", "figma basics"]
        ),
        "Bo": person(db, "Bo Mentor", "mentor", "Ops", skills=["figma design", "python basics"]),
        "Cleo": person(
            db, "Cleo Mentee", "mentee", "Board", growth_areas=["python testing"], goals=[]
        ),
        "Dan": person(db, "Dan Mentee", "mentee", "Legal", growth_areas=["figma design"], goals=[]),
    }
    return ids


async def open_matching(pilot, until=None) -> MatchingScreen:
    pilot.app.switch_mode("matching")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, MatchingScreen)
    await settle(pilot, until or (lambda: screen.proposal is not None))
    return screen


def pairs_shown(screen) -> list[tuple[str, str, str]]:
    """(lock mark, mentor, mentee) of every row of the table."""
    table = screen.query_one("#match-pairs", DataTable)
    rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
    return sorted((row[0], row[1], row[2]) for row in rows)


def names(screen) -> set[tuple[str, str]]:
    return {(mentor.split()[0], mentee.split()[0]) for _, mentor, mentee in pairs_shown(screen)}


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def select_row(pilot, screen, mentor: str) -> None:
    table = screen.query_one("#match-pairs", DataTable)
    table.focus()
    for index in range(table.row_count):
        if str(table.get_row_at(index)[1]).startswith(mentor):
            table.move_cursor(row=index)
            await pilot.pause()
            return
    raise AssertionError(f"{mentor} is not in the table")


async def test_the_proposal_is_shown_with_its_reasons(make_app, ui_context, four, words):
    app = make_app(ui_context)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_matching(pilot)
        assert names(screen) == {("Ada", "Cleo"), ("Bo", "Dan")}
        await select_row(pilot, screen, "Ada")
        detail = text_of(screen, "#match-reasons")
        assert "Ada Mentor mentors Cleo Mentee" in detail
        assert "python testing meets python testing" in detail
        assert "similarity 1.00" in detail

        tabs = screen.query_one(TabbedContent)
        assert str(tabs.get_tab("tab-pairs").label) == "Pairs (2)"
        assert str(tabs.get_tab("tab-unmatched").label) == "Unmatched (0)"


async def test_unmatched_people_are_listed_with_the_reason(make_app, ui_context, db, words):
    person(db, "Ada Mentor", "mentor", "Sales", skills=["python testing"])
    person(db, "Cleo Mentee", "mentee", "Sales", growth_areas=["python testing"])
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matching(pilot)
        assert pairs_shown(screen) == []
        tabs = screen.query_one(TabbedContent)
        assert str(tabs.get_tab("tab-unmatched").label) == "Unmatched (2)"
        unmatched = text_of(screen, "#match-unmatched")
        assert "Ada Mentor (mentor)" in unmatched and "Cleo Mentee (mentee)" in unmatched
        assert "department" in unmatched  # the rule that kept the only two apart
        await pilot.press("a")  # nothing to accept: no dialog
        await pilot.pause()
        assert screen_name(app) == "MatchingScreen"


async def test_swap_gives_both_new_partners_and_never_proposes_that_pair_again(
    make_app, ui_context, four, words
):
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matching(pilot)
        first = screen.proposal
        await select_row(pilot, screen, "Ada")
        await pilot.press("s")
        await settle(pilot, lambda: screen.proposal is not first)
        assert names(screen) == {("Ada", "Dan"), ("Bo", "Cleo")}

        again = screen.proposal
        await pilot.press("r")
        await settle(pilot, lambda: screen.proposal is not again)
        assert ("Ada", "Cleo") not in names(screen)
        assert names(screen) == {("Ada", "Dan"), ("Bo", "Cleo")}


async def test_a_locked_pair_is_kept_when_proposing_again(make_app, ui_context, four, words):
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matching(pilot)
        await select_row(pilot, screen, "Ada")
        await pilot.press("l")
        await pilot.pause()
        assert ("●", "Ada Mentor", "Cleo Mentee") in pairs_shown(screen)
        assert "locked" in text_of(screen, "#match-reasons")

        # Swapping the other pair would give Ada a new partner, unless Ada's pair is locked.
        first = screen.proposal
        await select_row(pilot, screen, "Bo")
        await pilot.press("s")
        await settle(pilot, lambda: screen.proposal is not first)
        assert names(screen) == {("Ada", "Cleo")}
        assert ("●", "Ada Mentor", "Cleo Mentee") in pairs_shown(screen)
        unmatched = text_of(screen, "#match-unmatched")
        assert "Bo Mentor" in unmatched and "Dan Mentee" in unmatched

        # A locked pair refuses a swap until it is unlocked.
        await select_row(pilot, screen, "Ada")
        current = screen.proposal
        await pilot.press("s")
        await settle(pilot)
        assert screen.proposal is current


async def test_accept_saves_the_pairs_and_home_lists_them(make_app, ui_context, db, four, words):
    from coach.sessions.service import list_pairs

    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matching(pilot)
        await pilot.press("a")
        await pilot.pause()
        assert screen_name(app) == "ConfirmAcceptScreen"
        await pilot.press("escape")  # cancel: nothing saved
        await pilot.pause()
        assert screen_name(app) == "MatchingScreen"
        assert list_pairs(db) == []

        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, lambda: bool(list_pairs(db)) and not screen.busy)
        saved = {(p.mentor_id, p.mentee_id) for p in list_pairs(db)}
        assert saved == {(four["Ada"], four["Cleo"]), (four["Bo"], four["Dan"])}
        # Everyone is paired now: the next proposal has nobody left.
        await settle(pilot, lambda: screen.proposal is not None and not screen.proposal.pairs)

        await pilot.press("f2")
        await settle(pilot, lambda: screen_name(app) == "HomeScreen" and app.screen.data)
        home = app.screen.query_one("#pairs", DataTable)
        rows = {str(home.get_row_at(i)[0]) for i in range(home.row_count)}
        assert rows == {"Ada Mentor", "Bo Mentor"}


async def test_a_bad_csv_shows_its_rows_and_changes_nothing(
    make_app, ui_context, db, four, words, tmp_path
):
    from coach.sessions.service import list_people

    bad = tmp_path / "people.csv"
    bad.write_text(
        "name,role,email,skills,growth_areas\n"
        "Eve,mentor,eve@example.org,python,\n"
        "Fay,boss,fay@example.org,,python\n"
    )
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matching(pilot)
        before = pairs_shown(screen)
        proposal = screen.proposal
        await pilot.click("#match-path")
        await pilot.press(*str(bad), "enter")
        await settle(pilot, lambda: screen.query_one("#match-state").has_class("problem"))
        state = text_of(screen, "#match-state")
        assert "nothing changed" in state
        assert "row 3" in state and "role" in state
        assert screen.proposal is proposal and pairs_shown(screen) == before
        assert len(list_people(db)) == 4
        assert app.is_running


async def test_a_good_csv_is_matched_and_its_people_saved_on_accept(
    make_app, ui_context, db, words, tmp_path
):
    from coach.sessions.service import list_pairs, list_people

    good = tmp_path / "people.csv"
    good.write_text(
        "name,role,email,department,skills,growth_areas\n"
        "Eve Mentor,mentor,eve@example.org,Ops,kubernetes operators,\n"
        "Gus Mentee,mentee,gus@example.org,Board,,kubernetes operators\n"
    )
    app = make_app(ui_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matching(pilot, until=lambda: not app.screen.busy)
        assert pairs_shown(screen) == []
        screen.query_one("#match-path").value = str(good)
        await pilot.click("#match-path")
        await pilot.press("enter")
        await settle(pilot, lambda: bool(screen.proposal and screen.proposal.pairs))
        assert names(screen) == {("Eve", "Gus")}
        assert list_people(db) == []  # nothing written before accepting

        screen.query_one("#match-pairs").focus()
        await pilot.press("a", "y")
        await settle(pilot, lambda: bool(list_pairs(db)) and not screen.busy)
        assert {p.name for p in list_people(db)} == {"Eve Mentor", "Gus Mentee"}
        assert len(list_pairs(db)) == 1


async def test_it_waits_for_the_embedding_model_then_proposes(
    make_app, db, four, clock, host, make_kb
):
    """The real model through the knowledge base: proposed only once that is ready."""
    from coach.settings import load_settings
    from coach.ui.context import CoachContext

    context = CoachContext(load_settings(), db=db, host=host, clock=clock, model=False)
    context.update("knowledge", state="loading", detail="loading the embedding model")
    app = make_app(context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_matching(pilot, until=lambda: app.screen._waiting_for_model)
        assert "still loading" in text_of(screen, "#match-state")
        assert screen.proposal is None

        context.provide("knowledge", make_kb())  # what the app's loader ends with
        await settle(pilot, lambda: screen.proposal is not None)
        assert names(screen) == {("Ada", "Cleo"), ("Bo", "Dan")}
        await select_row(pilot, screen, "Bo")
        assert "figma design meets figma design" in text_of(screen, "#match-reasons")


def test_matching_snapshot(make_app, ui_context, four, words, snap_compare):
    async def run_before(pilot):
        screen = await open_matching(pilot)
        await select_row(pilot, screen, "Ada")

    assert snap_compare(make_app(ui_context), terminal_size=(80, 24), run_before=run_before)

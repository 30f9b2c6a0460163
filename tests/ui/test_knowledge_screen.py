"""The knowledge screen on the real knowledge base and the real packaged embedding model."""

from __future__ import annotations

import contextlib
from pathlib import Path

from textual.widgets import DataTable, Input, Markdown, ProgressBar, Static
from textual.worker import WorkerFailed

from coach.ui.screens.knowledge import KnowledgeScreen

QUERY = "how do we agree on confidentiality in the first session"


async def open_knowledge(pilot) -> KnowledgeScreen:
    pilot.app.switch_mode("knowledge")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, KnowledgeScreen)
    return screen


async def settle(pilot) -> None:
    """Wait for the screen's workers; one that failed has been reported by the screen."""
    with contextlib.suppress(WorkerFailed):
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def search(pilot, query: str) -> None:
    await pilot.click("#query")
    await pilot.press(*query, "enter")
    await settle(pilot)


async def add_folder(pilot, folder: Path | str) -> None:
    await pilot.click("#--content-tab-tab-ingest")
    await pilot.pause()
    await pilot.click("#folder")
    await pilot.press(*str(folder), "enter")
    await settle(pilot)


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_search_lists_passages_with_their_sources(make_app, kb_context):
    kb = kb_context.kb
    expected = kb.search(QUERY, kb_context.settings.top_k)
    app = make_app(kb_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_knowledge(pilot)
        assert not screen.query_one("#kb-state").display
        await search(pilot, QUERY)

        table = screen.query_one("#hits", DataTable)
        assert table.row_count == len(expected) > 0
        assert [item.hit.chunk_id for item in screen.found] == [h.chunk_id for h in expected]
        first = [str(cell) for cell in table.get_row_at(0)]
        assert first[0] == f"{expected[0].score:.4f}"
        assert first[1] == f"guide {Path(expected[0].source).name}"  # a built-in guide
        assert first[2].endswith("…")  # cut to the screen's width, the whole text is below
        assert " ".join(expected[0].text.split()).startswith(first[2][:-1])
        # The highlighted hit's passage is shown with its source.
        assert f"guide {Path(expected[0].source).name}" in text_of(screen, "#where")
        assert screen.query_one("#passage", Markdown).source == expected[0].text

        await pilot.press("down")  # the cursor is on the results: the next passage shows
        await pilot.pause()
        second = expected[1]
        assert Path(second.source).name in text_of(screen, "#where")
        assert screen.query_one("#passage", Markdown).source == second.text


async def test_ingest_a_folder_fills_the_progress_bar_and_reports_every_file(
    make_app, make_context, make_kb, tmp_path
):
    kb = make_kb("ui-ingest")  # a fresh collection: no built-in guides to sync
    context = make_context(kb=kb)
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "pairing.md").write_text("# Pairing\n\nMentors and mentees meet every month.\n")
    (folder / "feedback.md").write_text("# Feedback\n\nAsk what worked, then what to change.\n")
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")
    (folder / "broken.md").write_bytes(b"\0\x01\x02binary\xff\xfe\0\0garbage")
    app = make_app(context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_knowledge(pilot)
        await add_folder(pilot, folder)

        bar = screen.query_one("#ingest-progress", ProgressBar)
        assert bar.total == 4
        assert bar.progress == bar.total
        report = screen.report
        assert report is not None
        assert sorted(Path(s).name for s in report.added) == ["feedback.md", "pairing.md"]
        skipped = dict((Path(s).name, reason) for s, reason in report.skipped)
        assert skipped["broken.md"] == "binary content, not text"
        assert skipped["image.png"].startswith("unsupported file type")
        shown = text_of(screen, "#ingest-report")
        assert "2 added" in shown and "2 skipped" in shown
        for name in ("pairing.md", "feedback.md"):
            assert str(folder / name) in shown
        assert f"{folder / 'broken.md'}: binary content, not text" in shown
        assert not screen.query_one("#ingest").disabled  # ready for the next folder

        # What was added can be searched at once.
        await pilot.click("#--content-tab-tab-search")
        await search(pilot, "how often do mentors meet")
        assert "pairing.md" in text_of(screen, "#where")


async def test_a_folder_that_is_not_there_or_not_a_folder_is_refused(
    make_app, make_context, make_kb, tmp_path
):
    context = make_context(kb=make_kb("ui-refuse"))
    app = make_app(context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_knowledge(pilot)
        missing = tmp_path / "no-such-folder"
        await add_folder(pilot, missing)
        assert text_of(screen, "#folder-error") == f"{missing} does not exist."
        assert screen.report is None

        file = tmp_path / "single.md"
        file.write_text("# One\n\nText.\n")
        screen.query_one("#folder", Input).value = ""
        await pilot.click("#folder")
        await pilot.press(*str(file), "enter")
        await settle(pilot)
        assert "is a file, not a folder" in text_of(screen, "#folder-error")
        assert screen.report is None


async def test_busy_knowledge_base_is_reported_not_fatal(make_app, make_context, make_kb, tmp_path):
    from filelock import FileLock

    kb = make_kb("ui-busy", lock_timeout_s=0.1)
    context = make_context(kb=kb)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nSome text.\n")
    lock = FileLock(kb.settings.knowledge_dir / "write.lock")
    app = make_app(context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_knowledge(pilot)
        with lock:  # another Coach is writing
            await add_folder(pilot, folder)
        assert "The knowledge base is busy" in text_of(screen, "#ingest-report")
        assert app.is_running


async def test_screen_says_the_knowledge_base_is_loading_until_it_is_ready(
    make_app, make_context, make_kb
):
    context = make_context()  # knowledge off: nothing to search
    app = make_app(context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_knowledge(pilot)
        assert "The knowledge base is off" in text_of(screen, "#kb-state")
        assert screen.query_one("#query", Input).disabled

        context.update("knowledge", state="loading", detail="loading the embedding model")
        await pilot.pause()
        assert "still loading: loading the embedding model" in text_of(screen, "#kb-state")

        context.provide("knowledge", make_kb("ui-late"), detail="0 passages")
        await pilot.pause()
        assert not screen.query_one("#kb-state").display
        assert not screen.query_one("#query", Input).disabled


def test_knowledge_snapshot(make_app, kb_context, snap_compare):
    async def run_before(pilot):
        await open_knowledge(pilot)
        await search(pilot, QUERY)
        pilot.app.screen.query_one("#hits").focus()
        await pilot.pause()

    assert snap_compare(make_app(kb_context), terminal_size=(80, 24), run_before=run_before)

"""Prepare: choose a topic for a pair's next session, generate a plan, edit it, save it.

Topics are listed with the ones that match the mentee's growth areas and goals first, each with
its reason. Generating stores the fresh plan on the next session (as ``coach prepare --refresh``
does) with pinned items kept in place; edits after that are the screen's until ``ctrl+s``, and
leaving with unsaved edits asks first. Every item shows where it came from (its provenance, and
the file for knowledge passages), so a facilitator can check it before the pair reads it.
The work itself is in ``coach.prepare.editing``; slow steps run in thread workers.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import (
    ContentSwitcher,
    DataTable,
    Markdown,
    OptionList,
    ProgressBar,
    Select,
    Static,
)
from textual.widgets.option_list import Option

from coach.ui.screens.base import CoachScreen, error_text
from coach.ui.widgets.plan_dialogs import EditItemScreen, LeaveScreen

if TYPE_CHECKING:
    from coach.prepare.editing import Preparation, Replacement, TopicChoice
    from coach.prepare.plan import PlanItem, SessionPlan
    from coach.ui.context import Resource

GROUNDED, MODEL = "none", "model"
LABELS = {
    "recap": "Recap",
    "icebreakers": "Icebreaker",
    "questions": "Question",
    "exercise": "Exercise",
    "mentor_tips": "Mentor tip",
    "mentee_tips": "Mentee tip",
    "passages": "Passage",
}
ITEM_ACTIONS = {"pin", "remove", "edit", "regenerate_item", "move"}
PIN, EDITED = "●", "✎"
FROM = 18
"""Width of the ``From`` column: plugin names and file names, cut with … when longer."""
MOVE = Binding.Group("Move", compact=True)


def marks(item: PlanItem) -> str:
    """``●`` pinned, ``✎`` edited (the text is the facilitator's, the provenance unchanged)."""
    return (PIN if item.pinned else " ") + (EDITED if item.edited else "")


def origin(item: PlanItem) -> str:
    """The short ``From`` column (the detail line has the full provenance and file)."""
    kind, _, name = item.provenance.partition(":")
    if kind == "knowledge" and item.source:
        text = f"kb: {Path(item.source).name}"
    elif kind in ("session", "experiment"):
        text = f"{kind} {name}"
    else:
        text = item.provenance.removeprefix("plugin:")
    return text


class PrepareScreen(CoachScreen):
    """One pair's plan for its next session."""

    TITLE_TEXT = "Prepare"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "generate", "Generate", tooltip="Generate the plan again (pins stay)"),
        Binding("p,space", "pin", "Pin", tooltip="Keep this item when generating again"),
        Binding("d", "remove", "Drop", tooltip="Remove this item from the plan"),
        Binding("e", "edit", "Edit"),
        Binding("r", "regenerate_item", "New", tooltip="Replace this item with a new one"),
        Binding("ctrl+up", "move(-1)", "Up", key_display="^↑", group=MOVE),
        Binding("ctrl+down", "move(1)", "Down", key_display="^↓", group=MOVE),
        Binding("ctrl+s", "save", "Save", key_display="^s"),
        Binding("t", "topics", "Topic", show=False),  # named in the topic box's title
        Binding("escape", "back", "Back"),
    ]
    DEFAULT_CSS = """
    PrepareScreen #bar {
        height: 3;
    }
    PrepareScreen #topic {
        width: 1fr;
        height: 3;
        border: round $primary-darken-1;
        border-title-color: $text-muted;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    PrepareScreen #backend {
        width: 30;
    }
    PrepareScreen #about {
        height: 1;
        padding: 0 1;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    PrepareScreen #progress {
        height: 1;
        padding: 0 1;
        display: none;
    }
    PrepareScreen #progress.busy {
        display: block;
    }
    PrepareScreen #progress ProgressBar {
        width: auto;
        padding-right: 1;
    }
    PrepareScreen #progress-text {
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    PrepareScreen #views {
        height: 1fr;
    }
    PrepareScreen #topics {
        height: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    PrepareScreen #items {
        height: 1fr;
    }
    PrepareScreen #detail {
        height: 7;
        border-top: solid $primary-darken-2;
        padding: 0 1;
        margin: 0;
        overflow-y: auto;
    }
    """

    def __init__(self, pair_id: int) -> None:
        super().__init__()
        self.pair_id = pair_id
        self.plan: SessionPlan | None = None
        self.topic_id: str | None = None
        self.choices: list[TopicChoice] = []
        self.dirty = False
        self.busy = False
        self.loaded = False
        self.progress_log: list[str] = []
        """Every progress line shown while generating (for tests and the curious)."""
        self._rows: list[tuple[str, int]] = []
        self._replaced: list[str] = []
        self._backend_choice: str | None = None
        """What the user picked in the backend list, if they did."""
        self._backend_set: str | None = None

    # --- layout ------------------------------------------------------------------------------

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="bar"):
            topic = Static("choose a topic (t)", id="topic")
            topic.border_title = "Topic (t)"
            yield topic
            yield Select(
                [("grounded (no model)", GROUNDED)],
                value=GROUNDED,
                allow_blank=False,
                id="backend",
            )
        yield Static("", id="about")
        with Horizontal(id="progress"):
            yield ProgressBar(total=None, show_eta=False, id="bar-progress")
            yield Static("", id="progress-text")
        with ContentSwitcher(initial="topics", id="views"):
            yield OptionList(id="topics")
            with Vertical(id="plan-view"):
                yield DataTable(id="items", cursor_type="row", zebra_stripes=True)
                yield Markdown("", id="detail")

    def on_mount(self) -> None:
        self.query_one("#backend", Select).border_title = "Backend"
        self._columns()
        self._backends()
        if self._ready():
            self._load()

    def on_resize(self) -> None:
        table = self.query_one("#items", DataTable)
        keep = self._rows[table.cursor_row] if table.cursor_row < len(self._rows) else None
        self._columns()  # the item column takes the width; rebuilding resets the cursor
        self._show_plan(select=keep)

    def _columns(self) -> None:
        table = self.query_one("#items", DataTable)
        width = max(self.size.width, 40)
        table.clear(columns=True)
        table.add_column("", key="marks", width=2)
        table.add_column("Section", key="section", width=10)
        table.add_column("Item", key="item", width=max(20, width - 2 - 10 - FROM - 8 - 2))
        table.add_column("From", key="from", width=FROM)

    # --- resources ---------------------------------------------------------------------------

    def _ready(self) -> bool:
        return self.context.ready("database", "plugins")

    def on_resource(self, resource: Resource) -> None:
        if resource.key in ("database", "plugins") and not self.loaded and self._ready():
            self._load()
        elif resource.key == "knowledge" and resource.state == "ready" and self.loaded:
            self._rank()  # the embedder ranks paraphrases too
        elif resource.key == "model":
            self._backends()

    def _backends(self) -> None:
        """The model when it is loaded (unless the user chose grounded), else grounded."""
        select = self.query_one("#backend", Select)
        options: list[tuple[str, str]] = [("grounded (no model)", GROUNDED)]
        generator = self.context.generator
        if generator is not None:
            options.insert(0, (f"model: {generator.label}", MODEL))
        values = {value for _, value in options}
        wanted = self._backend_choice if self._backend_choice in values else options[0][1]
        self._backend_set = wanted
        select.set_options(options)
        select.value = wanted
        if self.context.resources["model"].state == "loading":
            self._about("The model is still loading: grounded plans until it is ready.")

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "backend" and event.value != self._backend_set:
            self._backend_choice = self._backend_set = str(event.value)

    # --- opening -----------------------------------------------------------------------------

    def _load(self) -> None:
        from coach.prepare.editing import open_preparation, topic_choices

        self.loaded = True
        context, pair_id = self.context, self.pair_id

        def work() -> tuple[Preparation, list[TopicChoice]]:
            opened = open_preparation(context.db, pair_id)
            return opened, topic_choices(context.db, context.host, pair_id, context.kb)

        self.run_task(work, done=self._opened, name="Opening the pair")

    def _opened(self, result: tuple[Preparation, list[TopicChoice]]) -> None:
        opened, choices = result
        self.sub_title = f"pair {opened.pair_id}: {opened.pair_label}"
        self.topic_id = opened.topic_id
        self._show_choices(choices)
        if opened.notice:
            self.notify(opened.notice, severity="warning")
        if opened.plan is not None:
            self.plan = opened.plan
            session = f"session {opened.session_number}" if opened.session_number else "next"
            self._about(f"The plan stored for {session}: edit it, or g to generate again.")
            self._view("plan-view")
        else:
            self._about("Choose a topic: enter generates its plan.")
            self._view("topics")
        self._show_topic()
        self._show_plan()

    def _rank(self) -> None:
        from coach.prepare.editing import topic_choices

        context, pair_id = self.context, self.pair_id
        self.run_task(
            lambda: topic_choices(context.db, context.host, pair_id, context.kb),
            done=self._show_choices,
            name="Ranking topics",
        )

    def _show_choices(self, choices: list[TopicChoice]) -> None:
        self.choices = choices
        topics = self.query_one("#topics", OptionList)
        topics.clear_options()
        options: list[Option | None] = []
        for before, choice in zip([None, *choices], choices, strict=False):
            if before is not None and before.suggested and not choice.suggested:
                options.append(None)
            options.append(Option(_choice_prompt(choice), id=choice.topic_id))
        topics.add_options(options)
        wanted = self.topic_id or next((c.topic_id for c in choices if c.suggested), None)
        if wanted is not None:
            index = topics.get_option_index(wanted) if wanted in self._choice_ids() else 0
            topics.highlighted = index
        self._show_topic()

    def _choice_ids(self) -> set[str]:
        return {c.topic_id for c in self.choices}

    def _show_topic(self) -> None:
        choice = next((c for c in self.choices if c.topic_id == self.topic_id), None)
        topic = self.query_one("#topic", Static)
        if choice is None:
            topic.update(Text("choose a topic (t)", style="dim"))
            return
        line = Text(choice.title, style="bold")
        line.append(f"  {'★ ' if choice.suggested else ''}{choice.reason}", style="dim")
        topic.update(line)

    def on_click(self, event: events.Click) -> None:
        if event.widget is not None and event.widget.id == "topic":
            self.action_topics()

    def _about(self, text: str) -> None:
        self.query_one("#about", Static).update(Text(text))

    def _view(self, name: str) -> None:
        self.query_one("#views", ContentSwitcher).current = name
        (self.query_one("#items") if name == "plan-view" else self.query_one("#topics")).focus()
        self.refresh_bindings()

    # --- choosing and generating -------------------------------------------------------------

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        chosen = event.option.id
        if chosen == self.topic_id and self.plan is not None and self.plan.topic_id == chosen:
            self._view("plan-view")
            return
        self.topic_id = chosen
        self._show_topic()
        self.action_generate()

    def action_topics(self) -> None:
        self._view("topics")

    def action_generate(self) -> None:
        from coach.prepare.editing import generate_for_pair

        if self._busy():
            return
        if self.topic_id is None:
            self.notify("Choose a topic first.")
            self._view("topics")
            return
        generator = self._generator()
        context, pair_id, topic_id = self.context, self.pair_id, self.topic_id
        seed = self.plan.seed + 1 if self.plan is not None else 0
        keep = self.plan

        def progress(what: str, done: int, total: int) -> None:
            self.app.call_from_thread(self._progress, what, done, total)

        def work() -> SessionPlan:
            return generate_for_pair(
                context.db,
                context.kb,
                context.host,
                pair_id=pair_id,
                topic_id=topic_id,
                generator=generator,
                prompts=context.prompts if generator is not None else None,
                seed=seed,
                keep=keep,
                progress=progress,
            )

        self._start("Generating the plan…")
        self.run_task(work, done=self._generated, failed=self._failed, name="Generating the plan")

    def _generator(self):
        if self.query_one("#backend", Select).value != MODEL:
            return None
        generator = self.context.generator
        if generator is None:
            self.notify("The model is not loaded: this plan is the grounded one.")
        return generator

    def _generated(self, plan: SessionPlan) -> None:
        self._stop()
        self.plan, self.dirty, self._replaced = plan, False, []
        kept = sum(item.pinned for _, item in plan.items())
        generated = sum(item.provenance.startswith("model:") for _, item in plan.items())
        summary = f"Plan generated with {plan.backend if plan.backend != 'none' else 'no model'}"
        summary += f", {generated} model item(s)" if generated else ""
        summary += f", {kept} pinned kept" if kept else ""
        self._about(summary + "; stored on the next session.")
        for notice in plan.notices:
            self.notify(notice, title="Plan", timeout=8)
        self._view("plan-view")
        self._rows = []
        self._show_plan(select=None)

    def _first_row(self) -> tuple[str, int] | None:
        return self._rows[0] if self._rows else None

    def _failed(self, exc: BaseException) -> None:
        self._stop()
        self.notify(error_text(exc), title="Generating the plan failed", severity="error")

    def _busy(self) -> bool:
        if self.busy:
            self.notify("Still working on the plan…")
        return self.busy

    def _start(self, text: str) -> None:
        self.busy = True
        self.query_one("#progress").add_class("busy")
        self.query_one("#bar-progress", ProgressBar).update(total=None, progress=0)
        self._progress_text(text)

    def _progress(self, what: str, done: int, total: int) -> None:
        if not self.is_attached:
            return
        self.query_one("#bar-progress", ProgressBar).update(total=total, progress=done)
        self._progress_text(f"{what}…")

    def _progress_text(self, text: str) -> None:
        self.progress_log.append(text)
        self.query_one("#progress-text", Static).update(Text(text))

    def _stop(self) -> None:
        self.busy = False
        if self.is_attached:
            self.query_one("#progress").remove_class("busy")

    # --- the plan ----------------------------------------------------------------------------

    def _show_plan(self, select: tuple[str, int] | None = None) -> None:
        from coach.prepare.editing import SECTIONS, section_items

        table = self.query_one("#items", DataTable)
        if select is None and self._rows and table.row_count:
            select = self._rows[min(table.cursor_row, len(self._rows) - 1)]
        table.clear()
        self._rows = []
        if self.plan is None:
            self._detail()
            return
        for section in SECTIONS:
            for index, item in enumerate(section_items(self.plan, section)):
                self._rows.append((section, index))
                table.add_row(
                    Text(marks(item), style="bold"),
                    Text(LABELS[section], style="dim"),
                    Text(" ".join(item.text.split())),
                    Text(origin(item), style="dim"),
                    key=f"{section}:{index}",
                )
        if select in self._rows:
            table.move_cursor(row=self._rows.index(select))
        self._detail()

    def _current(self) -> tuple[str, int, PlanItem] | None:
        from coach.prepare.editing import section_items

        table = self.query_one("#items", DataTable)
        if self.plan is None or not self._rows:
            return None
        section, index = self._rows[min(table.cursor_row, len(self._rows) - 1)]
        return section, index, section_items(self.plan, section)[index]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._detail()

    def _detail(self) -> None:
        from coach.prepare.editing import section_items

        detail = self.query_one("#detail", Markdown)
        current = self._current()
        if current is None or self.plan is None:
            detail.update("")
            return
        section, index, item = current
        count = len(section_items(self.plan, section))
        head = f"**{LABELS[section]} {index + 1} of {count}**"
        if section == "exercise" and self.plan.exercise is not None:
            ex = self.plan.exercise
            head += f" · {ex.title} ({ex.minutes} min): {ex.goal}"
        flags = [word for word, on in (("pinned", item.pinned), ("edited", item.edited)) if on]
        head += "".join(f" · _{flag}_" for flag in flags)
        where = f"`{item.provenance}`" + (f" · `{item.source}`" if item.source else "")
        detail.update(f"{head}\n\n{item.text}\n\nFrom {where}")

    def _change(self, plan: SessionPlan, select: tuple[str, int] | None) -> None:
        self.plan, self.dirty = plan, True
        self._show_plan(select=select)
        self.refresh_bindings()

    def _apply(self, edit, *args) -> SessionPlan | None:
        """Run a pure edit; an InputError (a plan keeps 5 questions...) becomes a notification."""
        from coach.sessions.errors import InputError

        try:
            return edit(*args)
        except InputError as exc:
            self.notify(str(exc), severity="warning")
            return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        in_plan = self.query_one("#views", ContentSwitcher).current == "plan-view"
        if action in ITEM_ACTIONS:
            return self.plan is not None and in_plan
        if action == "save":
            return self.plan is not None
        return True

    def action_pin(self) -> None:
        from coach.prepare.editing import toggle_pin

        if (current := self._current()) and self.plan is not None:
            section, index, _ = current
            self._change(toggle_pin(self.plan, section, index), (section, index))

    def action_remove(self) -> None:
        from coach.prepare.editing import remove_item, section_items

        if (current := self._current()) and self.plan is not None:
            section, index, _ = current
            plan = self._apply(remove_item, self.plan, section, index)
            if plan is not None:
                left = len(section_items(plan, section))
                self._change(plan, (section, min(index, left - 1)) if left else self._first_row())

    def action_move(self, offset: int) -> None:
        from coach.prepare.editing import move_item

        if (current := self._current()) and self.plan is not None:
            section, index, _ = current
            plan, target = move_item(self.plan, section, index, offset)
            if plan is self.plan:
                self.notify(f"Already the {'first' if offset < 0 else 'last'} in its section.")
                return
            self._change(plan, (section, target))

    def action_edit(self) -> None:
        from coach.prepare.editing import edit_item

        current = self._current()
        if current is None:
            return
        section, index, item = current

        def edited(text: str | None) -> None:
            if text is None or self.plan is None:
                return
            plan = self._apply(edit_item, self.plan, section, index, text)
            if plan is not None and plan is not self.plan:
                self._change(plan, (section, index))

        self.app.push_screen(EditItemScreen(LABELS[section], item.text), edited)

    def action_regenerate_item(self) -> None:
        from coach.prepare.editing import regenerate_item

        current = self._current()
        if current is None or self.plan is None or self._busy():
            return
        section, index, item = current
        generator = self._generator()
        context, plan, skip = self.context, self.plan, [*self._replaced]

        def work() -> Replacement:
            return regenerate_item(
                plan,
                section,
                index,
                host=context.host,
                kb=context.kb,
                generator=generator,
                prompts=context.prompts if generator is not None else None,
                skip=skip,
            )

        def done(result: Replacement) -> None:
            self._stop()
            severity = "information" if result.replaced else "warning"
            self.notify(result.message, severity=severity)
            if result.replaced:
                self._replaced.append(item.text)
                self._change(result.plan, (section, index))

        def failed(exc: BaseException) -> None:
            self._stop()
            self.notify(error_text(exc), title="No new item", severity="error")

        who = generator.label if generator is not None else "the bank"
        self._start(f"Asking {who} for a new {LABELS[section].lower()}…")
        self.run_task(work, done=done, failed=failed, name="New item")

    def action_save(self, then_leave: bool = False) -> None:
        from coach.prepare.editing import save_plan

        if self.plan is None or self._busy():
            return
        context, pair_id, plan = self.context, self.pair_id, self.plan

        def done(_session_id: int) -> None:
            self.dirty = False
            self._about("Saved: the pair's next session is prepared with this plan.")
            self.notify("Plan saved on the next session.")
            if then_leave:
                self.dismiss()

        self.run_task(
            lambda: save_plan(context.db, pair_id, plan, host=context.host),
            done=done,
            name="Saving the plan",
        )

    def action_back(self) -> None:
        in_topics = self.query_one("#views", ContentSwitcher).current == "topics"
        if in_topics and self.plan is not None:
            self._view("plan-view")
            return
        if not self.dirty:
            self.dismiss()
            return

        def decided(choice: str | None) -> None:
            if choice == "save":
                self.action_save(then_leave=True)
            elif choice == "discard":
                self.dismiss()

        self.app.push_screen(LeaveScreen(), decided)


def _choice_prompt(choice: TopicChoice) -> Text:
    """Two lines that never wrap: the topic, then why it is (or is not) suggested."""
    mark = "★ " if choice.suggested else ("✓ " if choice.covered else "  ")
    text = Text(
        mark, style="bold" if choice.suggested else "dim", no_wrap=True, overflow="ellipsis"
    )
    text.append(choice.title, style="bold" if choice.suggested else "")
    about = choice.reason if choice.suggested or choice.covered else choice.summary
    text.append(f"\n  {about}", style="dim italic")
    return text

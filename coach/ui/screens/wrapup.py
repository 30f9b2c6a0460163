"""The wrap-up: what the pair agreed, how both sides rated the session, a summary; then done.

Saving completes the session (``SessionEngine.complete``) in one transaction, so a wrap-up is
either stored whole or not at all. A form that does not validate keeps everything typed and
says which field is wrong, next to the Save button. The summary is drafted from the shared notes
(never the private ones) by the configured model in a worker, or is the notes themselves, and
the pair can edit it before saving.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from coach.ui.screens.base import CoachScreen, error_text

if TYPE_CHECKING:
    from coach.prepare.summary import SessionSummary
    from coach.sessions.wrapup import WrapUp

EXPERIMENT_ROWS = 3
SCORES = [(str(n), n) for n in range(1, 6)]
OWNERS = [("Mentee", "mentee"), ("Mentor", "mentor")]
FIT = [("Good fit", True), ("Not a fit", False)]
SIDES = ("mentor", "mentee")
_FIELD = re.compile(r"(experiments|feedback|confidence)\[(\d+)\]\.(\w+)")


def _input(placeholder: str, widget_id: str, classes: str) -> Input:
    return Input(placeholder=placeholder, id=widget_id, classes=classes, compact=True)


def _select(
    options: list, widget_id: str, classes: str, *, prompt: str = "", value: Any = None
) -> Select:
    """A compact Select; with ``prompt`` it may stay blank, without it ``value`` is required."""
    if prompt:
        chosen = Select.NULL if value is None else value
        return Select(options, prompt=prompt, value=chosen, id=widget_id, classes=classes,
                      compact=True)  # fmt: skip
    return Select(options, value=value, allow_blank=False, id=widget_id, classes=classes,
                  compact=True)  # fmt: skip


class FormError(Exception):
    """A field of the form is wrong: ``message`` names it, ``widget`` is its id."""

    def __init__(self, message: str, widget: str | None = None) -> None:
        super().__init__(message)
        self.widget = widget


class WrapUpScreen(CoachScreen):
    """``app.open_wrapup(session_id)`` pushes it; Save completes the session."""

    TITLE_TEXT = "Wrap-up"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save and complete", priority=True),
        Binding("escape", "back", "Back"),
    ]
    DEFAULT_CSS = """
    WrapUpScreen #form {
        height: 1fr;
        padding: 0 1;
    }
    WrapUpScreen .heading {
        margin: 1 0 0 0;
        text-style: bold;
        color: $text-accent;
    }
    WrapUpScreen .row {
        height: auto;
        margin: 0 0 1 0;
    }
    WrapUpScreen .row > * {
        margin: 0 1 0 0;
    }
    WrapUpScreen .row Label {
        width: 10;
    }
    WrapUpScreen .row .wide {
        width: 1fr;
    }
    WrapUpScreen .exp-title {
        width: 1fr;
    }
    WrapUpScreen .exp-owner {
        width: 14;
    }
    WrapUpScreen .exp-due, WrapUpScreen .score {
        width: 16;
    }
    WrapUpScreen .fit {
        width: 18;
    }
    WrapUpScreen .-invalid {
        background: $error 30%;
        text-style: bold;
    }
    WrapUpScreen #summary {
        height: 8;
    }
    WrapUpScreen #summary-source {
        color: $text-muted;
    }
    WrapUpScreen #actions {
        height: auto;
        margin: 1 0;
    }
    WrapUpScreen #error {
        display: none;
        padding: 0 1;
        background: $error 25%;
        color: $text;
    }
    WrapUpScreen #error.-shown {
        display: block;
    }
    """

    def __init__(self, session_id: int) -> None:
        super().__init__()
        self.session_id = session_id
        self.detail: dict[str, Any] | None = None
        self._drafted = ""
        self._saving = False
        self._loading = False

    # --- layout ------------------------------------------------------------------------------

    def compose_body(self) -> Iterable[Widget]:
        yield Static("", id="error")
        yield VerticalScroll(Static("Loading the session…", id="loading"), id="form")

    def on_mount(self) -> None:
        if self._ready():
            self.load()

    def on_resource(self, resource) -> None:
        if resource.key in ("database", "plugins") and self._ready() and self.detail is None:
            self.load()

    def _ready(self) -> bool:
        """The session needs the database and the plugins (templates, topics, hooks)."""
        return self.context.ready("database", "plugins")

    def load(self) -> None:
        from coach.sessions.service import session_detail

        if self._loading:
            return
        self._loading = True
        db, session_id = self.context.db, self.session_id
        self.run_task(
            lambda: session_detail(db, session_id),
            done=self._loaded,
            failed=self._load_failed,
            name="Opening the wrap-up",
        )

    def _load_failed(self, exc: BaseException) -> None:
        self._loading = False
        self.query_one("#loading", Static).update(f"Could not open the session: {error_text(exc)}")
        self.notify(error_text(exc), title="Opening the wrap-up failed", severity="error")

    def _loaded(self, detail: dict[str, Any]) -> None:
        self.detail = detail
        self.sub_title = (
            f"{detail['mentor']['name']} & {detail['mentee']['name']} · session {detail['number']}"
        )
        self.run_worker(self._build(detail), name="Building the form", exit_on_error=False)

    async def _build(self, detail: dict[str, Any]) -> None:
        try:
            await self.query_one("#loading").remove()
            await self.query_one("#form", VerticalScroll).mount_all(self._fields(detail))
        except Exception as exc:  # never close the app over a form
            self.notify(error_text(exc), title="The wrap-up form failed", severity="error")
            return
        if detail["status"] != "running":
            self._error(f"This session is {detail['status']}: only a running session wraps up.")
            self.query_one("#save", Button).disabled = True
        else:
            self.query_one("#exp-0-title").focus()  # typing starts with the first experiment
            self.draft_summary()

    def _fields(self, detail: dict[str, Any]) -> list[Widget]:
        widgets: list[Widget] = [
            Static(
                f"Session {detail['number']} is over: agree what to try, rate it, keep a summary.",
                id="intro",
            ),
            Label("Experiments to try before next time", classes="heading"),
        ]
        for row in range(EXPERIMENT_ROWS):
            widgets.append(
                Horizontal(
                    _input("Experiment", f"exp-{row}-title", "exp-title"),
                    _select(OWNERS, f"exp-{row}-owner", "exp-owner", value="mentee"),
                    _input("YYYY-MM-DD", f"exp-{row}-due", "exp-due"),
                    classes="row",
                )
            )
        widgets.append(Label("How did it go? (1 = poor, 5 = great)", classes="heading"))
        first = detail["number"] == 1
        for side in SIDES:
            row: list[Widget] = [
                Label(side.capitalize()),
                _select(SCORES, f"{side}-rating", "score", prompt="rating"),
            ]
            if first:
                row.append(_select(FIT, f"{side}-fit", "fit", prompt="fit?"))
            widgets.append(Horizontal(*row, classes="row"))
            widgets.append(
                Horizontal(
                    _input(f"{side}: what worked", f"{side}-worked", "wide"),
                    _input(f"{side}: what to change", f"{side}-change", "wide"),
                    classes="row",
                )
            )
        if detail["topic_ids"]:
            widgets.append(Label("The mentee's confidence (1-5)", classes="heading"))
        before = {c["topic_id"]: c["before"] for c in detail["confidence"]}
        for index, topic_id in enumerate(detail["topic_ids"]):
            topic = self.context.host.topic(topic_id)
            known = before.get(topic_id)
            widgets.append(
                Horizontal(
                    Label(topic.title if topic else topic_id, classes="wide"),
                    _select(SCORES, f"conf-{index}-before", "score", prompt="before", value=known),
                    _select(SCORES, f"conf-{index}-after", "score", prompt="after"),
                    classes="row",
                )
            )
        widgets += [
            Label("Summary (from the shared notes; edit it before saving)", classes="heading"),
            Static("Drafting…", id="summary-source"),
            TextArea("", id="summary", soft_wrap=True),
            Horizontal(
                Button("Save and complete", variant="primary", id="save"),
                Button("Draft again", id="redraft"),
                id="actions",
            ),
        ]
        return widgets

    # --- the summary draft -------------------------------------------------------------------

    def draft_summary(self) -> None:
        """Draft in a worker; an edited summary is never overwritten by a late draft."""
        from coach.prepare.summary import draft_summary

        context, session_id = self.context, self.session_id
        try:
            experiments = [e.model_dump() for e in self._experiments()]
        except FormError:
            experiments = None
        self.query_one("#summary-source", Static).update("Drafting…")

        def work() -> SessionSummary:
            generator = context.generator
            return draft_summary(
                context.db,
                session_id,
                host=context.host,
                generator=generator,
                prompts=context.prompts if generator is not None else None,
                kb=context.kb,
                experiments=experiments,
            )

        self.run_task(
            work,
            done=self._drafted_summary,
            failed=self._draft_failed,
            name="Drafting the summary",
            group="draft",
            exclusive=True,
        )

    def _drafted_summary(self, summary: SessionSummary) -> None:
        editor = self.query_one("#summary", TextArea)
        if editor.text.strip() in ("", self._drafted.strip()):
            editor.load_text(summary.text)
            self._drafted = summary.text
        if summary.provenance.startswith("model:"):
            source = f"Drafted by {summary.provenance}."
        else:
            source = "The shared notes (private notes are never used)."
        self.query_one("#summary-source", Static).update(source)
        for notice in summary.notices:
            self.notify(notice, title="Summary", severity="warning")

    def _draft_failed(self, exc: BaseException) -> None:
        self.query_one("#summary-source", Static).update("No draft: write the summary yourself.")
        self.notify(error_text(exc), title="Drafting the summary failed", severity="error")

    # --- reading the form --------------------------------------------------------------------

    def _value(self, widget_id: str) -> Any:
        widget = self.query_one(f"#{widget_id}")
        if isinstance(widget, Select):
            return None if widget.value is Select.NULL else widget.value
        if isinstance(widget, Input):
            return widget.value.strip()
        if isinstance(widget, TextArea):
            return widget.text
        raise TypeError(widget_id)

    def _experiments(self) -> list:
        from coach.sessions.wrapup import PlannedExperiment

        today = self.context.now().date()
        found = []
        for row in range(EXPERIMENT_ROWS):
            title, due_text = self._value(f"exp-{row}-title"), self._value(f"exp-{row}-due")
            where = f"wrap-up: experiments[{len(found)}]"
            if not title:
                if due_text:
                    raise FormError(
                        f"{where}.title: give the experiment a title", f"exp-{row}-title"
                    )
                continue
            due = None
            if due_text:
                try:
                    due = date.fromisoformat(due_text)
                except ValueError:
                    raise FormError(
                        f"{where}.due_date: '{due_text}' is not a date; use YYYY-MM-DD",
                        f"exp-{row}-due",
                    ) from None
                if due < today:
                    raise FormError(
                        f"{where}.due_date: {due} is in the past (today is {today})",
                        f"exp-{row}-due",
                    )
            owner = self._value(f"exp-{row}-owner")
            found.append(PlannedExperiment(title=title, owner=owner, due_date=due))
        return found

    def collect(self) -> WrapUp:
        """The form as a validated WrapUp; FormError names the first wrong field."""
        from coach.sessions.errors import InputError
        from coach.sessions.wrapup import WrapUp

        assert self.detail is not None
        feedback, widgets = [], {}
        for side in SIDES:
            rating = self._value(f"{side}-rating")
            worked, change = self._value(f"{side}-worked"), self._value(f"{side}-change")
            fit = self._value(f"{side}-fit") if self.detail["number"] == 1 else None
            if rating is None and not (worked or change or fit is not None):
                continue
            if rating is None:
                raise FormError(
                    f"wrap-up: feedback[{len(feedback)}].rating: the {side} has not rated "
                    "the session (choose 1-5)",
                    f"{side}-rating",
                )
            widgets[f"feedback[{len(feedback)}]"] = f"{side}-rating"
            feedback.append(
                {
                    "side": side,
                    "rating": rating,
                    "what_worked": worked,
                    "what_to_change": change,
                    "good_fit": fit,
                }
            )
        confidence = []
        for index, topic_id in enumerate(self.detail["topic_ids"]):
            before = self._value(f"conf-{index}-before")
            after = self._value(f"conf-{index}-after")
            if before is not None or after is not None:
                confidence.append({"topic_id": topic_id, "before": before, "after": after})
        try:
            return WrapUp(
                experiments=self._experiments(),
                feedback=feedback,
                confidence=confidence,
                summary=self._value("summary"),
            )
        except InputError as exc:
            match = _FIELD.search(str(exc))
            key = f"{match.group(1)}[{match.group(2)}]" if match else ""
            raise FormError(str(exc), widgets.get(key)) from None

    # --- saving ------------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "redraft":
            self._drafted = self.query_one("#summary", TextArea).text  # replace it this time
            self.draft_summary()

    def action_save(self) -> None:
        from coach.sessions.engine import SessionEngine

        if self.detail is None or self._saving or self.query_one("#save", Button).disabled:
            return
        self._clear_error()
        try:
            wrap_up = self.collect()
        except FormError as exc:
            self._error(str(exc), exc.widget)
            return
        context, session_id = self.context, self.session_id

        def work() -> list[str]:
            engine = SessionEngine(
                context.db, session_id, clock=context.clock, notify=context.host.notify
            )
            engine.complete(wrap_up)
            return engine.warnings

        self._saving = True
        self.run_task(work, done=self._saved, failed=self._save_failed, name="Saving the wrap-up")

    def _save_failed(self, exc: BaseException) -> None:
        self._saving = False
        self._error(error_text(exc))

    def _saved(self, warnings: list[str]) -> None:
        from coach.ui.screens.live import LiveSessionScreen

        self._saving = False
        for warning in warnings:
            self.notify(warning, title="Plugin problem", severity="warning", timeout=10)
        number = self.detail["number"] if self.detail else "?"
        self.notify(f"Session {number} is complete; the wrap-up is saved.", title="Saved")
        app = self.app
        app.pop_screen()
        if isinstance(app.screen, LiveSessionScreen) and len(app.screen_stack) > 1:
            app.pop_screen()

    def _error(self, message: str, widget: str | None = None) -> None:
        """Above the form, always in view; the wrong field is marked and focused."""
        error = self.query_one("#error", Static)
        error.update(message)
        error.add_class("-shown")
        if widget:
            field = self.query_one(f"#{widget}")
            field.add_class("-invalid")
            field.focus()

    def _clear_error(self) -> None:
        self.query_one("#error", Static).update("")
        self.query_one("#error", Static).remove_class("-shown")
        for widget in self.query(".-invalid"):
            widget.remove_class("-invalid")

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

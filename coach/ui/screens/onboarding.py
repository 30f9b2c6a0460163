"""First run: create a pair or load demo data while the knowledge base builds.

An empty programme has nothing to show, so Home offers this once per run. The knowledge base
takes a while to build the first time; showing its progress here tells a new user the wait is
work, not a hang, and the form gives them something useful to do meanwhile.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Static

from coach.ui.screens.base import Tasks, error_text

if TYPE_CHECKING:
    from textual.app import App

    from coach.ui.context import Resource

FIELDS = ("name", "email", "department")


def load_demo(app: App) -> None:
    """Replace the demo programme (never real data) in a worker, then refresh Home and say so."""
    context = app.context  # type: ignore[attr-defined]

    def notify(message: str, **options: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app closed meanwhile
            app.call_from_thread(app.notify, message, **options)

    def work() -> None:
        from coach.sessions.demo import create_demo_programme

        try:
            summary = create_demo_programme(context.db, now=context.now(), replace=True)
        except Exception as exc:
            notify(error_text(exc), title="Demo data not loaded", severity="error", timeout=10)
            return
        with contextlib.suppress(RuntimeError):
            app.call_from_thread(_refresh_home, app)
        notify(
            f"{summary.pairs} demo pairs with {summary.sessions} sessions; every name starts"
            " with 'Demo'.",
            title="Demo data loaded",
        )

    app.run_worker(work, name="load demo", group="demo", thread=True, exit_on_error=False)


def _refresh_home(app: App) -> None:
    from coach.ui.screens.home import HomeScreen

    for screen in app.screen_stack:
        if isinstance(screen, HomeScreen):
            screen.refresh_data()


class OnboardingScreen(Tasks, ModalScreen[int | None]):
    """Dismisses with the new pair's id, or None when skipped or the demo was chosen."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "skip", "Skip")]
    DEFAULT_CSS = """
    OnboardingScreen { align: center middle; }
    OnboardingScreen #dialog {
        width: 100%;
        max-width: 96;
        height: auto;
        max-height: 100%;
        border: round $primary;
        border-title-style: bold;
        background: $surface;
        padding: 0 1;
    }
    OnboardingScreen #knowledge { height: auto; margin-bottom: 1; }
    OnboardingScreen #kb-text { width: 1fr; color: $text-muted; }
    OnboardingScreen #kb-bar { width: auto; margin-left: 1; }
    OnboardingScreen #form { height: auto; }
    OnboardingScreen .person {
        grid-size: 2;
        grid-columns: 12 1fr;
        grid-rows: 1;
        grid-gutter: 0 1;
        height: auto;
        width: 1fr;
    }
    OnboardingScreen #mentor { margin-right: 2; }
    OnboardingScreen .side { column-span: 2; text-style: bold; color: $text-accent; }
    OnboardingScreen Input.-invalid { background: $error-muted; }
    OnboardingScreen #error { color: $text-error; height: auto; margin-top: 1; }
    OnboardingScreen #buttons { height: auto; margin-top: 1; align-horizontal: right; }
    OnboardingScreen #buttons Button { margin-left: 1; }
    """

    def __init__(self, *, first_run: bool) -> None:
        super().__init__()
        self.first_run = first_run

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog") as dialog:
            dialog.border_title = "Welcome to Coach" if self.first_run else "New pair"
            if self.first_run:
                yield Static(
                    "Start with a pair: a mentor and the mentee they will learn from. Or load"
                    " labelled demo data to look around first."
                )
            with Horizontal(id="knowledge"):
                yield Static(id="kb-text")
                yield ProgressBar(total=1.0, show_eta=False, id="kb-bar")
            with Horizontal(id="form"):
                for side in ("mentor", "mentee"):
                    with Grid(classes="person", id=side):
                        yield Label(side.capitalize(), classes="side")
                        for field in FIELDS:
                            yield Label(field.capitalize())
                            yield Input(
                                id=f"{side}-{field}", compact=True, placeholder=_hint(field)
                            )
                        if side == "mentee":
                            yield Label("Growth areas")
                            yield Input(
                                id="mentee-growth", compact=True, placeholder="comma-separated"
                            )
            yield Static(id="error")
            with Horizontal(id="buttons"):
                yield Button("Create pair", id="create", variant="primary")
                yield Button("Load demo data", id="demo")
                yield Button("Skip" if self.first_run else "Cancel", id="skip")

    def on_mount(self) -> None:
        self.query_one("#error").display = False
        self._knowledge(self.app.context.resources["knowledge"])  # type: ignore[attr-defined]
        self.app.resource_signal.subscribe(self, self._knowledge)  # type: ignore[attr-defined]
        self.query_one("#mentor-name", Input).focus()

    def _knowledge(self, resource: Resource) -> None:
        if resource.key != "knowledge":
            return
        bar = self.query_one("#kb-bar", ProgressBar)
        loading = resource.state == "loading"
        bar.display = loading
        if loading:
            bar.update(total=1.0 if resource.progress is not None else None)
            if resource.progress is not None:
                bar.update(progress=resource.progress)
        text = {
            "waiting": "Knowledge base: waiting to start",
            "loading": f"Building the knowledge base: {resource.detail or 'starting'}",
            "ready": f"Knowledge base ready ({resource.detail})",
            "off": f"Knowledge base off ({resource.detail})",
            "failed": f"Knowledge base failed: {resource.detail}",
        }[resource.state]
        self.query_one("#kb-text", Static).update(text)

    # --- the form ----------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves on to the next field, and creates the pair from the last one."""
        event.stop()
        if event.input.id == "mentee-growth":
            self.create()
        else:
            self.focus_next(Input)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "create":
            self.create()
        elif event.button.id == "demo":
            load_demo(self.app)
            self.dismiss(None)
        else:
            self.dismiss(None)

    def action_skip(self) -> None:
        self.dismiss(None)

    def form(self) -> dict[str, dict[str, Any]]:
        people: dict[str, dict[str, Any]] = {}
        for side in ("mentor", "mentee"):
            people[side] = {f: self.query_one(f"#{side}-{f}", Input).value for f in FIELDS}
        growth = self.query_one("#mentee-growth", Input).value
        people["mentee"]["growth_areas"] = [part.strip() for part in growth.split(",") if part]
        return people

    def create(self) -> None:
        from coach.sessions.activity import create_pair

        people = self.form()
        context = self.app.context  # type: ignore[attr-defined]
        self.query_one("#create", Button).disabled = True
        self.run_task(
            lambda: create_pair(context.db, people["mentor"], people["mentee"]),
            done=self._created,
            failed=self._refused,
            name="Creating the pair",
        )

    def _created(self, pair_id: int) -> None:
        people = self.form()
        names = f"{people['mentor']['name'].strip()} & {people['mentee']['name'].strip()}"
        self.notify(f"{names} can now prepare their first session.", title="Pair created")
        self.dismiss(pair_id)

    def _refused(self, exc: BaseException) -> None:
        """Show what is wrong under the form, mark the fields, and keep everything typed."""
        self.query_one("#create", Button).disabled = False
        message = error_text(exc)
        error = self.query_one("#error", Static)
        error.update(message)
        error.display = True
        invalid = []
        for widget in self.query(Input):
            side, _, field = (widget.id or "").partition("-")
            field = "growth_areas" if field == "growth" else field
            wrong = f"{side.capitalize()} {field}" in message
            widget.set_class(wrong, "-invalid")
            if wrong:
                invalid.append(widget)
        error.scroll_visible()
        if invalid:
            invalid[0].focus()


def _hint(field: str) -> str:
    return {"name": "required", "email": "name@example.org", "department": ""}[field]

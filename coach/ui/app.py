"""The Coach app: top-level modes (F2–F6), background loading, commands, themes.

Modes keep their own screen stacks, so a facilitator can glance at the dashboard in the middle
of a live session and come back to it unchanged. Home is where pairs are chosen; from there the
pair, prepare, live-session and wrap-up screens are pushed on top.

Start-up cost is kept to Textual's own: the screens import their services lazily and everything
heavy (the database, plugins, the embedding model and knowledge base, the generator) loads in
thread workers after the first frame, reported on every screen's status line.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.signal import Signal

from coach.ui.context import CoachContext, Resource

if TYPE_CHECKING:
    from coach.settings import Settings

DARK, LIGHT = "textual-dark", "textual-light"


def _home() -> Screen:
    from coach.ui.screens.home import HomeScreen

    return HomeScreen()


def _dashboard() -> Screen:
    from coach.ui.screens.dashboard import DashboardScreen

    return DashboardScreen()


def _knowledge() -> Screen:
    from coach.ui.screens.knowledge import KnowledgeScreen

    return KnowledgeScreen()


def _plugins() -> Screen:
    from coach.ui.screens.plugins import PluginsScreen

    return PluginsScreen()


def _matching() -> Screen:
    from coach.ui.screens.matching import MatchingScreen

    return MatchingScreen()


class CoachApp(App):
    """Coach's TUI; ``context`` holds (or will hold) everything the screens use."""

    TITLE = "Coach"
    SUB_TITLE = "reverse mentoring"
    MODES: ClassVar = {
        "home": _home,
        "dashboard": _dashboard,
        "knowledge": _knowledge,
        "plugins": _plugins,
        "matching": _matching,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "switch_mode('home')", "Home", show=False),
        Binding("f3", "switch_mode('dashboard')", "Dashboard", show=False),
        Binding("f4", "switch_mode('knowledge')", "Knowledge", show=False),
        Binding("f5", "switch_mode('plugins')", "Plugins", show=False),
        Binding("f6", "switch_mode('matching')", "Matching", show=False),
        Binding("ctrl+t", "toggle_dark", "Light/dark", show=False),
        Binding("f1", "toggle_help", "Keys", show=False),
    ]

    def __init__(self, context: CoachContext, *, theme: str | None = None) -> None:
        super().__init__()
        self.context = context
        self.resource_signal: Signal[Resource] = Signal(self, "resource")
        self._ui_thread = threading.get_ident()
        self.theme = theme or DARK
        context.subscribe(self._resource_changed)

    # --- start-up ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.switch_mode("home")

    def on_ready(self) -> None:
        """After the first frame: loading earlier would compete with it for the one GIL."""
        self.run_worker(self._load_core, name="load core", thread=True, exit_on_error=False)

    def _load_core(self) -> None:
        """Database and plugins first (every screen needs them), then the slow pieces."""
        try:
            self.context.open_database()
        except Exception:
            return  # the status line says why; the app stays up
        try:
            self.context.load_plugins()
        except Exception:
            return
        self.call_from_thread(self._load_slow)

    def _load_slow(self) -> None:
        for problem in self.context.warnings:
            self.notify(problem, title="Plugin problem", severity="warning", timeout=10)
        if self.context.needs("knowledge"):
            self.run_worker(
                self.context.load_knowledge, name="load knowledge", thread=True, exit_on_error=False
            )
        if self.context.needs("model"):
            self.run_worker(
                self.context.load_model, name="load model", thread=True, exit_on_error=False
            )

    def _resource_changed(self, resource: Resource) -> None:
        """From any thread: republish on the UI thread, where widgets can react."""
        if threading.get_ident() == self._ui_thread:
            self._publish(resource)
        else:
            with contextlib.suppress(RuntimeError):  # the app has already stopped
                self.call_from_thread(self._publish, resource)

    def _publish(self, resource: Resource) -> None:
        self.resource_signal.publish(resource)
        if resource.state == "failed":
            self.notify(
                resource.detail,
                title=f"{resource.label} failed to load",
                severity="error",
                timeout=15,
            )

    # --- navigation --------------------------------------------------------------------------

    def open_pair(self, pair_id: int) -> None:
        from coach.ui.screens.pair import PairScreen

        self.push_screen(PairScreen(pair_id))

    def open_prepare(self, pair_id: int) -> None:
        from coach.ui.screens.prepare import PrepareScreen

        self.push_screen(PrepareScreen(pair_id))

    def open_live(self, session_id: int) -> None:
        from coach.ui.screens.live import LiveSessionScreen

        self.push_screen(LiveSessionScreen(session_id))

    def open_wrapup(self, session_id: int) -> None:
        from coach.ui.screens.wrapup import WrapUpScreen

        self.push_screen(WrapUpScreen(session_id))

    # --- conventions -------------------------------------------------------------------------

    def action_toggle_dark(self) -> None:
        self.theme = LIGHT if self.theme == DARK else DARK

    def action_toggle_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Home", "Pairs, next sessions, stalled pairs", self._mode("home"))
        yield SystemCommand(
            "Programme dashboard", "Metrics, plots and stalled pairs", self._mode("dashboard")
        )
        yield SystemCommand(
            "Knowledge", "Search the knowledge base; ingest a folder", self._mode("knowledge")
        )
        yield SystemCommand(
            "Plugins", "Loaded plugins, their status and errors", self._mode("plugins")
        )
        yield SystemCommand(
            "Matching", "Propose mentor–mentee pairs and accept them", self._mode("matching")
        )
        yield SystemCommand("New pair", "Add a mentor, a mentee and pair them", self._new_pair)
        yield SystemCommand(
            "Load demo data", "Fill the programme with labelled demo pairs", self._demo
        )
        yield SystemCommand(
            "Light or dark theme",
            "Switch between the light and dark theme",
            self.action_toggle_dark,
        )

    def _mode(self, mode: str):
        return lambda: self.switch_mode(mode)

    def _new_pair(self) -> None:
        from coach.ui.screens.onboarding import OnboardingScreen

        self.switch_mode("home")
        self.push_screen(OnboardingScreen(first_run=False))

    def _demo(self) -> None:
        from coach.ui.screens.onboarding import load_demo

        self.switch_mode("home")
        load_demo(self)

    def on_unmount(self) -> None:
        self.context.close()


def run(settings: Settings | None = None) -> None:
    """Open the TUI (``coach`` with no arguments); settings are read after the first frame."""
    app = CoachApp(CoachContext(settings))
    app.run()

"""What every Coach screen shares: header, status line, footer, and safe background work.

``run_task`` is how a screen does anything slow or fallible (a query, a model call, an
ingest): it runs in a thread worker, its result comes back on the UI thread, and an exception
becomes a notification instead of closing the app. Screens that need a resource (the database,
the knowledge base) override ``on_resource`` to refresh once it is ready.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from coach.ui.widgets.status import ResourceStatus

if TYPE_CHECKING:
    from coach.ui.app import CoachApp
    from coach.ui.context import CoachContext, Resource

T = TypeVar("T")


def error_text(exc: BaseException) -> str:
    """One line for a notification: the message of our own errors, the type for others."""
    from sqlalchemy.exc import OperationalError

    from coach.sessions.errors import InputError

    message = str(exc).strip() or type(exc).__name__
    if isinstance(exc, InputError):
        return message
    if isinstance(exc, OperationalError):  # a lost server or a busy file, not a bug
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else message
        return f"The programme database does not answer ({reason}); try again when it does."
    return f"{type(exc).__name__}: {message}"


class Tasks:
    """``run_task`` for any screen (modal ones too): thread work that never closes the app."""

    def run_task(
        self,
        work: Callable[[], T],
        *,
        done: Callable[[T], Any] | None = None,
        failed: Callable[[BaseException], Any] | None = None,
        name: str = "task",
        group: str = "default",
        exclusive: bool = False,
    ) -> Worker[T]:
        """Run ``work`` in a thread; ``done(result)`` or ``failed(exc)`` run on the UI thread.

        Without ``failed`` an error becomes a notification naming ``name``; the app stays open.
        """
        worker = self.run_worker(  # type: ignore[attr-defined]
            work,
            name=name,
            group=group,
            thread=True,
            exclusive=exclusive,
            exit_on_error=False,
        )
        self._pending[worker] = (done, failed, name)
        return worker

    @property
    def _pending(self) -> dict[Worker, tuple[Callable | None, Callable | None, str]]:
        return self.__dict__.setdefault("_coach_pending", {})

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        entry = self._pending.pop(event.worker, None)
        if entry is None:
            return
        done, failed, name = entry
        if event.state == WorkerState.SUCCESS and done is not None:
            done(event.worker.result)
        elif event.state == WorkerState.ERROR:
            error = event.worker.error or RuntimeError("unknown error")
            if failed is not None:
                failed(error)
            else:
                self.notify(  # type: ignore[attr-defined]
                    error_text(error), title=f"{name} failed", severity="error"
                )


class CoachScreen(Tasks, Screen):
    """A screen with the app's chrome; subclasses implement ``compose_body``."""

    TITLE_TEXT = "Coach"
    DEFAULT_CSS = """
    CoachScreen #body {
        height: 1fr;
    }
    """

    @property
    def coach(self) -> CoachApp:
        return self.app  # type: ignore[return-value]

    @property
    def context(self) -> CoachContext:
        return self.coach.context

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Vertical(id="body"):
            yield from self.compose_body()
        yield ResourceStatus()
        yield Footer(compact=True)

    def compose_body(self) -> Iterable[Widget]:
        return ()

    def on_mount(self) -> None:
        self.title = self.TITLE_TEXT
        self.coach.resource_signal.subscribe(self, self.on_resource)

    def on_resource(self, resource: Resource) -> None:
        """Called on the UI thread whenever a resource changes state; override to refresh."""

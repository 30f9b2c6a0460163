"""One measured start of a Textual app, run in a fresh interpreter by bench/run.py.

    python bench/tui_probe.py bare|coach STARTED    # prints seconds from STARTED to first frame
    python bench/tui_probe.py memory                # prints RSS once both models are loaded
    python bench/tui_probe.py bare-memory           # RSS of the bare app, the baseline

``STARTED`` is the parent's ``time.time()`` just before it started this process, so interpreter
start-up and imports count, as they do for a person typing ``coach``. The first frame is the
app's ``Ready`` event, which Textual sends after the first screen is composed and drawn.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def rss_mb() -> float:
    """Resident memory of this process, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def app_class(kind: str) -> type:
    """The bare Textual app (a header, a table, a footer) or Coach's app."""
    from textual.app import App

    if kind == "bare":
        from textual.widgets import DataTable, Footer, Header

        class Bare(App):
            def compose(self):
                yield Header()
                yield DataTable()
                yield Footer()

        return Bare
    import coach.cli  # noqa: F401  (what `coach` imports before it opens the app)
    from coach.ui.app import CoachApp

    return CoachApp


def make_app(kind: str, on_ready):
    """An instance whose ``Ready`` handler is ``on_ready(app)`` (Textual dispatches by class)."""
    base = app_class(kind)

    class Probe(base):  # type: ignore[misc, valid-type]
        def on_ready(self) -> None:
            on_ready(self)

    if kind == "bare":
        return Probe()
    from coach.ui.context import CoachContext

    return Probe(CoachContext())  # as `coach` does: settings are read after the first frame


def first_frame(kind: str, started: float) -> None:
    def ready(app) -> None:
        print(f"{time.time() - started:.4f}", flush=True)
        app.exit()

    make_app(kind, ready).run(headless=True, size=(80, 24))


def memory() -> None:
    """Open Coach headless, wait until knowledge and model are ready, print RSS in MB."""
    began = time.time()

    def check(app) -> None:
        states = {key: app.context.state(key) for key in ("knowledge", "model")}
        if any(state == "failed" for state in states.values()):
            print(f"failed {states}", flush=True)
            app.exit(return_code=1)
        elif all(state == "ready" for state in states.values()):
            print(f"{rss_mb():.1f} {time.time() - began:.1f}", flush=True)
            app.exit()

    make_app("coach", lambda app: app.set_interval(0.2, lambda: check(app))).run(
        headless=True, size=(80, 24)
    )


def bare_memory() -> None:
    """The baseline: RSS of the bare Textual app once it has drawn its first frame."""

    def ready(app) -> None:
        print(f"{rss_mb():.1f}", flush=True)
        app.exit()

    make_app("bare", ready).run(headless=True, size=(80, 24))


if __name__ == "__main__":
    if sys.argv[1] == "memory":
        memory()
    elif sys.argv[1] == "bare-memory":
        bare_memory()
    else:
        first_frame(sys.argv[1], float(sys.argv[2]))

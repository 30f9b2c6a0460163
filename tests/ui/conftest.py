"""Fixtures for the TUI: a real database and plugins, a fixed clock, optional real knowledge.

Pilot and snapshot tests build ``CoachApp`` on a ``CoachContext`` whose pieces are already
loaded, so no worker races the test; the knowledge base and the model are off unless a test
asks for them (``kb_context`` uses the real packaged embedding model and the built-in guides).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

FIXED_NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
"""The clock of every UI test, so that timers, dates and snapshots never drift."""


class FixedClock:
    """A clock the test moves by hand (``advance(seconds)``)."""

    def __init__(self, start: datetime = FIXED_NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def make_context(db, host, clock) -> Callable[..., object]:
    """``make_context(kb=..., generator=..., host=...)``: a context on the test's database."""
    from coach.settings import load_settings
    from coach.ui.context import CoachContext

    def make(**pieces: object) -> CoachContext:
        pieces.setdefault("knowledge", False)
        pieces.setdefault("model", False)
        pieces.setdefault("host", host)
        return CoachContext(load_settings(), db=db, clock=clock, **pieces)

    return make


@pytest.fixture
def ui_context(make_context):
    """An empty programme: real SQLite and plugins, no knowledge base, grounded plans."""
    return make_context()


@pytest.fixture
def demo_context(make_context, db):
    """The labelled demo programme (12 pairs) created as of ``FIXED_NOW``."""
    from coach.sessions.demo import create_demo_programme

    create_demo_programme(db, now=FIXED_NOW)
    return make_context()


@pytest.fixture
def kb_context(make_context, synced):
    """Demo-free context with the real knowledge base (all guides and plugin docs)."""
    _home, kb, _host = synced
    return make_context(kb=kb)


@pytest.fixture
def make_app() -> Callable[..., object]:
    """``make_app(context)``: the real app, light theme off, ready for ``run_test``."""
    from coach.ui.app import CoachApp

    def make(context, **options: object) -> CoachApp:
        return CoachApp(context, **options)

    return make

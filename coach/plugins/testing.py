"""Pytest fixtures for plugin authors; pytest loads them automatically once Coach is installed.

def test_my_plugin(plugin_check):
    check = plugin_check(Path(__file__).parent.parent)
    assert check.ok, check.problems
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from coach.plugins.check import PluginCheck, check_plugin
from coach.plugins.models import SessionEvent
from coach.settings import Settings, load_settings


@pytest.fixture
def coach_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on a private, temporary COACH_HOME (the real one is never touched)."""
    monkeypatch.setenv("COACH_HOME", str(tmp_path / "coach-home"))
    monkeypatch.delenv("COACH_CONFIG", raising=False)
    monkeypatch.delenv("COACH_PLUGINS_DIR", raising=False)
    return load_settings()


@pytest.fixture
def plugin_check(coach_settings: Settings) -> Callable[[Path], PluginCheck]:
    """Load a plugin folder exactly as Coach would; returns a PluginCheck."""
    return lambda path: check_plugin(Path(path), coach_settings)


@pytest.fixture
def session_event() -> Callable[..., SessionEvent]:
    """Build a SessionEvent for lifecycle hooks; override any field by keyword."""

    def make(**fields: Any) -> SessionEvent:
        defaults: dict[str, Any] = {
            "session_id": "s-1",
            "pair_id": "p-1",
            "number": 1,
            "topic_ids": [],
            "at": datetime.now(UTC),
        }
        return SessionEvent(**{**defaults, **fields})

    return make

"""The ai-tools plugin loads cleanly and every topic is ready for a real session."""

from pathlib import Path

PLUGIN = Path(__file__).resolve().parent.parent


def test_loads_without_problems(plugin_check):
    check = plugin_check(PLUGIN)
    assert check.ok, check.problems
    assert check.info.warnings == []
    assert len(check.topics) >= 3


def test_every_topic_is_session_ready(plugin_check):
    assert plugin_check(PLUGIN).unready_topics() == []

"""The ai-tools plugin loads cleanly and every topic is ready for a real session."""

from pathlib import Path

PLUGIN = Path(__file__).resolve().parent.parent


def test_loads_without_problems(plugin_check):
    check = plugin_check(PLUGIN)
    assert check.ok, check.problems
    assert check.info.warnings == []
    assert len(check.topics) >= 3


def test_every_topic_is_session_ready(plugin_check):
    check = plugin_check(PLUGIN)
    knowledge = [f for f in check.host.knowledge_files() if f.origin == "plugin:ai-tools"]
    for topic in check.topics:
        assert len(topic.icebreakers) >= 8, topic.id
        assert len(topic.questions) >= 6, topic.id
        assert len(topic.exercises) >= 2, topic.id
        assert all(len(exercise.steps) >= 3 for exercise in topic.exercises), topic.id
        assert topic.mentor_tips and topic.mentee_tips and topic.objectives, topic.id
        assert sum(topic.id in f.topics for f in knowledge) >= 2, topic.id

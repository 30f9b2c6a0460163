"""`coach plugins new`: a working plugin folder, with a test that passes, to edit from."""

from __future__ import annotations

import re
from pathlib import Path

PACK_TOML = """\
[plugin]
name = "{name}"
version = "0.1.0"
description = "Replace with one sentence on what pairs learn with this plugin."{module_line}

[[topics]]
id = "{name}"
title = "{title}"
summary = "Replace with two sentences: what the pair will do, and why it matters to the senior."
tags = ["{name}"]
objectives = ["Try one {title_lower} tool hands-on, with the mentor beside them"]
icebreakers = [
  "Which tool did you last give up on, and why?",
  "What is one thing you would like to be able to do by the end of this session?",
]
questions = [
  "Where does this topic already show up in your team's week?",
  "What would make you trust this way of working?",
]
mentor_tips = ["Start from a task the senior does every week, not from the tool's features."]
mentee_tips = ["Say out loud what you expected to happen before you click."]
knowledge = ["knowledge/{name}.md"]

[[topics.exercises]]
title = "Do one real task together"
goal = "The mentee completes one real task of their own with the tool."
minutes = 20
steps = [
  "Pick a task from the mentee's calendar this week.",
  "The mentor demonstrates once, narrating each click.",
  "The mentee repeats the task at the keyboard while the mentor only talks.",
]
"""

KNOWLEDGE = """\
---
title: {title}: a starting guide
tags: [{name}]
---
# {title}: a starting guide

Replace this guide with what your pairs should know about the topic. Coach ingests it into the
knowledge base, tagged with this plugin and the topic, so suggestions can cite it.

## Why it matters to a senior leader

Say what changes for the leader's team when they are fluent in this.
"""

PLUGIN_PY = '''\
"""{title}: hook implementations for Coach."""

from coach.plugins import hookimpl

__version__ = "0.1.0"

seen_events = []


@hookimpl
def register_knowledge(register):
    # Extra files that are not tied to one topic can be registered here.
    register("knowledge/{name}.md", topics=["{name}"])


@hookimpl
def session_completed(event):
    # React to a finished session; private notes are never part of an event.
    seen_events.append((event.session_id, event.topic_ids))
'''

TEST_PACK = """\
from pathlib import Path

PLUGIN = Path(__file__).resolve().parent.parent


def test_plugin_loads_without_problems(plugin_check):
    check = plugin_check(PLUGIN)
    assert check.ok, check.problems
    assert [topic.id for topic in check.topics] == ["{name}"]


def test_topic_is_ready_for_a_session(plugin_check):
    topic = plugin_check(PLUGIN).topics[0]
    assert topic.icebreakers and topic.questions and topic.exercises
    assert all(question.endswith("?") for question in topic.questions)
"""

TEST_PYTHON_EXTRA = """

def test_session_completed_hook_sees_the_event(plugin_check, session_event):
    check = plugin_check(PLUGIN)
    problems = check.notify("session_completed", session_event(topic_ids=["{name}"]))
    assert problems == []
    import sys

    module = sys.modules["coach_plugin_{module}"]
    assert module.seen_events[-1] == ("s-1", ["{name}"])
"""

README = """\
# {title}

A Coach plugin. Check it with `coach plugins check .` and run its test with `pytest`.
See Coach's plugin guide (docs/plugins.md) for every hook and field.
"""


def scaffold(name: str, directory: Path, python: bool) -> Path:
    """Write the plugin folder ``directory/name``; refuses to touch an existing folder."""
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", name):
        raise ValueError(f"plugin name {name!r}: use lowercase letters, digits and '-'")
    target = directory / name
    if target.exists():
        raise FileExistsError(f"{target} already exists")
    title = name.replace("-", " ").capitalize()
    fields = {
        "name": name,
        "title": title,
        "title_lower": title.lower(),
        "module": name.replace("-", "_"),
    }
    files = {
        "plugin.toml": PACK_TOML.format(
            **fields, module_line='\nmodule = "plugin.py"' if python else ""
        ),
        f"knowledge/{name}.md": KNOWLEDGE.format(**fields),
        "tests/test_plugin.py": TEST_PACK.format(**fields)
        + (TEST_PYTHON_EXTRA.format(**fields) if python else ""),
        "README.md": README.format(**fields),
    }
    if python:
        files["plugin.py"] = PLUGIN_PY.format(**fields)
        # The Python module registers the knowledge file itself; the topic no longer lists it.
        files["plugin.toml"] = files["plugin.toml"].replace(
            f'knowledge = ["knowledge/{name}.md"]\n', ""
        )
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target

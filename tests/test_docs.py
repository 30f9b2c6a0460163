"""The plugin guide is executable: its examples are built into plugins and loaded here."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from coach.plugins.check import check_plugin
from coach.plugins.host import HOOKS
from coach.settings import load_settings
from tests.conftest import run_plugin_tests

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "docs" / "plugins.md"


def guide_examples() -> dict[str, dict[str, str]]:
    """``example -> file -> text`` from fences like ```toml file=plugin.toml example=name```."""
    from markdown_it import MarkdownIt

    examples: dict[str, dict[str, str]] = {}
    for token in MarkdownIt("commonmark").parse(GUIDE.read_text()):
        if token.type != "fence":
            continue
        attributes = dict(re.findall(r"(\w+)=(\S+)", token.info))
        if "example" in attributes:
            files = examples.setdefault(attributes["example"], {})
            files[attributes["file"]] = files.get(attributes["file"], "") + token.content + "\n"
    return examples


def build(example: str, root: Path) -> Path:
    folder = root / example
    for relative, text in guide_examples()[example].items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def test_guide_is_linked_from_the_readme() -> None:
    assert "docs/plugins.md" in (REPO / "README.md").read_text()


def test_every_hook_is_documented() -> None:
    headings = set(re.findall(r"^### (\w+)$", GUIDE.read_text(), flags=re.MULTILINE))
    missing = [hook for hook in HOOKS if hook not in headings]
    assert not missing, f"hooks missing from docs/plugins.md: {missing}"


def test_guide_has_the_examples_it_promises() -> None:
    assert set(guide_examples()) == {"video-calls", "call-notes", "reference"}


@pytest.mark.parametrize("example", ["video-calls", "call-notes", "reference"])
def test_guide_examples_load_cleanly(example: str, tmp_path: Path) -> None:
    check = check_plugin(build(example, tmp_path), load_settings())
    assert check.ok, check.problems
    assert check.info.warnings == []


def test_tutorial_topic_is_complete(tmp_path: Path) -> None:
    check = check_plugin(build("video-calls", tmp_path), load_settings())
    (topic,) = check.topics
    assert topic.id == "video-calls" and len(topic.exercises[0].steps) == 4
    files = [f for f in check.host.knowledge_files() if f.origin == "plugin:video-calls"]
    assert [(f.path.name, f.topics) for f in files] == [
        ("video-call-checklist.md", ("video-calls",))
    ]


def test_reference_example_implements_every_hook(tmp_path: Path) -> None:
    folder = build("reference", tmp_path)
    source = (folder / "plugin.py").read_text()
    assert all(f"def {hook}(" in source for hook in HOOKS)
    check = check_plugin(folder, load_settings())
    host = check.host
    assert "reference-topic" in host.topics
    assert host.prompts["reference_recap"].plugin == "reference"
    assert host.session_templates["reference-quick"].value.minutes == 20
    assert ".reference" in host.loaders
    from coach.matching.models import Candidate

    criteria = {name: c.value.function for name, c in host.matching_criteria.items()}
    mentor = Candidate("m", "Mo", "mentor", timezone="UTC+1", manager="Kim")
    assert (
        criteria["same-timezone"](mentor, Candidate("a", "Al", "mentee", timezone="UTC+1")) == 0.1
    )
    assert criteria["not-peers"](mentor, Candidate("b", "Bea", "mentee", manager="Kim")) is None
    from datetime import UTC, datetime

    from coach.plugins.models import SessionEvent

    event = SessionEvent(session_id="s", pair_id="p", number=1, phase="try", at=datetime.now(UTC))
    for hook in ("session_started", "session_phase_changed", "session_completed"):
        assert host.notify(hook, event) == []
    assert sys.modules["coach_plugin_reference"].events == [
        ("started", "s"),
        ("phase", "try"),
        ("completed", "s"),
    ]


def test_call_notes_example_passes_its_own_tests(tmp_path: Path) -> None:
    folder = build("call-notes", tmp_path)
    result = run_plugin_tests(folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_call_notes_loader_reads_a_file(tmp_path: Path) -> None:
    from coach.knowledge import loaders

    check = check_plugin(build("call-notes", tmp_path), load_settings())
    saved = dict(loaders._LOADERS)
    try:
        check.host.install_loaders()
        document = loaders.load(Path("standup.callnotes"), b"First point.\n\nSecond point.\n")
        assert document.text == "First point.\n\nSecond point."
        assert [document.text[b.start : b.end] for b in document.blocks] == [
            "First point.",
            "Second point.",
        ]
    finally:
        loaders._LOADERS.clear()
        loaders._LOADERS.update(saved)

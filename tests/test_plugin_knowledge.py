"""Plugin knowledge in the default collection: tagged, filterable by topic, removed with it.

Both backends: the embedded store and a real Chroma server (``knowledge_backend``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.knowledge.base import builtin_files
from coach.plugins.host import PluginHost
from coach.settings import load_settings

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("knowledge_backend")]

PACK = """\
[plugin]
name = "field-notes"

[[topics]]
id = "podcasts"
title = "Podcasts for leaders"
summary = "Listening habits."
knowledge = ["knowledge/podcasts.md"]

[[topics]]
id = "newsletters"
title = "Newsletters"
summary = "Reading habits."
knowledge = ["knowledge/newsletters.md"]
"""


def field_notes(root: Path) -> Path:
    folder = root / "field-notes"
    (folder / "knowledge").mkdir(parents=True)
    (folder / "plugin.toml").write_text(PACK)
    (folder / "knowledge" / "podcasts.md").write_text(
        "# Podcasts\n\nListen to one industry podcast on the commute and share one idea with "
        "your team on Monday. Feedback from listeners shapes what gets recorded next.\n"
    )
    (folder / "knowledge" / "newsletters.md").write_text(
        "# Newsletters\n\nSubscribe to two newsletters and skim them on Friday. Give feedback to "
        "the writer when an issue changes your mind.\n"
    )
    return folder


def sync(make_kb, root: Path, **settings):
    host = PluginHost(
        load_settings(plugins_dir=root, **settings), builtins=False, entry_points=False
    )
    kb = make_kb(**settings)
    return kb, kb.sync_managed(builtin_files() + host.knowledge_files())


def test_plugin_knowledge_is_tagged_and_filterable(make_kb, tmp_path: Path) -> None:
    folder = field_notes(tmp_path / "plugins")
    kb, report = sync(make_kb, tmp_path / "plugins")
    podcasts = str(folder / "knowledge" / "podcasts.md")
    assert podcasts in report.added
    record = kb.sources()[podcasts]
    assert (record.origin, record.topics) == ("plugin:field-notes", ("podcasts",))
    assert {r.origin for r in kb.sources().values()} == {"builtin", "plugin:field-notes"}

    only = kb.search("how should I give feedback", top_k=5, topic="newsletters")
    assert only and {Path(h.source).name for h in only} == {"newsletters.md"}
    unfiltered = kb.search("how should I give feedback", top_k=5)
    assert any(Path(h.source).parent.name == "knowledge" and "guide" not in h.source
               for h in unfiltered)  # fmt: skip
    assert kb.search("podcast on the commute", top_k=3, topic="no-such-topic") == []

    _, again = sync(make_kb, tmp_path / "plugins")
    assert again is None, "nothing changed: no ingest, no model"


def test_retagging_and_disabling_update_the_collection(make_kb, tmp_path: Path) -> None:
    folder = field_notes(tmp_path / "plugins")
    sync(make_kb, tmp_path / "plugins")
    toml = folder / "plugin.toml"
    toml.write_text(toml.read_text().replace('id = "newsletters"', 'id = "reading"'))
    kb, report = sync(make_kb, tmp_path / "plugins")
    newsletters = str(folder / "knowledge" / "newsletters.md")
    assert report.updated == [newsletters]
    assert kb.sources()[newsletters].topics == ("reading",)
    assert kb.search("skim on Friday", top_k=1, topic="reading")[0].source == newsletters
    assert kb.search("skim on Friday", top_k=3, topic="newsletters") == []

    kb, _ = sync(make_kb, tmp_path / "plugins", plugins_disabled=["field-notes"])
    assert all(r.origin == "builtin" for r in kb.sources().values())
    user_file = tmp_path / "mine.md"
    user_file.write_text("# Mine\n\nMy own notes about podcasts.\n")
    kb.add([user_file])
    kb, _ = sync(make_kb, tmp_path / "plugins", plugins_disabled=["field-notes"])
    assert kb.sources()[str(user_file)].origin == "user", "the user's own files stay"

"""The four built-in plugins: both kinds of plugin, the promised topics, no clashes."""

from __future__ import annotations

from coach.plugins.discovery import builtin_plugins_dir
from coach.plugins.host import PluginHost
from coach.settings import load_settings


def test_builtins_load_cleanly_and_cover_the_programme_domains() -> None:
    host = PluginHost(load_settings(), entry_points=False, folders=[])
    assert {p.name for p in host.plugins} == {
        "social-media",
        "remote-work",
        "ai-tools",
        "inclusive-culture",
    }
    assert all(p.status == "ok" and not p.warnings for p in host.plugins), host.warnings
    assert {"social-media", "remote-work"} <= set(host.topics)
    assert all(len(p.topics) >= 3 for p in host.plugins)


def test_both_kinds_of_plugin_are_shipped_as_examples() -> None:
    folders = {folder.name: folder for folder in builtin_plugins_dir().iterdir()}
    python = [name for name, folder in folders.items() if (folder / "plugin.py").exists()]
    declarative = [name for name in folders if name not in python]
    assert python == ["remote-work"]
    assert sorted(declarative) == ["ai-tools", "inclusive-culture", "social-media"]


def test_every_builtin_knowledge_file_is_tagged_with_its_topic() -> None:
    host = PluginHost(load_settings(), entry_points=False, folders=[])
    files = host.knowledge_files()
    assert len(files) >= 24
    assert all(f.topics and f.origin.startswith("plugin:") for f in files)

"""The plugin framework: discovery, isolation, validation, precedence and every hook."""

from __future__ import annotations

import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from coach import hookspecs
from coach.plugins.host import HOOKS, PluginHost
from coach.plugins.models import SessionEvent
from coach.settings import load_settings

TOPIC = """
[[topics]]
id = "{id}"
title = "Title of {id}"
summary = "What the pair does."
icebreakers = ["One light opener."]
questions = ["What would change?"]
"""


def make_plugin(root: Path, name: str, toml: str | None = None, **files: str) -> Path:
    """A folder plugin under ``root``; ``files`` maps names like ``knowledge__a_md`` (for
    ``knowledge/a.md``) to their text."""
    folder = root / name
    folder.mkdir(parents=True)
    if toml is not None:
        (folder / "plugin.toml").write_text(textwrap.dedent(toml))
    for relative, text in files.items():
        stem, _, suffix = relative.replace("__", "/").rpartition("_")
        path = folder / f"{stem}.{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return folder


def pack(name: str, *topic_ids: str, extra: str = "") -> str:
    head = f'[plugin]\nname = "{name}"\nversion = "1.2.3"\ndescription = "About {name}."\n'
    return head + extra + "".join(TOPIC.format(id=t) for t in topic_ids)


def host_for(tmp_path: Path, builtins: bool = False, **settings) -> PluginHost:
    return PluginHost(
        load_settings(plugins_dir=tmp_path / "plugins", **settings),
        builtins=builtins,
        entry_points=False,
    )


def event(**fields) -> SessionEvent:
    base = {"session_id": "s1", "pair_id": "p1", "number": 2, "at": datetime.now(UTC)}
    return SessionEvent(**{**base, **fields})


# --- every hook has a test ---------------------------------------------------------------------


def test_every_hook_has_a_test() -> None:
    names = {name for name in globals() if name.startswith("test_hook_")}
    missing = [hook for hook in HOOKS if f"test_hook_{hook}" not in names]
    assert HOOKS and not missing, f"hooks without a test_hook_<name>: {missing}"


def test_hookspecs_are_bodiless_and_documented() -> None:
    import inspect

    for hook in HOOKS:
        function = getattr(hookspecs, hook)
        assert inspect.getdoc(function), f"{hook} has no docstring"
        source = inspect.getsource(function).rstrip()
        assert source.endswith('"""'), f"{hook} has a body besides its docstring"


def test_hook_register_topics(tmp_path: Path) -> None:
    make_plugin(tmp_path / "plugins", "alpha", pack("alpha", "first-topic", "second-topic"))
    host = host_for(tmp_path)
    assert sorted(host.topics) == ["first-topic", "second-topic"]
    assert host.topic("first-topic").questions == ["What would change?"]
    assert host.plugin("alpha").topics == ["first-topic", "second-topic"]
    assert host.plugin("alpha").status == "ok" and host.warnings == []


def test_hook_register_knowledge(tmp_path: Path) -> None:
    extra = '[[knowledge]]\npath = "knowledge/shared.md"\ntopics = ["one", "two"]\n'
    make_plugin(
        tmp_path / "plugins",
        "know",
        pack("know", "one", "two", extra=extra)
        + 'knowledge = ["knowledge/two.md"]\n',  # appended to the last topic ("two")
        knowledge__shared_md="# Shared\n\nFor both topics.\n",
        knowledge__two_md="# Two\n\nOnly topic two.\n",
    )
    files = {f.path.name: f for f in host_for(tmp_path).knowledge_files()}
    assert files["shared.md"].topics == ("one", "two")
    assert files["two.md"].topics == ("two",)
    assert {f.origin for f in files.values()} == {"plugin:know"}


def test_hook_register_prompts(tmp_path: Path) -> None:
    make_plugin(
        tmp_path / "plugins",
        "prompter",
        pack("prompter", extra='[prompts]\nicebreakers = "prompts/icebreakers.md"\n'),
        prompts__icebreakers_md="Write {{ count }} icebreakers about {{ topic }}.",
    )
    host = host_for(tmp_path)
    assert host.prompts["icebreakers"].value.startswith("Write {{ count }}")
    assert host.prompts["icebreakers"].plugin == "prompter"


def test_hook_register_session_templates(tmp_path: Path) -> None:
    extra = """
    [[session_templates]]
    id = "lunch"
    title = "Lunch-and-learn"
    phases = [
      { id = "eat", title = "Eat and catch up", minutes = 10 },
      { id = "demo", title = "One demo", minutes = 20 },
    ]
    """
    make_plugin(tmp_path / "plugins", "lunch", pack("lunch", extra=textwrap.dedent(extra)))
    template = host_for(tmp_path).session_templates["lunch"].value
    assert [p.id for p in template.phases] == ["eat", "demo"] and template.minutes == 30


def test_hook_register_loaders(tmp_path: Path) -> None:
    from coach.knowledge import loaders

    make_plugin(
        tmp_path / "plugins",
        "csvish",
        '[plugin]\nname = "csvish"\nmodule = "plugin.py"\n',
        plugin_py="""
        from coach.plugins import Block, Document, hookimpl

        @hookimpl
        def register_loaders(register):
            register([".rows"], lambda path, data: Document(
                data.decode(), path.stem, [Block((), 0, len(data.decode()))]))
        """,
    )
    host = host_for(tmp_path)
    saved = dict(loaders._LOADERS)
    try:
        host.install_loaders()
        document = loaders.load(Path("a.rows"), b"one row of text")
        assert document.text == "one row of text"
    finally:
        loaders._LOADERS.clear()
        loaders._LOADERS.update(saved)


def test_hook_register_matching_criteria(tmp_path: Path) -> None:
    from coach.matching.models import Candidate, MatchRules
    from coach.matching.service import criteria_from_host, propose

    make_plugin(
        tmp_path / "plugins",
        "sites",
        '[plugin]\nname = "sites"\nmodule = "plugin.py"\n',
        plugin_py="""
        from coach.plugins import hookimpl

        calls = []

        def same_site(mentor, mentee):
            return 0.5 if mentor.department[:1] == mentee.department[:1] else 0.0

        def not_ann_and_di(mentor, mentee):
            return None if (mentor.name, mentee.name) == ("Ann", "Di") else 0.0

        def broken(mentor, mentee):
            calls.append(1)
            raise RuntimeError("no site list")

        @hookimpl
        def register_matching_criteria(register):
            register("same-site", same_site)
            register("not-ann-di", not_ann_and_di)
            register("broken", broken)
            register("bad name!", same_site)
        """,
    )
    host = host_for(tmp_path)
    assert list(host.matching_criteria) == ["same-site", "not-ann-di", "broken"]
    assert "matching criterion name 'bad name!'" in host.plugin("sites").errors[0]

    class Flat:  # every text the same vector: only the criteria tell pairs apart
        name = "flat"

        def embed(self, texts):
            import numpy as np

            return np.ones((len(texts), 2)) / np.sqrt(2)

    people = [
        Candidate("ann", "Ann", "mentor", department="A1", skills=("x",)),
        Candidate("bo", "Bo", "mentor", department="B1", skills=("x",)),
        Candidate("cy", "Cy", "mentee", department="B2", goals=("y",)),
        Candidate("di", "Di", "mentee", department="B1", goals=("y",)),
    ]
    proposal = propose(
        people, embedder=Flat(), rules=MatchRules(), criteria=criteria_from_host(host)
    )
    # Di shares Bo's department and not-ann-di rules out Ann; same-site favours Bo for Cy.
    (pair,) = proposal.pairs
    assert (pair.mentor.name, pair.mentee.name, pair.score) == ("Bo", "Cy", 1.5)
    assert ("same-site", "Bo", "Cy", 0.5) in [tuple(vars(r).values()) for r in pair.reasons]
    assert [u.reason for u in proposal.unmatched if u.candidate.name == "Di"] == [
        "no mentor left without a clash: ruled out by not-ann-di (1), same department (1)"
    ]
    (broken,) = [n for n in proposal.notices if "broken" in n]
    assert "plugin 'sites' failed and was ignored: RuntimeError: no site list" in broken
    assert sys.modules["coach_plugin_sites"].calls == [1]  # reported once, then ignored


@pytest.mark.parametrize("hook", ["session_started", "session_phase_changed", "session_completed"])
def _event_hook_case(tmp_path: Path, hook: str) -> None:
    """Shared body for the three lifecycle hook tests below."""
    make_plugin(
        tmp_path / "plugins",
        "listener",
        '[plugin]\nname = "listener"\nmodule = "plugin.py"\n',
        plugin_py=f"""
        from coach.plugins import hookimpl

        received = []

        @hookimpl
        def {hook}(event):
            received.append((event.session_id, event.phase, event.previous_phase))
        """,
    )
    host = host_for(tmp_path)
    assert host.notify(hook, event(phase="recap", previous_phase="check-in")) == []
    assert sys.modules["coach_plugin_listener"].received == [("s1", "recap", "check-in")]


def test_hook_session_started(tmp_path: Path) -> None:
    _event_hook_case(tmp_path, "session_started")


def test_hook_session_phase_changed(tmp_path: Path) -> None:
    _event_hook_case(tmp_path, "session_phase_changed")


def test_hook_session_completed(tmp_path: Path) -> None:
    _event_hook_case(tmp_path, "session_completed")


# --- isolation and validation ------------------------------------------------------------------


def test_import_error_fails_only_that_plugin(tmp_path: Path) -> None:
    make_plugin(tmp_path / "plugins", "good", pack("good", "good-topic"))
    make_plugin(tmp_path / "plugins", "broken", plugin_py="import not_a_module_anywhere\n")
    host = host_for(tmp_path)
    broken = host.plugin("broken")
    assert broken.status == "failed"
    assert "ModuleNotFoundError: No module named 'not_a_module_anywhere'" in broken.errors[0]
    assert "plugin.py:1" in broken.errors[0]
    assert list(host.topics) == ["good-topic"]
    assert len([w for w in host.warnings if "broken" in w]) == 1


def test_raising_hook_is_reported_once_with_plugin_and_hook(tmp_path: Path) -> None:
    make_plugin(
        tmp_path / "plugins",
        "flaky",
        pack("flaky", "kept-topic", extra='module = "plugin.py"\n'),
        plugin_py="""
        from coach.plugins import hookimpl

        @hookimpl
        def register_session_templates(register):
            raise RuntimeError("template file went missing")

        @hookimpl
        def session_started(event):
            raise KeyError("boom")
        """,
    )
    host = host_for(tmp_path)
    flaky = host.plugin("flaky")
    assert flaky.status == "degraded"
    assert flaky.errors == [
        "hook register_session_templates raised RuntimeError: template file went missing"
        f" ({tmp_path / 'plugins' / 'flaky' / 'plugin.py'}:6)"
    ]
    assert "kept-topic" in host.topics, "the plugin's other hooks still count"
    problems = host.notify("session_started", event())
    assert len(problems) == 1 and "flaky" in problems[0] and "session_started" in problems[0]


def test_invalid_topic_names_file_topic_and_field(tmp_path: Path) -> None:
    bad = pack("schema", "fine") + textwrap.dedent("""
        [[topics]]
        id = "broken-topic"
        title = "Broken"
        summary = "Has a question without a question mark."
        questions = ["This is not a question"]
        exercises = [{ title = "No steps", goal = "Nothing", steps = [] }]
        """)
    make_plugin(tmp_path / "plugins", "schema", bad)
    host = host_for(tmp_path)
    (error,) = host.plugin("schema").errors
    assert error.startswith("plugin.toml: topic 'broken-topic': ")
    assert "questions: Value error, question 0 does not end with '?'" in error
    assert "exercises.0.steps:" in error
    assert list(host.topics) == ["fine"] and host.plugin("schema").status == "degraded"


def test_invalid_plugin_table_fails_with_the_file_named(tmp_path: Path) -> None:
    make_plugin(tmp_path / "plugins", "badmeta", '[plugin]\nname = "Bad Name"\n')
    make_plugin(tmp_path / "plugins", "badtoml", '[plugin\nname = "x"\n')
    host = host_for(tmp_path)
    assert (
        "plugin.toml: plugin.name: String should match pattern" in host.plugin("badmeta").errors[0]
    )
    assert "not valid TOML" in host.plugin("badtoml").errors[0]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../outside.md", "leaves the plugin folder"),
        ("/etc/passwd", "must be relative to the plugin folder"),
        ("link/outside.md", "resolves outside the plugin folder"),
        ("knowledge/missing.md", "does not exist"),
    ],
)
def test_paths_stay_inside_the_plugin_folder(tmp_path: Path, path: str, message: str) -> None:
    (tmp_path / "outside.md").write_text("# Secret\n")
    folder = make_plugin(
        tmp_path / "plugins", "escape", pack("escape", "t") + f'knowledge = ["{path}"]\n'
    )
    (folder / "link").symlink_to(tmp_path)
    host = host_for(tmp_path)
    (error,) = host.plugin("escape").errors
    assert error.startswith("plugin.toml: topic 't': ") and message in error
    assert host.knowledge_files() == []
    assert "t" in host.topics, "the topic itself is still usable"


def test_module_path_escape_fails_the_plugin(tmp_path: Path) -> None:
    make_plugin(tmp_path / "plugins", "sneaky", '[plugin]\nname = "sneaky"\nmodule = "../x.py"\n')
    assert "leaves the plugin folder" in host_for(tmp_path).plugin("sneaky").errors[0]


def test_duplicate_topic_ids_resolve_deterministically_with_a_warning(tmp_path: Path) -> None:
    make_plugin(tmp_path / "plugins", "zeta", pack("zeta", "shared-topic"))
    make_plugin(tmp_path / "plugins", "alpha", pack("alpha", "shared-topic"))
    for _ in range(2):
        host = host_for(tmp_path)
        assert host.topics["shared-topic"].plugin == "alpha"
        assert host.plugin("zeta").warnings == [
            "topic 'shared-topic' is also provided by plugin 'alpha', which takes precedence"
        ]


def test_folder_plugins_take_precedence_over_builtins(tmp_path: Path) -> None:
    make_plugin(tmp_path / "plugins", "my-social", pack("my-social", "social-media"))
    host = host_for(tmp_path, builtins=True)
    assert host.topics["social-media"].plugin == "my-social"
    builtin = host.plugin("social-media")
    assert any("social-media" in w and "my-social" in w for w in builtin.warnings)


def test_misspelled_hook_is_caught(tmp_path: Path) -> None:
    make_plugin(
        tmp_path / "plugins",
        "typo",
        plugin_py="""
        from coach.plugins import hookimpl

        @hookimpl
        def register_topic(register):
            pass
        """,
    )
    host = host_for(tmp_path)
    assert host.plugin("typo").status == "failed"
    assert host.plugin("typo").errors == [
        "implements unknown hook 'register_topic' (did you mean 'register_topics'?)"
    ]


def test_wrong_hook_arguments_are_caught(tmp_path: Path) -> None:
    make_plugin(
        tmp_path / "plugins",
        "args",
        plugin_py="""
        from coach.plugins import hookimpl

        @hookimpl
        def register_topics(callback):
            pass
        """,
    )
    error = host_for(tmp_path).plugin("args").errors[0]
    assert "register_topics" in error and "callback" in error


def test_disabled_plugins_are_not_loaded(tmp_path: Path) -> None:
    make_plugin(tmp_path / "plugins", "quiet", plugin_py="raise SystemExit('must not import')\n")
    make_plugin(tmp_path / "plugins", "loud", pack("loud", "loud-topic"))
    host = host_for(tmp_path, plugins_disabled=["quiet", "loud"])
    assert {p.name: p.status for p in host.plugins} == {"quiet": "disabled", "loud": "disabled"}
    assert host.topics == {}


def test_two_plugins_with_one_name(tmp_path: Path) -> None:
    make_plugin(tmp_path / "plugins", "one", pack("same", "a-topic"))
    make_plugin(tmp_path / "plugins", "two", pack("same", "b-topic"))
    host = host_for(tmp_path)
    assert [p.status for p in host.plugins] == ["ok", "failed"]
    assert "another plugin named 'same'" in host.plugins[1].errors[0]
    assert list(host.topics) == ["a-topic"]


def test_user_plugins_folder_under_coach_home(tmp_path: Path, coach_home: Path) -> None:
    make_plugin(coach_home / "plugins", "homegrown", pack("homegrown", "home-topic"))
    host = PluginHost(load_settings(), builtins=False, entry_points=False)
    assert host.plugin("homegrown").source == "folder" and "home-topic" in host.topics


def test_entry_point_plugins_load_and_fail_in_isolation(tmp_path: Path, monkeypatch) -> None:
    """A real installed distribution (a .dist-info on sys.path) exposing the `coach` group."""
    site = tmp_path / "site"
    package = site / "coach_demo_plugin"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        textwrap.dedent("""
        '''Demo topics shipped as a package.'''
        from coach.plugins import Topic, hookimpl

        @hookimpl
        def register_topics(register):
            register(Topic(id="packaged-topic", title="Packaged", summary="From a wheel."))
        """)
    )
    (site / "broken_demo_plugin.py").write_text("raise ImportError('needs a missing library')\n")
    dist = site / "coach_demo_plugin-2.0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: coach-demo-plugin\nVersion: 2.0.0\n"
    )
    (dist / "entry_points.txt").write_text(
        "[coach]\ndemo = coach_demo_plugin\nbroken = broken_demo_plugin\n"
    )
    monkeypatch.syspath_prepend(str(site))
    host = PluginHost(load_settings(), builtins=False, folders=[])
    demo, broken = host.plugin("demo"), host.plugin("broken")
    assert (demo.source, demo.version, demo.status) == ("entry point", "2.0.0", "ok")
    assert demo.description == "Demo topics shipped as a package."
    assert host.topics["packaged-topic"].plugin == "demo"
    assert broken.status == "failed" and "needs a missing library" in broken.errors[0]


def test_plugin_loader_errors_become_skip_reasons(tmp_path: Path) -> None:
    from coach.knowledge import loaders
    from coach.knowledge.documents import Skip

    make_plugin(
        tmp_path / "plugins",
        "crashy",
        plugin_py="""
        from coach.plugins import hookimpl

        def explode(path, data):
            return 1 / 0

        @hookimpl
        def register_loaders(register):
            register([".boom"], explode)
        """,
    )
    saved = dict(loaders._LOADERS)
    try:
        host_for(tmp_path).install_loaders()
        with pytest.raises(Skip, match="loader from plugin 'crashy' failed: ZeroDivisionError"):
            loaders.load(Path("x.boom"), b"data")
    finally:
        loaders._LOADERS.clear()
        loaders._LOADERS.update(saved)


def test_unready_topics_names_what_a_thin_topic_lacks(tmp_path: Path) -> None:
    from coach.plugins.check import check_plugin

    folder = make_plugin(tmp_path / "plugins", "thin", pack("thin", "thin-topic"))
    gaps = check_plugin(folder, load_settings()).unready_topics()
    assert gaps == [
        "thin-topic: 1 icebreakers, needs 8",
        "thin-topic: 1 questions, needs 6",
        "thin-topic: 0 exercises, needs 2",
        "thin-topic: 0 knowledge files, needs 2",
        "thin-topic: needs objectives, mentor tips and mentee tips",
    ]
    assert check_plugin(folder, load_settings()).unready_topics(
        icebreakers=1, questions=1, exercises=0, knowledge=0
    ) == ["thin-topic: needs objectives, mentor tips and mentee tips"]

"""`coach plugins` and `coach topics` as a facilitator uses them, in fresh processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import run_coach, run_plugin_tests


def test_plugins_list_json_shows_every_builtin() -> None:
    result = run_coach("plugins", "list", "--json")
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert set(plugins) >= {"social-media", "remote-work", "ai-tools", "inclusive-culture"}
    for plugin in plugins.values():
        assert plugin["source"] == "builtin" and plugin["status"] == "ok", plugin
        assert plugin["topics"] >= 3 and plugin["version"]


def test_plugins_list_reports_a_broken_plugin_and_keeps_going(tmp_path: Path) -> None:
    broken = tmp_path / "extra" / "broken"
    broken.mkdir(parents=True)
    (broken / "plugin.py").write_text("import missing_dependency_xyz\n")
    env = {"COACH_PLUGINS_DIR": str(tmp_path / "extra")}
    result = run_coach("plugins", "list", "--json", env=env)
    assert result.returncode == 0
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert plugins["broken"]["status"] == "failed" and plugins["broken"]["source"] == "folder"
    assert plugins["social-media"]["status"] == "ok"
    warnings = [line for line in result.stderr.splitlines() if "broken" in line]
    assert len(warnings) == 1 and "missing_dependency_xyz" in warnings[0]
    table = run_coach("plugins", "list", env=env)
    assert "failed" in table.stdout and "Traceback" not in table.stderr


def test_topics_list_and_show() -> None:
    listed = run_coach("topics", "list", "--json")
    ids = {t["id"] for t in json.loads(listed.stdout)}
    assert {"social-media", "remote-work"} <= ids and len(ids) >= 12
    shown = run_coach("topics", "show", "remote-work")
    assert shown.returncode == 0
    for heading in ("Icebreakers", "Discussion questions", "Exercise:", "Tips for the mentor"):
        assert heading in shown.stdout
    as_json = json.loads(run_coach("topics", "show", "social-media", "--json").stdout)
    assert as_json["plugin"] == "social-media" and len(as_json["icebreakers"]) >= 8
    unknown = run_coach("topics", "show", "no-such-topic")
    assert unknown.returncode == 1 and "unknown topic" in unknown.stderr


@pytest.mark.parametrize("python", [False, True], ids=["pack", "python"])
def test_scaffolded_plugin_passes_check_and_its_own_test(tmp_path: Path, python: bool) -> None:
    args = ["plugins", "new", "team-rituals", "--dir", str(tmp_path)]
    created = run_coach(*args, *(["--python"] if python else []))
    assert created.returncode == 0, created.stderr
    folder = tmp_path / "team-rituals"
    assert (folder / "plugin.py").exists() == python
    check = run_coach("plugins", "check", str(folder))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "team-rituals 0.1.0: ok" in check.stdout
    tests = run_plugin_tests(folder)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert f"{3 if python else 2} passed" in tests.stdout
    again = run_coach(*args)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_scaffold_lands_in_the_user_plugins_folder_and_is_live(coach_home: Path) -> None:
    assert run_coach("plugins", "new", "my-topic").returncode == 0
    assert (coach_home / "plugins" / "my-topic" / "plugin.toml").is_file()
    topics = {t["id"]: t for t in json.loads(run_coach("topics", "list", "--json").stdout)}
    assert topics["my-topic"]["plugin"] == "my-topic"


def test_check_reports_problems_with_exit_status_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad-pack"
    (bad / "knowledge").mkdir(parents=True)
    (bad / "knowledge" / "empty.md").write_text("")
    (bad / "plugin.toml").write_text(
        '[plugin]\nname = "bad-pack"\n\n[[topics]]\nid = "bad-topic"\ntitle = "T"\n'
        'summary = "S"\nknowledge = ["knowledge/empty.md", "../../etc/passwd"]\n'
        'questions = ["Not a question"]\n'
    )
    result = run_coach("plugins", "check", str(bad))
    assert result.returncode == 1
    assert "plugin.toml: topic 'bad-topic': questions" in result.stdout
    bad.joinpath("plugin.toml").write_text(
        bad.joinpath("plugin.toml").read_text().replace('"Not a question"', '"Fine?"')
    )
    result = run_coach("plugins", "check", str(bad), "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["status"] == "degraded"
    assert any("leaves the plugin folder" in e for e in report["errors"])
    assert any("knowledge/empty.md: empty file" in e for e in report["errors"])
    assert run_coach("plugins", "check", str(tmp_path / "nothing")).returncode == 2


def test_wheel_carries_builtins_and_loads_them_from_site_packages(tmp_path: Path) -> None:
    """A non-editable install: built-in plugins and guides come from inside the package."""
    repo = Path(__file__).resolve().parent.parent
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(repo)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    target = tmp_path / "site"
    (wheel,) = wheels.glob("coach-*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    probe = (
        "import json, coach.plugins.host as h, coach.knowledge.base as b; "
        "from coach.settings import load_settings; "
        "host = h.PluginHost(load_settings(), entry_points=False, folders=[]); "
        "print(json.dumps({'file': h.__file__, 'guides': str(b.builtin_knowledge_dir()), "
        "'plugins': {p.name: [p.source, p.status, p.location, len(p.topics)] "
        "for p in host.plugins}}))"
    )
    # -S: no .pth files, so the editable install of this checkout cannot shadow the wheel; the
    # dependencies still come from this environment's site-packages, after the wheel.
    dependencies = sysconfig.get_paths()["purelib"]
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        env={
            "PYTHONPATH": f"{target}{os.pathsep}{dependencies}",
            "COACH_HOME": str(tmp_path / "home"),
            "PATH": "",
        },
        cwd=tmp_path,  # `python -c` puts the working directory first on sys.path
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["file"].startswith(str(target))
    assert found["guides"].startswith(str(target / "coach" / "_builtin" / "knowledge"))
    assert len(found["plugins"]) == 4
    for name, (source, status, location, topics) in found["plugins"].items():
        assert (source, status) == ("builtin", "ok"), name
        assert location.startswith(str(target / "coach" / "_builtin" / "plugins"))
        assert topics >= 3

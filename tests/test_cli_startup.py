"""`coach --help` and `--version` must stay instant: no heavy library may be imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = {
    "torch",
    "transformers",
    "sentence_transformers",
    "chromadb",
    "textual",
    "pydantic_ai",
    "llama_cpp",
    "onnxruntime",
    "bm25s",
}


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["knowledge", "--help"],
        ["knowledge", "search", "--help"],
        ["people", "--help"],
        ["pairs", "--help"],
        ["report", "--help"],
        ["prompts", "--help"],
        ["prepare", "--help"],
    ],
)
def test_startup_imports_no_heavy_module(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "coach", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert imported, "importtime printed nothing: the check would be vacuous"
    assert not imported & HEAVY, f"`coach {' '.join(args)}` imported {imported & HEAVY}"


def test_version_prints_package_version() -> None:
    from coach import __version__

    result = subprocess.run(
        [sys.executable, "-m", "coach", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"coach {__version__}"


def test_a_server_lost_in_the_middle_of_a_command_is_one_line(monkeypatch, capsys) -> None:
    """Commands guard their first connection; a server lost later still ends in one line."""
    import coach.cli
    from coach.knowledge.server import KnowledgeServerMismatch, KnowledgeServerUnavailable
    from coach.sessions.db import DatabaseUnavailable

    for lost in (
        DatabaseUnavailable("cannot reach the programme database at postgresql://db:5432/x"),
        KnowledgeServerUnavailable("the Chroma server at http://kb:8000 is unavailable"),
        KnowledgeServerMismatch("the Chroma server at http://kb:8000 runs 0.6.3"),
    ):

        def command(lost=lost) -> None:
            raise lost

        monkeypatch.setattr(coach.cli, "app", command)
        with pytest.raises(SystemExit) as ended:
            coach.cli.main()
        assert ended.value.code == 1
        assert capsys.readouterr().err.strip() == f"coach: error: {lost}"

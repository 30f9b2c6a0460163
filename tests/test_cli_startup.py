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

"""The torch backend's vectors from a float ONNX export: what keeps torch out of the TUI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TEXTS = [
    "My director gets defensive when I point out problems.",
    "Async updates instead of a status meeting, " * 30,  # longer than the 256-token limit
    "ok",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[float]], bool]:
    """Export once in a fresh interpreter, embed there, and report whether torch was imported."""
    models = tmp_path_factory.mktemp("models")
    code = (
        "import json, sys, pathlib\n"
        "from coach.knowledge.embedder import OnnxFp32Embedder\n"
        "embedder = OnnxFp32Embedder(pathlib.Path(sys.argv[1]))\n"
        "vectors = embedder.embed(json.loads(sys.argv[2])).tolist()\n"
        "print(json.dumps({'vectors': vectors, 'torch': 'torch' in sys.modules}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(models), json.dumps(TEXTS)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    return models, result["vectors"], result["torch"]


def test_fp32_export_gives_torch_vectors_without_importing_torch(exported, torch_embedder):
    models, vectors, torch_imported = exported
    assert not torch_imported  # the export ran in a child process
    assert (models / "all-MiniLM-L6-v2-fp32.onnx").is_file()
    expected = torch_embedder.embed(TEXTS)
    cosines = (np.array(vectors) * expected).sum(axis=1)
    assert cosines.min() > 0.9999, cosines


def test_a_torch_built_index_is_searched_alike(exported, synced):
    from coach.knowledge.base import KnowledgeBase
    from coach.knowledge.embedder import OnnxFp32Embedder

    models, _, _ = exported
    _home, kb, _host = synced
    light = KnowledgeBase(kb.settings, embedder=OnnxFp32Embedder(models))
    for query in ("how do I give feedback upward", "captions in video calls", "prompting"):
        expected = [hit.chunk_id for hit in kb.search(query, top_k=5)]
        assert [hit.chunk_id for hit in light.search(query, top_k=5)] == expected


def test_an_embedder_of_another_vector_space_is_refused(coach_home):
    from coach.knowledge.base import KnowledgeBase
    from coach.settings import load_settings

    class Other:
        name = "all-MiniLM-L6-v2/onnx-int8-v2"

        def embed(self, texts):  # pragma: no cover - never called
            raise AssertionError

    with pytest.raises(ValueError, match="is not all-MiniLM-L6-v2/torch"):
        KnowledgeBase(load_settings(), embedder=Other())

"""discover(): the files to ingest under the given paths, with a reason for each one left out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from coach.knowledge.discover import Candidate, discover

# --- helpers -----------------------------------------------------------------------------------


def touch(root: Path, *relative: str) -> None:
    for name in relative:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"contents of {name}\n")


def found(paths: list[Path], **kwargs) -> list[Candidate]:
    return list(discover(paths, **kwargs))


def relative_ok(candidates: list[Candidate], root: Path) -> list[str]:
    """Paths (relative to root) of the candidates without a problem, in the order yielded."""
    return [str(c.path.relative_to(root)) for c in candidates if c.problem is None]


def problem_for(candidates: list[Candidate], path: Path) -> str | None:
    [match] = [c for c in candidates if c.path == path]
    return match.problem


# --- walking -----------------------------------------------------------------------------------


def test_folders_are_walked_recursively_in_sorted_order(tmp_path):
    touch(tmp_path, "b.md", "a.txt", "sub/z.md", "sub/deeper/c.html", "c/only.pdf")
    candidates = found([tmp_path])
    assert relative_ok(candidates, tmp_path) == [
        "a.txt",
        "b.md",
        "c/only.pdf",
        "sub/deeper/c.html",
        "sub/z.md",
    ]
    assert all(c.problem is None for c in candidates)


def test_hidden_files_and_folders_are_skipped_silently(tmp_path):
    touch(tmp_path, "visible.md", ".hidden.md", ".git/config", ".venv/lib/x.md", "sub/.secret")
    assert relative_ok(found([tmp_path]), tmp_path) == ["visible.md"]
    assert len(found([tmp_path])) == 1


def test_empty_folder_yields_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    assert found([tmp_path / "empty"]) == []


def test_a_single_file_can_be_given(tmp_path):
    touch(tmp_path, "one.md", "two.md")
    assert found([tmp_path / "one.md"]) == [Candidate(tmp_path / "one.md")]


def test_paths_are_absolute_even_when_given_relative(tmp_path, monkeypatch):
    touch(tmp_path, "notes/a.md")
    monkeypatch.chdir(tmp_path)
    candidates = found([Path("notes"), Path("notes/../notes/a.md")])
    assert candidates == [Candidate(tmp_path / "notes" / "a.md")]
    assert candidates[0].path.is_absolute()


def test_home_directory_is_expanded(tmp_path, monkeypatch):
    touch(tmp_path, "a.md")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert found([Path("~/a.md")]) == [Candidate(tmp_path / "a.md")]


def test_symlinks_are_not_resolved_in_reported_paths(tmp_path):
    touch(tmp_path, "real/notes.md")
    (tmp_path / "alias.md").symlink_to(tmp_path / "real" / "notes.md")
    candidates = found([tmp_path])
    assert relative_ok(candidates, tmp_path) == ["alias.md", "real/notes.md"]


def test_the_same_file_given_twice_is_yielded_once(tmp_path):
    touch(tmp_path, "a.md", "b.md")
    a = tmp_path / "a.md"
    candidates = found([a, a, tmp_path, Path(f"{tmp_path}/./a.md")])
    assert relative_ok(candidates, tmp_path) == ["a.md", "b.md"]


def test_a_missing_path_given_twice_is_reported_once(tmp_path):
    missing = tmp_path / "missing.md"
    assert found([missing, missing]) == [Candidate(missing, "no such file")]


def test_excluded_folders_are_never_entered(tmp_path):
    touch(tmp_path, "notes/a.md", "data/knowledge/manifest.json", "data/b.md")
    candidates = found([tmp_path], exclude=(tmp_path / "data",))
    assert relative_ok(candidates, tmp_path) == ["notes/a.md"]


def test_missing_exclude_folder_is_ignored(tmp_path):
    touch(tmp_path, "a.md")
    assert relative_ok(found([tmp_path], exclude=(tmp_path / "nope",)), tmp_path) == ["a.md"]


# --- problems ----------------------------------------------------------------------------------


def test_dangling_symlink_is_a_broken_symlink(tmp_path):
    (tmp_path / "dangling.md").symlink_to(tmp_path / "gone.md")
    candidates = found([tmp_path])
    assert "broken symlink" in problem_for(candidates, tmp_path / "dangling.md")


def test_file_symlink_loop_is_reported(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    candidates = found([tmp_path])
    assert [c.path.name for c in candidates] == ["a", "b"]
    assert all(c.problem == "symlink loop" for c in candidates)


def test_directory_symlink_loop_terminates_and_lists_each_file_once(tmp_path):
    touch(tmp_path, "top.md", "sub/inner.md")
    (tmp_path / "sub" / "link").symlink_to("..")
    (tmp_path / "sub" / "self").symlink_to(".")
    candidates = found([tmp_path])
    assert relative_ok(candidates, tmp_path) == ["sub/inner.md", "top.md"]
    assert all(c.problem is None for c in candidates)


def test_fifo_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    candidates = found([tmp_path])
    assert candidates == [Candidate(fifo, candidates[0].problem)]
    assert "not a regular file" in candidates[0].problem


def test_nonexistent_path_is_no_such_file(tmp_path):
    assert found([tmp_path / "nope" / "x.md"]) == [
        Candidate(tmp_path / "nope" / "x.md", "no such file")
    ]


def test_problems_do_not_stop_the_walk(tmp_path):
    touch(tmp_path, "a.md", "z.md")
    (tmp_path / "m-dangling").symlink_to(tmp_path / "gone")
    os.mkfifo(tmp_path / "n-pipe")
    candidates = found([tmp_path / "missing", tmp_path])
    assert [c.path.name for c in candidates] == ["missing", "a.md", "m-dangling", "n-pipe", "z.md"]
    assert [c.problem is None for c in candidates] == [False, True, False, False, True]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any folder")
def test_unreadable_folder_is_reported(tmp_path):
    touch(tmp_path, "locked/a.md")
    (tmp_path / "locked").chmod(0)
    try:
        candidates = found([tmp_path])
    finally:
        (tmp_path / "locked").chmod(0o700)
    assert "cannot list folder" in problem_for(candidates, tmp_path / "locked")

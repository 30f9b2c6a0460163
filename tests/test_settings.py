"""Settings: defaults < TOML config file < COACH_* environment variables < explicit overrides."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from coach.settings import ConfigError, config_file, load_settings


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A private COACH_HOME; every other COACH_* variable and the XDG dirs point away from ~."""
    for name in list(os.environ):
        if name.startswith("COACH_"):
            monkeypatch.delenv(name)
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / "xdg" / name.lower()))
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    coach_home = tmp_path / "coach-home"
    monkeypatch.setenv("COACH_HOME", str(coach_home))
    return coach_home


def write_config(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- paths -------------------------------------------------------------------------------------


def test_all_paths_derive_from_coach_home(home):
    settings = load_settings()
    assert settings.data_dir == home
    assert settings.cache_dir == home / "cache"
    assert settings.knowledge_dir == home / "knowledge"
    assert config_file() == home / "config.toml"


def test_coach_home_expands_tilde(home, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("COACH_HOME", "~/coach-data")
    settings = load_settings()
    assert settings.data_dir == tmp_path / "coach-data"
    assert config_file() == tmp_path / "coach-data" / "config.toml"


def test_ensure_dirs_creates_private_directories(home):
    settings = load_settings()
    settings.ensure_dirs()
    for path in (settings.data_dir, settings.cache_dir, settings.knowledge_dir):
        assert path.is_dir()
        assert mode(path) == 0o700, path


def test_ensure_dirs_tightens_existing_directories(home):
    (home / "knowledge").mkdir(parents=True)
    home.chmod(0o755)
    (home / "knowledge").chmod(0o777)
    settings = load_settings()
    settings.ensure_dirs()
    assert mode(home) == 0o700
    assert mode(home / "knowledge") == 0o700


def test_without_coach_home_platform_dirs_are_used(home, monkeypatch, tmp_path):
    monkeypatch.delenv("COACH_HOME")
    settings = load_settings()
    assert settings.home is None
    assert settings.data_dir.is_relative_to(tmp_path / "xdg" / "xdg_data_home")
    assert settings.cache_dir.is_relative_to(tmp_path / "xdg" / "xdg_cache_home")
    assert config_file().is_relative_to(tmp_path / "xdg" / "xdg_config_home")
    assert settings.knowledge_dir == settings.data_dir / "knowledge"


def test_platform_config_file_is_read_without_coach_home(home, monkeypatch):
    monkeypatch.delenv("COACH_HOME")
    write_config(config_file(), "top_k = 11\n")
    assert load_settings().top_k == 11


def test_empty_coach_home_means_platform_dirs(home, monkeypatch, tmp_path):
    monkeypatch.setenv("COACH_HOME", "")
    settings = load_settings()
    assert settings.data_dir.is_relative_to(tmp_path / "xdg" / "xdg_data_home")


# --- config file and environment ---------------------------------------------------------------


def test_defaults_without_a_config_file(home):
    settings = load_settings()
    assert settings.top_k == 5
    assert settings.embedding_backend == "torch"
    assert settings.default_collection == "default"


def test_config_file_in_coach_home_is_read(home):
    write_config(home / "config.toml", 'top_k = 9\nembedding_backend = "onnx-int8"\n')
    settings = load_settings()
    assert settings.top_k == 9
    assert settings.embedding_backend == "onnx-int8"


def test_environment_overrides_the_config_file(home, monkeypatch):
    write_config(home / "config.toml", "top_k = 9\nmax_file_mb = 3\n")
    monkeypatch.setenv("COACH_TOP_K", "7")
    settings = load_settings()
    assert settings.top_k == 7
    assert settings.max_file_mb == 3


def test_explicit_overrides_beat_environment_and_file(home, monkeypatch):
    write_config(home / "config.toml", "top_k = 9\n")
    monkeypatch.setenv("COACH_TOP_K", "7")
    assert load_settings(top_k=2).top_k == 2


def test_coach_config_points_elsewhere(home, monkeypatch, tmp_path):
    write_config(home / "config.toml", "top_k = 9\n")
    elsewhere = write_config(tmp_path / "other" / "coach.toml", "top_k = 3\n")
    monkeypatch.setenv("COACH_CONFIG", str(elsewhere))
    assert config_file() == elsewhere
    assert load_settings().top_k == 3


def test_coach_config_to_a_missing_file_gives_defaults(home, monkeypatch, tmp_path):
    write_config(home / "config.toml", "top_k = 9\n")
    monkeypatch.setenv("COACH_CONFIG", str(tmp_path / "absent.toml"))
    assert load_settings().top_k == 5


# --- errors ------------------------------------------------------------------------------------


def test_invalid_toml_names_the_file(home):
    path = write_config(home / "config.toml", "top_k = \n")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(path) in str(info.value)
    assert "TOML" in str(info.value)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('embedding_backend = "gpu"', "embedding_backend"),
        ("top_k = 0", "top_k"),
        ("top_k = 101", "top_k"),
        ('default_collection = "no spaces allowed"', "default_collection"),
        ("max_file_mb = 0", "max_file_mb"),
        ('colour = "red"', "colour"),
    ],
)
def test_invalid_value_in_config_names_the_field_and_file(home, line, field):
    path = write_config(home / "config.toml", line + "\n")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert f"{field}:" in message
    assert str(path) in message
    assert "\n" not in message


def test_invalid_environment_value_names_the_field(home, monkeypatch):
    monkeypatch.setenv("COACH_TOP_K", "many")
    with pytest.raises(ConfigError, match="top_k"):
        load_settings()


def test_unrelated_coach_variables_are_not_settings(home, monkeypatch, tmp_path):
    """COACH_CONFIG (and other COACH_* names) must not trip extra="forbid"."""
    monkeypatch.setenv("COACH_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("COACH_SOMETHING_ELSE", "1")
    assert load_settings().top_k == 5

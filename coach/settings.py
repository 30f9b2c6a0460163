"""Settings: defaults < TOML config file < COACH_* environment variables.

Every path derives from one home. ``COACH_HOME`` replaces the platform directories entirely, so a
test or a second programme can run against its own data without touching the user's.
"""

from __future__ import annotations

import os
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

APP_NAME = "coach"


class ConfigError(Exception):
    """The config file or an environment variable holds a value Coach cannot use."""


def config_file() -> Path:
    """Where the TOML config lives: ``COACH_CONFIG``, else under COACH_HOME or the platform dir."""
    if explicit := os.environ.get("COACH_CONFIG"):
        return Path(explicit).expanduser()
    if home := os.environ.get("COACH_HOME"):
        return Path(home).expanduser() / "config.toml"
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


class Settings(BaseSettings):
    """User-tunable settings. Field docstrings double as the reference in the README."""

    model_config = SettingsConfigDict(env_prefix="COACH_", extra="forbid")

    home: Path | None = None
    """Root for all data, cache and config. Unset: the platform's per-user directories."""

    embedding_backend: Literal["torch", "onnx-int8"] = "torch"
    """`torch` runs sentence-transformers; `onnx-int8` runs a quantised export (about 2x faster)."""

    default_collection: str = Field("default", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,62}$")
    """Collection used when `--collection` is not given; it also holds the built-in guides."""

    top_k: int = Field(5, ge=1, le=100)
    """How many passages a search returns by default."""

    max_file_mb: float = Field(20.0, gt=0)
    """Files larger than this are skipped with a reason instead of being ingested."""

    lock_timeout_s: float = Field(60.0, ge=0)
    """How long a second writer waits for the knowledge-base lock before giving up."""

    database_url: str | None = None
    """SQLAlchemy URL of the programme database; unset means SQLite in the data dir. A
    `postgresql://user:password@host:port/db` URL shares one database across a programme
    (psycopg 3); private notes then stay in a local store on each pair's machine."""

    knowledge_url: str | None = None
    """URL of a Chroma server (`chroma run`) holding one shared knowledge base, e.g.
    `http://127.0.0.1:8000`; unset means the embedded store in the data dir."""

    knowledge_database: str = Field(
        "default_database", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,62}$"
    )
    """The database on the Chroma server that holds this programme's collections."""

    stall_days: int = Field(21, ge=1)
    """A pair with no session for this many days counts as stalled."""

    plugins_dir: Path | None = None
    """Another folder of plugins (`COACH_PLUGINS_DIR`), besides `COACH_HOME/plugins`."""

    plugins_disabled: list[str] = []
    """Names of plugins not to load, e.g. `["ai-tools"]`."""

    model: str | None = None
    """Preparation backend: `none`, `embedded`, `gguf:PATH`, `ollama:MODEL` or `openai:MODEL@URL`.
    Unset: `embedded` when llama-cpp-python is installed, else `none`."""

    model_timeout_s: float = Field(60.0, gt=0)
    """Longest wait for one model answer before preparation falls back to the grounded plan."""

    model_retries: int = Field(2, ge=0, le=5)
    """Extra attempts after an unreachable server or an answer that does not parse."""

    model_max_tokens: int = Field(320, ge=32, le=4096)
    """Most tokens one answer may use; bounds the in-process model's time."""

    ollama_base_url: str | None = None
    """Ollama's OpenAI-compatible URL; unset: `OLLAMA_BASE_URL`, else `http://127.0.0.1:11434/v1`."""

    match_avoid_same_department: bool = True
    """`coach match` never pairs two people from the same department."""

    match_avoid_reporting_line: bool = True
    """`coach match` never pairs someone with their own manager (either way round)."""

    match_max_timezone_hours: float | None = Field(6.0, ge=0, le=12)
    """Most hours between a pair's UTC offsets when both timezones are given; 12 allows any."""

    match_max_mentees_per_mentor: int = Field(1, ge=1, le=20)
    """How many mentees `coach match` may give one mentor."""

    match_interest_bonus: float = Field(0.05, ge=0, le=1)
    """Score added per shared interest (up to three) when matching."""

    @field_validator("database_url", "knowledge_url", mode="before")
    @classmethod
    def _empty_url_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("knowledge_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        try:
            parts.port  # noqa: B018  (raises on a port that is not a number)
        except ValueError:
            raise ValueError(f"{value!r} has a port that is not a number") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s)://host[:port] URL of a Chroma server")
        return value.strip().rstrip("/")

    @field_validator("home", "plugins_dir", mode="before")
    @classmethod
    def _empty_home_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_file()),
        )

    @cached_property
    def data_dir(self) -> Path:
        if self.home:
            return self.home.expanduser()
        import platformdirs

        return Path(platformdirs.user_data_dir(APP_NAME))

    @cached_property
    def cache_dir(self) -> Path:
        if self.home:
            return self.home.expanduser() / "cache"
        import platformdirs

        return Path(platformdirs.user_cache_dir(APP_NAME))

    @property
    def shared_database(self) -> bool:
        """True when the programme database is a server shared by the programme (not SQLite)."""
        return bool(self.database_url) and not self.database_url.lower().startswith("sqlite")

    @property
    def private_notes_path(self) -> Path:
        """The local store of this machine's notes when the database is shared."""
        return self.data_dir / "private-notes.sqlite3"

    @property
    def knowledge_dir(self) -> Path:
        """Chroma's files, the ingest manifest and the lexical indexes."""
        return self.data_dir / "knowledge"

    @property
    def models_dir(self) -> Path:
        """Model files Coach derives from packaged ones (the int8 ONNX export)."""
        return self.data_dir / "models"

    @property
    def plugin_dirs(self) -> list[Path]:
        """Folders whose sub-folders are plugins: the user's own, then `plugins_dir`."""
        dirs = [self.data_dir / "plugins"]
        if self.plugins_dir:
            dirs.append(self.plugins_dir.expanduser())
        return dirs

    def ensure_dirs(self) -> None:
        """Create the data and cache dirs private to the user (0700): notes will live here too."""
        for path in (self.data_dir, self.cache_dir, self.knowledge_dir):
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o700)


def load_settings(**overrides: object) -> Settings:
    """Load settings, turning TOML and validation errors into one readable ConfigError."""
    source = config_file()
    try:
        return Settings(**overrides)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(
            f"invalid settings (from {source} or COACH_* variables): {problems}"
        ) from None

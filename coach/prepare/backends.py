"""Which model writes a plan: a spec string from the user, a pydantic-ai ``Model`` for the code.

Specs: ``none`` (no model, the grounded plan), ``embedded`` (the packaged Gemma 3 270M,
in-process), ``gguf:PATH`` (any local GGUF, in-process), ``ollama:MODEL`` and
``openai:MODEL@URL`` (a local server speaking the OpenAI chat API: Ollama, llama.cpp, LM Studio,
vLLM). Everything after parsing goes through one pydantic-ai code path in ``generate``.

Servers get the answer's JSON schema two ways: in the prompt (pydantic-ai's prompted output,
which every chat model understands) and as ``response_format: json_object`` with a ``schema``,
which llama.cpp's servers turn into a grammar and others treat as plain JSON mode. Timeouts and
bounded retries with back-off are the ``openai`` client's own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pydantic_ai.models import Model

    from coach.probe import Probe
    from coach.settings import Settings

Kind = Literal["none", "embedded", "gguf", "ollama", "openai"]
OLLAMA_DEFAULT_URL = "http://127.0.0.1:11434/v1"
SPEC_HELP = "none, embedded, gguf:PATH, ollama:MODEL or openai:MODEL@URL"


class BackendError(ValueError):
    """A model spec that cannot be used; the message says what was wrong in one line."""


@dataclass(frozen=True)
class ModelSpec:
    kind: Kind
    model: str = ""
    """The model's name on a server, or the GGUF path."""
    url: str = ""

    @property
    def label(self) -> str:
        """The spec as the user writes it; a plan's ``backend`` field."""
        if self.kind in ("none", "embedded"):
            return self.kind
        if self.kind == "openai":
            return f"openai:{self.model}@{self.url}"
        return f"{self.kind}:{self.model}"


def parse_spec(text: str) -> ModelSpec:
    """``ModelSpec`` from a ``--model`` value or the ``model`` setting."""
    text = text.strip()
    kind, _, rest = text.partition(":")
    if text in ("none", "embedded"):
        return ModelSpec(text)  # type: ignore[arg-type]
    if kind == "gguf" and rest:
        return ModelSpec("gguf", model=rest)
    if kind == "ollama" and rest:
        return ModelSpec("ollama", model=rest)
    if kind == "openai" and rest:
        model, at, url = rest.rpartition("@")
        if not at or not model or not url.startswith(("http://", "https://")):
            raise BackendError(
                f"'{text}': write openai:MODEL@URL, e.g. openai:qwen@http://127.0.0.1:8080/v1"
            )
        return ModelSpec("openai", model=model, url=url.rstrip("/"))
    raise BackendError(f"unknown model '{text}': use {SPEC_HELP}")


def default_spec(settings: Settings) -> tuple[ModelSpec, str | None]:
    """The configured backend, else ``embedded`` if installed, else ``none`` and a one-line note."""
    from coach.prepare.llama import embedded_available

    if settings.model:
        return parse_spec(settings.model), None
    if embedded_available():
        return ModelSpec("embedded"), None
    note = (
        "No model installed (llama-cpp-python): the plan is the grounded one. "
        "`make setup` installs the embedded model."
    )
    return ModelSpec("none"), note


def build_model(spec: ModelSpec, settings: Settings) -> Model | None:
    """The pydantic-ai model for ``spec`` (None for ``none``); nothing is loaded or called yet."""
    if spec.kind == "none":
        return None
    if spec.kind in ("embedded", "gguf"):
        return _local_model(spec, settings)
    return _server_model(spec, settings)


def _local_model(spec: ModelSpec, settings: Settings) -> Model:
    from coach.prepare.llama import EMBEDDED_NAME, LlamaCppModel, embedded_available, embedded_gguf

    if not embedded_available():
        raise BackendError(f"'{spec.label}' needs llama-cpp-python: run `make setup`")
    if spec.kind == "embedded":
        return LlamaCppModel(embedded_gguf(settings), name=EMBEDDED_NAME)
    path = Path(spec.model).expanduser()
    if not path.is_file():
        raise BackendError(f"'{spec.label}': no such file")
    with path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise BackendError(f"'{spec.label}': not a GGUF file")
    return LlamaCppModel(path)


def _server_model(spec: ModelSpec, settings: Settings) -> Model:
    import httpx
    from openai import AsyncOpenAI
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.profiles.openai import OpenAIModelProfile
    from pydantic_ai.providers.ollama import OllamaProvider
    from pydantic_ai.providers.openai import OpenAIProvider

    url = spec.url
    if spec.kind == "ollama":
        url = settings.ollama_base_url or os.environ.get("OLLAMA_BASE_URL") or OLLAMA_DEFAULT_URL
    client = AsyncOpenAI(
        base_url=url,
        api_key=os.environ.get("OPENAI_API_KEY") or "local",
        timeout=settings.model_timeout_s,
        max_retries=settings.model_retries,
        # A server on this machine is reached directly, never through a proxy from the env.
        http_client=httpx.AsyncClient(trust_env=False) if _is_loopback(url) else None,
    )
    provider = (
        OllamaProvider(openai_client=client)
        if spec.kind == "ollama"
        else OpenAIProvider(openai_client=client)
    )
    profile = OpenAIModelProfile(
        default_structured_output_mode="prompted",
        supports_json_schema_output=False,
        supports_json_object_output=True,
    )
    return OpenAIChatModel(spec.model, provider=provider, profile=profile)


def probe_model(settings: Settings) -> Probe:
    """Which preparation backend is configured and whether it answers; loads no model."""
    from coach.probe import Probe

    try:
        spec, note = default_spec(settings)
    except BackendError as exc:
        return Probe("model", "unknown", settings.model or "", False, str(exc))
    if spec.kind == "none":
        return Probe("model", "none", "-", True, note or "grounded plans only")
    if spec.kind in ("embedded", "gguf"):
        try:
            _local_model(spec, settings)
        except (BackendError, OSError) as exc:
            return Probe("model", spec.kind, spec.model or "packaged", False, str(exc))
        return Probe("model", spec.kind, spec.model or "packaged Gemma 3 270M", True, "ready")
    url = spec.url
    if spec.kind == "ollama":
        url = settings.ollama_base_url or os.environ.get("OLLAMA_BASE_URL") or OLLAMA_DEFAULT_URL
    import httpx

    try:
        with httpx.Client(trust_env=not _is_loopback(url), timeout=5) as client:
            answer = client.get(f"{url.rstrip('/')}/models")
            answer.raise_for_status()
    except httpx.HTTPError as exc:
        return Probe("model", spec.kind, url, False, f"{spec.model}: {exc or type(exc).__name__}")
    return Probe("model", spec.kind, url, True, f"{spec.model}: the server answers")


def _is_loopback(url: str) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def schema_settings(model: Model, schema: dict) -> dict:
    """Per-answer settings that hand a server the JSON schema (llama.cpp enforces it)."""
    from pydantic_ai.models.openai import OpenAIChatModel

    if isinstance(model, OpenAIChatModel):
        return {"extra_body": {"response_format": {"type": "json_object", "schema": schema}}}
    return {}

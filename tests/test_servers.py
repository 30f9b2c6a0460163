"""The loopback test servers themselves, seen through the real ``openai`` client."""

from __future__ import annotations

import json
import time

import openai
import pytest

from tests.servers import (
    GARBAGE,
    fake_openai_server,
    llama_server,
    local_openai_client,
    packaged_gguf,  # noqa: F401  (fixture)
    port_accepts,
)

MESSAGES = [{"role": "user", "content": "Suggest a topic."}]


def ask(base_url: str, timeout: float = 10.0, model: str = "any", **kwargs) -> str | None:
    kwargs.setdefault("messages", MESSAGES)
    with local_openai_client(base_url, timeout=timeout) as client:
        reply = client.chat.completions.create(model=model, **kwargs)
    return reply.choices[0].message.content


def test_garbage_is_well_formed_prose():
    with fake_openai_server("garbage") as server:
        text = ask(server.base_url)
        assert text == GARBAGE
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
        ask(server.base_url)
        assert server.requests == 2
        assert server.received[0]["messages"] == MESSAGES


def test_json_answers_successive_contents():
    with fake_openai_server("json", content=["nope", '{"topic": "video calls"}']) as server:
        assert ask(server.base_url) == "nope"
        assert json.loads(ask(server.base_url)) == {"topic": "video calls"}
        assert ask(server.base_url) == '{"topic": "video calls"}'
        assert server.requests == 3


def test_slow_times_out_and_tears_down_promptly():
    started = time.monotonic()
    with fake_openai_server("slow", delay=30) as server:
        with pytest.raises(openai.APITimeoutError):
            ask(server.base_url, timeout=1)
        assert server.requests == 1
    assert time.monotonic() - started < 6


def test_hangup_is_a_connection_error():
    with fake_openai_server("hangup") as server:
        with pytest.raises(openai.APIConnectionError) as caught:
            ask(server.base_url)
        assert not isinstance(caught.value, openai.APITimeoutError)
        assert server.requests == 1


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_real_llama_server_answers_then_stops(packaged_gguf):  # noqa: F811  (the imported fixture)
    with llama_server(packaged_gguf) as server:
        assert port_accepts(server.port)
        # A base model: it continues text, and this opening reliably gets words back.
        text = ask(
            server.base_url,
            timeout=120,
            model=server.model,
            messages=[{"role": "user", "content": "The capital of France is"}],
            max_tokens=8,
            temperature=0,
        )
        assert text and text.strip()
        assert server.process.poll() is None
    assert server.process.poll() is not None
    assert not port_accepts(server.port)

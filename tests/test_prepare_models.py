"""Preparation with real models: the packaged GGUF in-process, and behind a real local server.

Everything runs on this machine: llama.cpp in the test process, ``python -m llama_cpp.server`` on
127.0.0.1, and a misbehaving fake server on 127.0.0.1 for the faults a real one rarely shows on
demand (garbage answers, an answer that never comes).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import run_coach
from tests.servers import fake_openai_server, llama_server

TOPIC = "linkedin-presence"
slow = pytest.mark.slow


@pytest.fixture(scope="module")
def embedded(packaged_gguf: Path):
    """One loaded LlamaCppModel for the module (loading costs about a second)."""
    from coach.prepare.llama import EMBEDDED_NAME, LlamaCppModel

    model = LlamaCppModel(packaged_gguf, name=EMBEDDED_NAME)
    model.load()
    return model


def _generator(model, label: str, **settings):
    from coach.prepare.generate import Generator
    from coach.settings import load_settings

    return Generator(model=model, label=label, settings=load_settings(**settings), seed=1)


def _prepare(synced, generator, topic: str = TOPIC):
    from coach.prepare.prompts import PromptLibrary
    from coach.prepare.service import prepare_session
    from coach.settings import load_settings

    _, kb, host = synced
    prompts = PromptLibrary.load(load_settings(), host)
    return prepare_session(
        None, kb, host, topic_id=topic, generator=generator, prompts=prompts, seed=1
    )


def _generated(plan) -> list:
    return [item for _, item in plan.items() if item.provenance.startswith("model:")]


def _assert_passes_gates(plan, kb, host) -> None:
    """Every generated item passes a fresh set of gates once more, and the plan is complete."""
    from coach.prepare.gates import Gates

    topic = host.topic(plan.topic_id)
    assert len(plan.icebreakers) >= 5 and len(plan.questions) >= 5
    for item in plan.questions:
        assert item.text.rstrip().endswith("?"), item
    for section, items in (("questions", plan.questions), ("icebreakers", plan.icebreakers)):
        mine = [i.text for i in items if i.provenance.startswith("model:")]
        gates = Gates.for_topic(topic, embed=kb.embedder.embed)
        accepted, rejected = gates.check(section, mine, provenance="model:check")
        assert accepted == mine, rejected


@slow
@pytest.mark.timeout(300)
def test_embedded_model_adds_at_least_three_gated_items(synced, embedded) -> None:
    _, kb, host = synced
    generator = _generator(embedded, "embedded")
    plan = _prepare(synced, generator)

    generated = _generated(plan)
    assert len(generated) >= 3, plan.to_markdown(explain=True)
    assert {i.provenance for i in generated} == {"model:gemma-3-270m"}
    assert plan.backend == "embedded"
    _assert_passes_gates(plan, kb, host)
    assert (
        len(generator.log) == 4
    )  # icebreakers, questions, both tips: no exercise from a base model
    assert not any("failed" in line for line in generator.log)


@slow
@pytest.mark.timeout(300)
def test_openai_backend_drives_a_real_llama_cpp_server(synced, packaged_llama) -> None:
    """One real answer through the openai: backend: schema sent, JSON validated, items gated.

    llama-cpp-python's server applies the schema grammar to the whole vocabulary (about 65 ms a
    token here), so this asks for one list rather than a whole plan; the fault tests below run
    whole plans against servers.
    """
    from coach.prepare.backends import build_model, parse_spec
    from coach.prepare.drafts import Lines
    from coach.prepare.gates import Gates
    from coach.prepare.prompts import PromptLibrary
    from coach.settings import load_settings

    _, kb, host = synced
    limits = {"model_max_tokens": 128, "model_timeout_s": 120, "model_retries": 1}
    spec = parse_spec(f"openai:{packaged_llama.model}@{packaged_llama.base_url}")
    generator = _generator(build_model(spec, load_settings(**limits)), spec.label, **limits)
    topic = host.topic(TOPIC)
    prompt = PromptLibrary.load(load_settings(), host).render(
        "questions", topic=topic, examples=topic.questions, passages=[], count=4
    )
    answer = generator.ask("questions", prompt, Lines)
    assert isinstance(answer, Lines) and answer.items
    accepted, rejected = Gates.for_topic(topic, embed=kb.embedder.embed).check(
        "questions", answer.items, provenance=generator.provenance, prompt=prompt
    )
    assert len(accepted) + len(rejected) == len(answer.items)
    assert generator.provenance == f"model:{packaged_llama.model}"


def test_ollama_backend_takes_its_url_from_the_environment(
    synced, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coach.prepare.backends import build_model, parse_spec
    from coach.settings import load_settings

    answer = json.dumps({"items": ["How would your team describe you on LinkedIn in one line?"]})
    with fake_openai_server("json", content=answer) as server:
        monkeypatch.setenv("OLLAMA_BASE_URL", server.base_url)
        model = build_model(parse_spec("ollama:qwen3"), load_settings())
        plan = _prepare(synced, _generator(model, "ollama:qwen3"))
    assert server.requests >= 4 and server.received[0]["model"] == "qwen3"
    assert server.received[0]["response_format"]["type"] == "json_object"
    assert plan.icebreakers[0].provenance == "model:qwen3"  # then a duplicate for questions


# --- faults -------------------------------------------------------------------------------------


def _server_generator(url: str, **settings):
    from coach.prepare.backends import build_model, parse_spec
    from coach.settings import load_settings

    spec = parse_spec(f"openai:gemma-270m@{url}")
    return _generator(build_model(spec, load_settings(**settings)), spec.label, **settings)


@slow
@pytest.mark.timeout(300)
def test_server_killed_mid_request_falls_back_within_bounds(synced, packaged_gguf) -> None:
    import threading

    with llama_server(packaged_gguf) as server:
        generator = _server_generator(server.base_url, model_retries=1, model_timeout_s=20)
        threading.Timer(0.3, server.kill).start()  # while the first answer is being written
        started = time.monotonic()
        plan = _prepare(synced, generator)
    assert time.monotonic() - started < 30
    assert not _generated(plan)
    assert any("did not answer" in notice for notice in plan.notices), plan.notices
    assert len(plan.icebreakers) >= 5 and plan.exercise is not None


@slow
def test_garbage_answers_are_retried_then_the_grounded_plan_stands(synced) -> None:
    with fake_openai_server("garbage") as server:
        generator = _server_generator(server.base_url, model_retries=1)
        plan = _prepare(synced, generator)
    assert server.requests == 5 * 2  # five sections, one retry each
    assert not _generated(plan)
    assert sum("no usable answer" in n for n in plan.notices) == 5


@slow
def test_a_slow_server_times_out_once_and_is_not_asked_again(synced) -> None:
    with fake_openai_server("slow", delay=30) as server:
        generator = _server_generator(server.base_url, model_retries=0, model_timeout_s=1)
        started = time.monotonic()
        plan = _prepare(synced, generator)
        elapsed = time.monotonic() - started
    assert elapsed < 10, elapsed
    assert server.requests == 1
    assert any("did not answer" in notice for notice in plan.notices), plan.notices


@slow
def test_valid_json_from_a_server_is_gated_like_any_model_answer(synced) -> None:
    answer = json.dumps({"items": ["What is your favourite pizza topping?"]})
    with fake_openai_server("json", content=answer) as server:
        plan = _prepare(synced, _server_generator(server.base_url))
    assert not _generated(plan)
    assert {r.reason.split(" (")[0] for r in plan.rejections if r.section == "questions"}


@slow
@pytest.mark.timeout(600)
def test_cli_prepares_with_the_embedded_model_and_explains(synced) -> None:
    home, _, _ = synced
    result = run_coach(
        "prepare", "--topic", TOPIC, "--model", "embedded", "--explain",
        env={"COACH_HOME": str(home)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "backend embedded" in result.stdout and "[model:gemma-3-270m]" in result.stdout


@slow
@pytest.mark.timeout(300)
def test_embedded_model_summarises_shared_notes_and_never_sees_private_ones(
    synced, embedded, db
) -> None:
    from coach.prepare.prompts import PromptLibrary
    from coach.prepare.summary import summarise_session
    from coach.sessions.models import Note, Session
    from coach.sessions.service import add_pair, add_person
    from coach.settings import load_settings

    _, kb, host = synced
    pair = add_pair(
        db,
        add_person(db, {"name": "Ada", "role": "mentor"}),
        add_person(db, {"name": "Sam", "role": "mentee"}),
    )
    shared = [
        ("mentor", "Showed how to write a LinkedIn headline that says what the team does"),
        ("mentee", "Rewrote the headline and turned off the open-to-work banner"),
        ("mentee", "Will share one post a week about the team's launches"),
    ]
    with db.transaction() as orm:
        done = Session(pair_id=pair, number=1, topic_ids=[TOPIC], status="completed")
        orm.add(done)
        orm.flush()
        session_id = done.id
        for role, text in shared:
            orm.add(Note(session_id=session_id, author_role=role, text=text))
        orm.add(Note(session_id=session_id, author_role="mentee", private=True, text="SECRET-42"))

    generator = _generator(embedded, "embedded")
    prompts = PromptLibrary.load(load_settings(), host)
    summary = summarise_session(
        db, session_id, host=host, generator=generator, prompts=prompts, kb=kb
    )
    with db.read() as orm:
        stored = orm.get(Session, session_id).summary
    assert summary.stored and stored.startswith(summary.text) and "SECRET-42" not in stored
    if summary.provenance == "model:gemma-3-270m":
        assert not summary.notices and 40 <= len(summary.text) <= 1200
    else:  # the gates refused the model's summary: the shared notes stand in, with a notice
        assert summary.provenance == "session:1" and summary.notices
        assert shared[0][1] in summary.text


@slow
@pytest.mark.timeout(300)
def test_gguf_backend_completes_without_a_chat_template_and_chats_with_one(
    synced, packaged_gguf
) -> None:
    """``gguf:PATH`` reads the file's metadata: the packaged base model has no chat template, so
    it is driven as completion; a file with one is driven as chat, with the schema enforced."""
    from coach.prepare.backends import build_model, parse_spec
    from coach.prepare.drafts import lines_of
    from coach.prepare.llama import LlamaCppModel
    from coach.prepare.prompts import PromptLibrary
    from coach.settings import load_settings

    _, _, host = synced
    model = build_model(parse_spec(f"gguf:{packaged_gguf}"), load_settings())
    assert isinstance(model, LlamaCppModel) and model.model_name == packaged_gguf.stem
    assert not model.is_chat
    topic = host.topic(TOPIC)
    prompt = PromptLibrary.load(load_settings(), host).render(
        "questions", topic=topic, examples=topic.questions, passages=[], count=3
    )
    generator = _generator(model, f"gguf:{packaged_gguf}")
    assert generator.ask("questions", prompt, lines_of(4)).items

    model.load().chat = True  # as for a file whose metadata carries tokenizer.chat_template
    answer = generator.ask("questions", prompt, lines_of(4))
    assert 1 <= len(answer.items) <= 4 and generator.writes_exercises  # a chat model writes them

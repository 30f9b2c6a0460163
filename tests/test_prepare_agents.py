"""Preparation with a model, the logic only: scripted models, no real model requests.

``FunctionModel`` answers each prompt from a script, so these tests pin down what Coach does
with an answer (gates, replacement from the grounded pool, retries, fall-back notices, what a
prompt may contain), not what a model writes. The real models are in ``test_prepare_models``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

SECRET = "PRIVATE-NOTE-7f3a"
TOPIC = "linkedin-presence"

FRESH = {
    "icebreakers": [
        "Which LinkedIn post by a colleague made you stop scrolling this month?",
        "What was the last thing you posted on LinkedIn yourself?",
    ],
    "questions": [
        "What would you want a new hire to learn about you from your LinkedIn profile?",
        "How could you share a team success on LinkedIn without sounding like an advert?",
    ],
    "mentor_tips": ["Open your own LinkedIn profile first and show what you changed and why."],
    "mentee_tips": ["Ask your mentor which leaders' LinkedIn posts they actually read, and why."],
}


pytestmark = pytest.mark.usefixtures("no_real_models")


def scripted(answer: Callable[[str, int], str], calls: list[str] | None = None):
    """A FunctionModel whose text answer is ``answer(prompt, attempt)``; prompts go to ``calls``."""
    from pydantic_ai.messages import ModelResponse, TextPart, UserPromptPart
    from pydantic_ai.models.function import FunctionModel
    from pydantic_ai.profiles import ModelProfile

    def respond(messages, info) -> ModelResponse:
        parts = [p for m in messages for p in getattr(m, "parts", [])]
        prompt = next(p.content for p in parts if isinstance(p, UserPromptPart))
        attempt = sum(isinstance(m, ModelResponse) for m in messages)
        if calls is not None:
            calls.append(prompt)
        return ModelResponse(parts=[TextPart(answer(prompt, attempt))])

    profile = ModelProfile(
        supports_json_schema_output=True, default_structured_output_mode="native"
    )
    return FunctionModel(respond, model_name="scripted", profile=profile)


def task(prompt: str) -> str:
    """Which template a prompt came from, by its opening instruction."""
    opening = prompt.strip().split("\n", 1)[0].lower()
    if "tips" in opening:
        return "mentee" if "mentee" in opening.split("tips", 1)[1][:40] else "mentor"
    for name in ("exercise", "recap", "icebreaker"):
        if name in opening:
            return name
    return "question"


def by_section(prompt: str, bank_item: str) -> str:
    """On-topic new items, plus one copy of the bank, one off-topic and one malformed item."""
    kind = task(prompt)
    if kind == "exercise":
        return json.dumps(
            {
                "title": "Rewrite your LinkedIn headline",
                "goal": "The mentee rewrites their LinkedIn headline in their own voice.",
                "minutes": 15,
                "steps": [
                    "Open your LinkedIn profile and read your headline aloud.",
                    "Write three LinkedIn headline drafts that say what you lead.",
                    "Pick one LinkedIn headline draft and save it on your profile.",
                ],
            }
        )
    if kind == "recap":
        return json.dumps({"recap": "Last time you tidied the LinkedIn profile headline together."})
    if kind in ("mentor", "mentee"):
        return json.dumps({"items": FRESH[f"{kind}_tips"]})
    section = "icebreakers" if kind == "icebreaker" else "questions"
    # At most five items: the schema allows one more than the four asked for.
    malformed = ["LinkedIn?" if section == "icebreakers" else "Tell me about LinkedIn profiles"]
    return json.dumps(
        {"items": [*FRESH[section], bank_item, "What is your favourite pizza topping?", *malformed]}
    )


def prepare(host, generator, kb=None, **kwargs):
    from coach.prepare.prompts import PromptLibrary
    from coach.prepare.service import prepare_session
    from coach.settings import load_settings

    prompts = PromptLibrary.load(load_settings(), host)
    return prepare_session(
        None, kb, host, topic_id=TOPIC, generator=generator, prompts=prompts, **kwargs
    )


def generator(model, **settings):
    from coach.prepare.generate import Generator
    from coach.settings import load_settings

    return Generator(model=model, label="scripted", settings=load_settings(**settings))


def test_gated_model_items_lead_and_the_grounded_pool_fills_the_rest(host, synced) -> None:
    _, kb, _ = synced
    topic = host.topic(TOPIC)
    model = scripted(lambda prompt, _: by_section(prompt, topic.questions[-1]))
    plan = prepare(host, generator(model), kb=kb)

    for section in ("icebreakers", "questions"):
        items = getattr(plan, section)
        assert [i.text for i in items[:2]] == FRESH[section]
        assert {i.provenance for i in items[:2]} == {"model:scripted"}
        assert len(items) == 6 and all(i.provenance.startswith("plugin:") for i in items[2:])
    assert plan.exercise.provenance == "model:scripted"
    assert plan.exercise.title == "Rewrite your LinkedIn headline"
    mentor = [t.text for t in plan.mentor_tips]
    assert mentor[: len(topic.mentor_tips)] == topic.mentor_tips
    assert mentor[len(topic.mentor_tips)] == FRESH["mentor_tips"][0]
    assert plan.backend == "scripted" and not plan.notices

    reasons = {(r.section, r.text): r.reason for r in plan.rejections}
    assert "duplicate" in reasons[("questions", topic.questions[-1])]
    assert "off topic" in reasons[("questions", "What is your favourite pizza topping?")]
    assert "?" in reasons[("questions", "Tell me about LinkedIn profiles")]
    assert "too short" in reasons[("icebreakers", "LinkedIn?")]
    assert all(r.provenance == "model:scripted" for r in plan.rejections)
    explained = plan.to_markdown(explain=True)
    assert "## Rejected by the quality gates" in explained and "pizza topping" in explained
    assert "pizza" not in plan.to_markdown()


def test_an_answer_that_never_parses_is_retried_then_the_grounded_items_stay(host) -> None:
    calls: list[str] = []
    model = scripted(lambda prompt, attempt: "Sure! Here are some ideas.", calls)
    plan = prepare(host, generator(model, model_retries=2))
    grounded = prepare(host, None)

    assert len(calls) == 3 * 5  # icebreakers, questions, exercise, two tips: 1 try + 2 retries
    assert plan.icebreakers == grounded.icebreakers and plan.exercise == grounded.exercise
    assert any("no usable answer" in n for n in plan.notices)
    assert any("wrote nothing that passed" in n for n in plan.notices)


def test_a_retry_can_rescue_a_section(host) -> None:
    def answer(prompt: str, attempt: int) -> str:
        return "not json" if attempt == 0 else by_section(prompt, "x")

    plan = prepare(host, generator(scripted(answer), model_retries=1))
    assert plan.questions[0].text == FRESH["questions"][0]


def test_an_unreachable_backend_is_asked_once_and_the_plan_is_grounded(host) -> None:
    import httpx
    import openai

    calls: list[str] = []

    def refuse(prompt: str, attempt: int) -> str:
        calls.append(prompt)
        request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
        raise openai.APIConnectionError(request=request)

    plan = prepare(host, generator(scripted(refuse)))
    grounded = prepare(host, None)
    assert len(calls) == 1
    assert plan.model_dump(exclude={"notices", "backend", "created_at"}) == grounded.model_dump(
        exclude={"notices", "backend", "created_at"}
    )
    assert plan.notices[len(grounded.notices) :] == [
        "The model backend 'scripted' did not answer (Connection error.): "
        "the rest of this plan is the grounded one."
    ]


def test_test_model_answers_validate_but_never_pass_the_gates(host) -> None:
    from pydantic_ai.models.test import TestModel

    plan = prepare(host, generator(TestModel()))
    assert all(not i.provenance.startswith("model:") for _, i in plan.items())
    assert plan.rejections and any("wrote nothing" in n for n in plan.notices)


def test_pair_plan_with_a_model_is_stored_and_private_notes_never_reach_it(host, db) -> None:
    from datetime import UTC, datetime

    from coach.sessions.models import Experiment, Note, Session
    from coach.sessions.service import add_pair, add_person

    mentor = add_person(db, {"name": "Ada", "role": "mentor"})
    mentee = add_person(db, {"name": "Sam", "role": "mentee"})
    pair = add_pair(db, mentor, mentee)
    with db.transaction() as orm:
        done = Session(
            pair_id=pair,
            number=1,
            topic_ids=["social-media"],
            status="completed",
            summary="We tidied the profile headline.",
            ended_at=datetime(2025, 1, 6, tzinfo=UTC),
        )
        orm.add(done)
        orm.flush()
        orm.add(Note(session_id=done.id, author_role="mentee", private=True, text=SECRET))
        orm.add(Experiment(pair_id=pair, session_id=done.id, title="Post once", owner="mentee"))

    calls: list[str] = []
    model = scripted(lambda prompt, _: by_section(prompt, "x"), calls)
    from coach.prepare.prompts import PromptLibrary
    from coach.prepare.service import prepare_session
    from coach.settings import load_settings

    prompts = PromptLibrary.load(load_settings(), host)
    plan = prepare_session(
        db, None, host, topic_id=TOPIC, pair_id=pair, generator=generator(model), prompts=prompts
    )
    assert plan.recap[0].provenance == "model:scripted"
    assert plan.recap[1].provenance == "session:1"
    assert calls and not any(SECRET in prompt for prompt in calls)
    with db.read() as orm:
        stored = orm.get(Session, plan_session_id(db, pair)).plan
    assert (
        stored["backend"] == "scripted" and stored["questions"][0]["provenance"] == "model:scripted"
    )

    again = prepare_session(
        db, None, host, topic_id=TOPIC, pair_id=pair, generator=generator(model), prompts=prompts
    )
    assert again == plan and len(calls) == 6  # reused: the model was not asked again


def plan_session_id(db, pair: int) -> int:
    from sqlalchemy import select

    from coach.sessions.models import Session

    with db.read() as orm:
        return orm.scalar(select(Session.id).where(Session.pair_id == pair, Session.number == 2))


def test_summary_reads_shared_notes_only_and_is_stored(host, db) -> None:
    from coach.prepare.prompts import PromptLibrary
    from coach.prepare.summary import summarise_session
    from coach.sessions.models import Note, Session
    from coach.sessions.service import add_pair, add_person
    from coach.settings import load_settings

    pair = add_pair(
        db,
        add_person(db, {"name": "Ada", "role": "mentor"}),
        add_person(db, {"name": "Sam", "role": "mentee"}),
    )
    with db.transaction() as orm:
        done = Session(pair_id=pair, number=1, topic_ids=[TOPIC], status="completed")
        orm.add(done)
        orm.flush()
        session_id = done.id
        orm.add(
            Note(
                session_id=done.id, author_role="mentor", text="Showed the LinkedIn headline editor"
            )
        )
        orm.add(Note(session_id=done.id, author_role="mentee", private=True, text=SECRET))
        orm.add(
            Note(
                session_id=done.id, author_role="mentee", text="Wants to post about the team launch"
            )
        )

    calls: list[str] = []
    written = (
        "The mentor showed the LinkedIn headline editor and the mentee rewrote the headline. "
        "The mentee wants to post about the team launch."
    )
    model = scripted(
        lambda prompt, _: json.dumps(
            {"summary": written, "experiments": ["Post about the team launch on LinkedIn"]}
        ),
        calls,
    )
    prompts = PromptLibrary.load(load_settings(), host)
    summary = summarise_session(
        db, session_id, host=host, generator=generator(model), prompts=prompts
    )
    assert summary.text == written and summary.provenance == "model:scripted" and summary.stored
    assert SECRET not in calls[0] and "team launch" in calls[0]
    with db.read() as orm:
        stored = orm.get(Session, session_id).summary
    assert (
        stored.startswith(written) and "To try: Post about the team launch on LinkedIn." in stored
    )

    kept = summarise_session(db, session_id, host=host, generator=generator(model), prompts=prompts)
    assert not kept.stored and kept.text == stored and len(calls) == 1

    plain = summarise_session(db, session_id, host=host, replace=True)
    assert plain.provenance == "session:1" and SECRET not in plain.text
    assert plain.text == (
        "Mentor: Showed the LinkedIn headline editor. Mentee: Wants to post about the team launch."
    )


def test_default_backend_is_embedded_when_installed_else_none_with_a_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import coach.prepare.llama as llama
    from coach.prepare.backends import default_spec
    from coach.settings import load_settings

    monkeypatch.setattr(llama, "embedded_available", lambda: True)
    spec, note = default_spec(load_settings())
    assert spec.label == "embedded" and note is None
    monkeypatch.setattr(llama, "embedded_available", lambda: False)
    spec, note = default_spec(load_settings())
    assert spec.label == "none" and "\n" not in note and "make setup" in note
    spec, note = default_spec(load_settings(model="ollama:qwen3"))
    assert spec.label == "ollama:qwen3" and note is None


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("none", "none"),
        ("embedded", "embedded"),
        ("gguf:~/models/qwen.gguf", "gguf:~/models/qwen.gguf"),
        ("ollama:llama3.2:3b", "ollama:llama3.2:3b"),
        ("openai:qwen@http://127.0.0.1:8080/v1/", "openai:qwen@http://127.0.0.1:8080/v1"),
        (
            "openai:org/model@name@http://localhost:1234/v1",
            "openai:org/model@name@http://localhost:1234/v1",
        ),
    ],
)
def test_model_specs_parse_to_their_label(text: str, label: str) -> None:
    from coach.prepare.backends import parse_spec

    assert parse_spec(text).label == label


def test_a_server_backend_is_built_without_contacting_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic_ai.models.openai import OpenAIChatModel

    from coach.prepare.backends import build_model, parse_spec
    from coach.settings import load_settings

    monkeypatch.setenv("OLLAMA_BASE_URL", "http://127.0.0.1:9/v1")
    model = build_model(parse_spec("ollama:qwen3"), load_settings(model_timeout_s=5))
    assert isinstance(model, OpenAIChatModel) and model.model_name == "qwen3"
    assert str(model.client.base_url).startswith("http://127.0.0.1:9/v1")
    assert model.client.timeout == 5 and model.client.max_retries == 2
    configured = build_model(
        parse_spec("ollama:qwen3"), load_settings(ollama_base_url="http://127.0.0.1:8/v1")
    )
    assert str(configured.client.base_url).startswith("http://127.0.0.1:8/v1")


def test_a_broken_prompt_override_costs_the_model_items_not_the_plan(host, coach_home) -> None:
    folder = coach_home / "prompts"
    folder.mkdir(parents=True)
    (folder / "questions.j2").write_text("Questions about {{ no_such_variable }}:")
    calls: list[str] = []
    plan = prepare(host, generator(scripted(lambda prompt, _: by_section(prompt, "x"), calls)))
    assert plan.icebreakers[0].provenance == "model:scripted"  # asked before the questions
    assert all(q.provenance.startswith("plugin:") for q in plan.questions)
    assert any("prompt 'questions'" in n and "no_such_variable" in n for n in plan.notices)
    assert len(calls) == 1

""" "Ask the coach": real passages from the real knowledge base; scripted models for the answer.

The passages come from the synced built-in guides (the real embedder), so these tests also pin
down that a question finds what the guides say. ``FunctionModel`` stands in for a chat model:
the tests are about what Coach does with an answer (cite, gate, fall back), not what a model
writes. The embedded completion model is never asked: it gets the passages alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_prepare_agents import generator, scripted

QUESTION = "How should a mentee give feedback upwards to a senior leader?"


pytestmark = pytest.mark.usefixtures("no_real_models")


@pytest.fixture
def prompts():
    from coach.prepare.prompts import PromptLibrary
    from coach.settings import load_settings

    return PromptLibrary.load(load_settings())


def grounded_answer(prompt: str, _attempt: int) -> str:
    """An answer that uses the first passage of the prompt it is given, citing it."""
    line = next(x for x in prompt.splitlines()[::-1] if x.startswith("Passage 1 ("))
    words = line.split("): ", 1)[1].split()[:30]
    text = "From the guide: " + " ".join(words).rstrip(".,;:") + "."
    return json.dumps({"answer": text, "passages": [1]})


def test_passages_alone_without_a_model(synced) -> None:
    from coach.prepare.ask import ask_coach

    _, kb, _ = synced
    answer = ask_coach(QUESTION, kb=kb)
    assert 1 <= len(answer.passages) <= 3 and answer.answer is None and not answer.notices
    sources = [Path(hit.source) for hit in answer.passages]
    assert all(path.suffix == ".md" and path.is_file() for path in sources)
    assert any("feedback" in hit.text.lower() for hit in answer.passages)


def test_a_chat_model_answers_from_the_passages_and_cites_them(synced, prompts) -> None:
    from coach.prepare.ask import ask_coach

    _, kb, _ = synced
    calls: list[str] = []
    answer = ask_coach(
        QUESTION, kb=kb, generator=generator(scripted(grounded_answer, calls)), prompts=prompts
    )
    assert answer.answer and answer.answer.startswith("From the guide:")
    assert answer.provenance == "model:scripted" and answer.cited == [1]
    assert len(calls) == 1 and QUESTION in calls[0] and calls[0].endswith("\nAnswer:")
    first = " ".join(answer.passages[0].text.split())[:60]
    assert first in " ".join(calls[0].split())  # the model saw the passage it cites


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ({"answer": "I cannot help with that request.", "passages": []}, "cites none"),
        ({"answer": "Buy cheap watches online now, best prices!", "passages": [1]}, "not about"),
        ({"answer": "Answer: Passage 1 (Guide): say it", "passages": [1]}, "leaked"),
        ({"answer": "feedback feedback feedback is good.", "passages": [2]}, "repetition"),
        ({"answer": "The best way to give feedback is to", "passages": [1]}, "mid-sentence"),
    ],
)
def test_a_refused_or_garbage_answer_leaves_the_passages(
    synced, prompts, reply: dict, reason: str
) -> None:
    from coach.prepare.ask import ask_coach

    _, kb, _ = synced
    model = scripted(lambda _p, _a: json.dumps(reply))
    answer = ask_coach(QUESTION, kb=kb, generator=generator(model), prompts=prompts)
    assert answer.answer is None and answer.passages
    assert answer.rejections and reason in answer.rejections[0].reason
    assert answer.notices and "passages stand" in answer.notices[0] and answer.model_failed


def test_a_model_error_costs_the_answer_not_the_passages(synced, prompts) -> None:
    from coach.prepare.ask import ask_coach

    _, kb, _ = synced

    def broken(_prompt: str, _attempt: int) -> str:
        raise RuntimeError("the server fell over")

    answer = ask_coach(QUESTION, kb=kb, generator=generator(scripted(broken)), prompts=prompts)
    assert answer.answer is None and answer.passages
    assert "no usable answer" in answer.notices[0] and "fell over" in answer.notices[0]
    assert answer.model_failed


def test_the_embedded_completion_model_gives_passages_only(synced, prompts, tmp_path) -> None:
    from coach.prepare.ask import answers_questions, ask_coach
    from coach.prepare.llama import LlamaCppModel, _Loaded

    _, kb, _ = synced
    model = LlamaCppModel(tmp_path / "gemma-270m.gguf", name="gemma-3-270m")
    model._loaded = _Loaded(llama=None, chat=False)  # a base model, as the packaged one is
    embedded = generator(model)
    assert not answers_questions(embedded)
    answer = ask_coach(QUESTION, kb=kb, generator=embedded, prompts=prompts)
    assert answer.answer is None and answer.passages
    assert "chat model" in answer.notices[0] and not embedded.log  # never asked
    assert not answer.model_failed
    assert ask_coach(QUESTION, kb=kb, generator=embedded).notices == answer.notices


def test_an_empty_question_is_an_input_error(synced) -> None:
    from coach.prepare.ask import ask_coach
    from coach.sessions.errors import InputError

    _, kb, _ = synced
    with pytest.raises(InputError, match="question"):
        ask_coach("   ", kb=kb)


def test_the_prompt_follows_the_template_conventions(prompts) -> None:
    """Ends on its label, a worked example that is a valid answer, passages numbered and cut."""
    from coach.knowledge.base import SearchHit
    from coach.prepare.ask import AnswerDraft

    hit = SearchHit(
        "c:1", "Ask first. " * 200, "/k/g.md", "Guide", "Guide > Feedback", 0, 9, 1.0, 0.5
    )
    prompt = prompts.render("ask", question="Why?", passages=[hit] * 4, topic=None)
    last_block = prompt.rsplit("\n\n", 1)[1]
    assert last_block.startswith("Question: Why?\nPassage 1 (Guide, Feedback): Ask first.")
    assert prompt.endswith("\nAnswer:") and "Passage 3 (" in prompt and "Passage 4" not in prompt
    assert "Variables:" not in prompt and "{{" not in prompt
    passage_line = next(x for x in prompt.splitlines() if x.startswith("Passage 1 (Guide"))
    assert len(passage_line) < 550 and passage_line.endswith(".")
    examples = [x for x in prompt.splitlines() if x.startswith("Answer:{")]
    assert len(examples) >= 2
    for line in examples:
        parsed = json.loads(line.removeprefix("Answer:"))
        assert list(parsed) == list(AnswerDraft.model_fields)
        AnswerDraft.model_validate(parsed)


def test_a_private_item_never_reaches_the_prompt(prompts) -> None:
    from coach.prepare.prompts import PromptError

    with pytest.raises(PromptError, match="at least one passage"):
        prompts.render("ask", question="Why?", passages=[{"text": "x", "private": True}])

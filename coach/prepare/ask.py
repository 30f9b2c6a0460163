""" "Ask the coach": the best knowledge passages for a pair's question, and an answer from them.

The passages are the answer a pair can always rely on: they come with their sources, so a pair
can check what the coach says. A generated answer is added only when the configured model is a
chat model (``Generator.writes_exercises``): the embedded 270M base model completes few-shot
prompts well enough for plan items, but it cannot read three passages and answer a question
from them. A generated answer must pass gates of its own before it is shown:

- form: no control characters, a length that fits, no repetition loop, no leaked prompt text
  (``Passage 2 (...):``, JSON, control tokens), a sentence ending, no run of eight words copied
  from the prompt's worked example;
- grounding: it cites at least one of the passages it was given, and (with an embedder) reads
  like them: its cosine to the cited passages is at least the gates' relevance threshold.

Whatever goes wrong with the model (an error, a refusal, an answer that fails the gates) costs
only the generated answer, with a notice saying why; the passages stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from coach.prepare.gates import (
    RELEVANCE_THRESHOLD,
    clean,
    copied_run,
    is_control,
    leak,
    prompt_grams,
    repetition,
    unit_rows,
)
from coach.prepare.plan import Rejection
from coach.sessions.errors import InputError

if TYPE_CHECKING:
    from coach.knowledge.base import KnowledgeBase, SearchHit
    from coach.plugins.models import Topic
    from coach.prepare.generate import Generator
    from coach.prepare.prompts import PromptLibrary

TOP_PASSAGES = 3
MIN_CHARS, MAX_CHARS = 30, 900
_SCAFFOLD = re.compile(r"(?:^|\s)(?:Passage \d+\s*[(:]|Question:|Answer:)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.?!…][\"'”’»)\]]*$")


class AnswerDraft(BaseModel):
    """A short answer to the pair's question, from the numbered passages only."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    answer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=900)]
    """Two to four plain sentences that use only the passages."""
    passages: list[int] = Field(default_factory=list, max_length=3)
    """The numbers of the passages the answer used."""


@dataclass(frozen=True)
class CoachAnswer:
    """What the pair sees: the passages (always) and a generated answer (when one passed)."""

    question: str
    passages: list[SearchHit]
    answer: str | None = None
    provenance: str | None = None
    """``model:<name>`` of the generated answer."""
    cited: list[int] = field(default_factory=list)
    """1-based numbers of the passages the generated answer used."""
    notices: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    model_failed: bool = False
    """The model was asked and gave nothing usable (an error, or an answer the gates refused)."""


def answers_questions(generator: Generator | None) -> bool:
    """True for a chat model; the embedded completion model gives passages only."""
    return generator is not None and generator.writes_exercises


def ask_coach(
    question: str,
    *,
    kb: KnowledgeBase,
    generator: Generator | None = None,
    prompts: PromptLibrary | None = None,
    topic: Topic | None = None,
) -> CoachAnswer:
    """The top passages for ``question`` and, with a chat model, an answer grounded in them."""
    question = " ".join(question.split())
    if not question:
        raise InputError("ask: type a question first")
    hits = kb.search(question, top_k=TOP_PASSAGES)[:TOP_PASSAGES]
    if not hits:
        notice = "Nothing in the knowledge base matches this question; try other words."
        return CoachAnswer(question, [], notices=[notice])
    if generator is None:
        return CoachAnswer(question, hits)
    if not answers_questions(generator):
        notice = (
            f"The model '{generator.label}' writes plan items only; "
            "a chat model is needed for a written answer. Here are the best passages."
        )
        return CoachAnswer(question, hits, notices=[notice])
    if prompts is None:
        return CoachAnswer(question, hits)
    return _generated(question, hits, generator, prompts, kb, topic)


def _generated(
    question: str,
    hits: list[SearchHit],
    generator: Generator,
    prompts: PromptLibrary,
    kb: KnowledgeBase,
    topic: Topic | None,
) -> CoachAnswer:
    try:
        prompt = prompts.render("ask", question=question, passages=hits, topic=topic)
        draft: AnswerDraft = generator.ask("ask", prompt, AnswerDraft)
    except Exception as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        notice = f"The model '{generator.label}' gave no usable answer ({reason[:160]})."
        return CoachAnswer(question, hits, notices=[notice], model_failed=True)
    text, cited, reason = check_answer(draft, hits, prompt, embed=kb.embedder.embed)
    if reason is not None:
        rejection = Rejection(
            section="answer",
            text=draft.answer[:300],
            reason=reason,
            provenance=generator.provenance,
        )
        notice = f"The generated answer was left out ({reason}); the passages stand."
        return CoachAnswer(
            question, hits, notices=[notice], rejections=[rejection], model_failed=True
        )
    return CoachAnswer(question, hits, text, generator.provenance, cited)


def check_answer(
    draft: AnswerDraft, hits: list[SearchHit], prompt: str, *, embed=None
) -> tuple[str, list[int], str | None]:
    """The cleaned answer, the passages it cites, and why it is refused (None if it passes)."""
    text = clean(draft.answer)
    cited = sorted({n for n in draft.passages if 1 <= n <= len(hits)})
    reason = _form(draft.answer, text, prompt)
    if reason is None and not cited:
        reason = "cites none of the passages it was given"
    if reason is None and embed is not None:
        reason = _off_passages(text, [hits[n - 1].text for n in cited], embed)
    return text, cited, reason


def _form(raw: str, text: str, prompt: str) -> str | None:
    control = next((ch for ch in raw if is_control(ch)), None)
    if control is not None:
        return f"control character U+{ord(control):04X}"
    if len(text) < MIN_CHARS:
        return f"too short ({len(text)} chars, at least {MIN_CHARS})"
    if len(text) > MAX_CHARS:
        return f"too long ({len(text)} chars, at most {MAX_CHARS})"
    problem = repetition(text)
    if problem is not None:
        return f"repetition loop: {problem}"
    problem = leak(text)
    if problem is None and (match := _SCAFFOLD.search(text)):
        problem = f"prompt text leaked: '{match.group(0).strip()}'"
    if problem is not None:
        return problem
    if copied := copied_run(text, prompt_grams(prompt, inputs_in_prompt=True)):
        return f"copied from the prompt's example: '{copied}'"
    if not _SENTENCE_END.search(text):
        return "ends mid-sentence"
    return None


def _off_passages(text: str, passages: list[str], embed) -> str | None:
    rows = unit_rows(embed([text, *passages]))
    score = float(np.max(rows[1:] @ rows[0]))
    if score < RELEVANCE_THRESHOLD:
        return f"not about the passages it cites (similarity {score:.2f})"
    return None

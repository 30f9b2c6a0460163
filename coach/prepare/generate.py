"""A model's contribution to a plan: new items on top of the grounded plan, each one gated.

The grounded plan is composed first and is always complete, so a model can only add to it: every
section asks the model for a few new items (one pydantic-ai agent run per prompt template), the
quality gates keep what is new, relevant and well formed, and the grounded pool fills the rest.
Whatever goes wrong with the model (unreachable, too slow, an answer that never validates) costs
that section its generated items and adds a notice, never the plan. After a connection failure or
a timeout the remaining sections are not tried: one wait is enough to learn the server is away.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coach.prepare.drafts import ExerciseDraft, RecapDraft, lines_of
from coach.prepare.gates import Gates
from coach.prepare.plan import PlanExercise, PlanItem, Rejection, SessionPlan
from coach.prepare.prompts import PromptError

if TYPE_CHECKING:
    from pydantic_ai.models import Model

    from coach.knowledge.base import KnowledgeBase
    from coach.plugins.models import Topic
    from coach.prepare.prompts import PromptLibrary
    from coach.sessions.experiments import Recap
    from coach.settings import Settings

ASK = {"icebreakers": 4, "questions": 4, "tips": 2}
"""New items asked for per list: a few, so a small model stays on its examples' level."""
TARGET = 6
"""Icebreakers and questions in a plan, as in the grounded one."""


def generator_for(
    settings: Settings, spec_text: str | None = None, seed: int = 0
) -> tuple[Generator | None, str | None]:
    """The configured (or named) backend as a Generator, None for the grounded plan, and a note.

    Raises ``BackendError`` for a spec that cannot work; nothing is loaded or called yet.
    """
    from coach.prepare.backends import build_model, default_spec, parse_spec

    spec, note = default_spec(settings) if spec_text is None else (parse_spec(spec_text), None)
    model = build_model(spec, settings)
    if model is None:
        return None, note
    return Generator(model=model, label=spec.label, settings=settings, seed=seed), note


class BackendDown(Exception):
    """The backend cannot be reached or does not answer in time; stop asking it."""


@dataclass(frozen=True)
class Passage:
    """A knowledge passage as the prompt templates see it."""

    text: str
    chunk_id: str


@dataclass
class Generator:
    """One model behind one pydantic-ai agent per output type, with the run's limits."""

    model: Model
    label: str
    """The backend spec, e.g. ``embedded`` or ``openai:qwen@http://127.0.0.1:8080/v1``."""
    settings: Settings
    seed: int = 0
    log: list[str] = field(default_factory=list)
    """One line per agent run (section, seconds, outcome), for --explain and benchmarks."""

    @property
    def provenance(self) -> str:
        return f"model:{self.model.model_name}"

    @property
    def writes_exercises(self) -> bool:
        """False for a base model run as plain completion, such as the embedded Gemma 270M.

        Measured on the built-in topics: an exercise took it about 4 s (a third of the 10 s
        budget for a whole plan), 10 of 24 answers did not validate, and the steps that passed
        the gates rarely made a workable exercise. The plugin's curated exercise stays instead.
        """
        from coach.prepare.llama import LlamaCppModel

        return not (isinstance(self.model, LlamaCppModel) and not self.model.is_chat)

    def ask(self, section: str, prompt: str, output_type: type) -> Any:
        """One validated answer, or an exception; pydantic-ai retries answers that do not parse."""
        from pydantic_ai import Agent

        from coach.prepare.backends import schema_settings

        started = time.perf_counter()
        agent = Agent(self.model, output_type=output_type, retries=self.settings.model_retries)
        settings = {
            "seed": self.seed,
            "max_tokens": self.settings.model_max_tokens,
            "temperature": 0.7,
            "timeout": self.settings.model_timeout_s,
            **schema_settings(self.model, output_type.model_json_schema()),
        }
        try:
            result = agent.run_sync(
                prompt,
                model_settings=settings,
                timeout=self.settings.model_timeout_s * (self.settings.model_retries + 1),
            )
        except Exception as exc:
            self.log.append(f"{section}: failed after {time.perf_counter() - started:.1f} s")
            if _is_unreachable(exc):
                raise BackendDown(_reason(exc)) from exc
            raise
        self.log.append(f"{section}: {time.perf_counter() - started:.1f} s")
        return result.output


def _is_unreachable(exc: BaseException) -> bool:
    import httpx
    import openai

    down = (openai.APIConnectionError, httpx.TransportError, TimeoutError, FileNotFoundError)
    return isinstance(exc, down) or isinstance(exc.__cause__, down)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def generate_plan(
    grounded: SessionPlan,
    topic: Topic,
    *,
    generator: Generator,
    prompts: PromptLibrary,
    kb: KnowledgeBase | None,
    last: Recap | None = None,
    progress: Callable[[str], None] | None = None,
) -> SessionPlan:
    """``grounded`` with the model's gated items added; notices say what the model did not do.

    ``progress(section)`` is called before the model is asked for each section (see
    :func:`sections_asked`), so a screen can say what the model is writing.
    """
    passages = plan_passages(grounded)
    gates = Gates.for_topic(topic, embed=kb.embedder.embed if kb is not None else None)
    run = _Run(generator, gates)
    update: dict[str, Any] = {}

    def step(section: str) -> None:
        if progress is not None:
            progress(section)

    try:
        for section in ("icebreakers", "questions"):
            step(section)
            prompt = section_prompt(prompts, topic, section, passages, ASK[section])
            update[section] = run.lines(section, prompt, getattr(grounded, section))
        if generator.writes_exercises:
            step("exercise")
            exercise = run.exercise(
                prompts.render("exercise", topic=topic, examples=topic.exercises, passages=passages)
            )
            if exercise is not None:
                update["exercise"] = exercise
        for role, current in (("mentor", grounded.mentor_tips), ("mentee", grounded.mentee_tips)):
            section = f"{role}_tips"
            step(section)
            prompt = section_prompt(prompts, topic, section, passages, ASK["tips"])
            update[section] = run.tips(section, prompt, current, len(getattr(topic, section)))
        if grounded.recap and last is not None:
            step("recap")
            update["recap"] = run.recap(grounded.recap, last, prompts)
    except BackendDown as exc:
        run.notices.append(
            f"The model backend '{generator.label}' did not answer ({exc}): "
            "the rest of this plan is the grounded one."
        )
    except PromptError as exc:  # e.g. a user's override names a variable that does not exist
        run.notices.append(f"{exc}: the rest of this plan is the grounded one.")
    generated = sum(item.provenance == generator.provenance for _, item in _items(grounded, update))
    if generated == 0 and not any("did not answer" in n for n in run.notices):
        run.notices.append(
            f"The model '{generator.label}' wrote nothing that passed the quality gates: "
            "this plan is the grounded one."
        )
    return grounded.model_copy(
        update={
            **update,
            "backend": generator.label,
            "notices": [*grounded.notices, *run.notices],
            "rejections": [*grounded.rejections, *run.rejections],
        }
    )


def sections_asked(generator: Generator, grounded: SessionPlan, last: Recap | None) -> list[str]:
    """The sections ``generate_plan`` asks the model for, in order (for a progress bar)."""
    sections = ["icebreakers", "questions"]
    sections += ["exercise"] if generator.writes_exercises else []
    sections += ["mentor_tips", "mentee_tips"]
    return sections + (["recap"] if grounded.recap and last is not None else [])


def plan_passages(plan: SessionPlan) -> list[Passage]:
    return [
        Passage(item.text, item.provenance.removeprefix("knowledge:")) for item in plan.passages
    ]


def section_prompt(
    prompts: PromptLibrary, topic: Topic, section: str, passages: list[Passage], count: int
) -> str:
    """The prompt asking for ``count`` new items of a list section (icebreakers ... mentee_tips)."""
    if section == "icebreakers":
        return prompts.render("icebreakers", topic=topic, examples=topic.icebreakers, count=count)
    if section == "questions":
        return prompts.render(
            "questions", topic=topic, examples=topic.questions, passages=passages, count=count
        )
    role = section.removesuffix("_tips")
    if role not in ("mentor", "mentee"):
        raise ValueError(f"no prompt asks for single {section} items")
    return prompts.render(
        "tips",
        topic=topic,
        role=role,
        examples=getattr(topic, section),
        passages=passages,
        count=count,
    )


SINGLE_ITEM_SECTIONS = ("icebreakers", "questions", "mentor_tips", "mentee_tips")
"""The sections a model can write one new item for (``generate_item``)."""


def generate_item(
    plan: SessionPlan,
    topic: Topic,
    section: str,
    *,
    generator: Generator,
    prompts: PromptLibrary,
    kb: KnowledgeBase | None,
) -> tuple[PlanItem | None, list[Rejection], list[str]]:
    """One new gated item for ``section``: the item (or None), the rejections and the notices.

    The gates treat every item already in ``plan`` as part of the bank, so the new item never
    repeats (or paraphrases, with a knowledge base) anything the plan holds.
    """
    from coach.prepare.gates import bank_texts

    gates = Gates(
        topic_text=f"{topic.title}. {topic.summary} {' '.join(topic.objectives)}",
        bank=[*bank_texts(topic), *(item.text for _, item in plan.items())],
        topic_parts=[topic.title, topic.summary, *topic.objectives],
        embed=kb.embedder.embed if kb is not None else None,
    )
    run = _Run(generator, gates)
    prompt = section_prompt(prompts, topic, section, plan_passages(plan), 1)
    try:
        answer = run._answer(section, prompt, lines_of(2))
    except BackendDown as exc:
        return None, [], [f"The model backend '{generator.label}' did not answer ({exc})."]
    if answer is None:
        return None, [], run.notices
    accepted = run._gate(section, answer.items, prompt)
    return (accepted[0] if accepted else None), run.rejections, run.notices


def _items(grounded: SessionPlan, update: dict[str, Any]) -> list[tuple[str, PlanItem]]:
    return grounded.model_copy(update=update).items()


@dataclass
class _Run:
    generator: Generator
    gates: Gates
    notices: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def _answer(self, section: str, prompt: str, output_type: type) -> Any | None:
        try:
            return self.generator.ask(section, prompt, output_type)
        except BackendDown:
            raise
        except Exception as exc:
            self.notices.append(
                f"{section}: the model gave no usable answer ({_reason(exc)}); "
                "the grounded items stay."
            )
            return None

    def _gate(self, section: str, texts: list[str], prompt: str) -> list[PlanItem]:
        accepted, rejected = self.gates.check(
            section, texts, provenance=self.generator.provenance, prompt=prompt
        )
        self.rejections += rejected
        return [PlanItem(text=text, provenance=self.generator.provenance) for text in accepted]

    def lines(self, section: str, prompt: str, grounded: list[PlanItem]) -> list[PlanItem]:
        """New items first, then the grounded ones: rejected slots are filled from that pool."""
        answer = self._answer(section, prompt, lines_of(ASK[section] + 1))
        if answer is None:
            return grounded
        new = self._gate(section, answer.items, prompt)[: ASK[section]]
        return new + grounded[: max(TARGET - len(new), 0)]

    def tips(
        self, section: str, prompt: str, grounded: list[PlanItem], from_plugin: int
    ) -> list[PlanItem]:
        """The plugin's tips, then the model's, then the knowledge base's."""
        answer = self._answer(section, prompt, lines_of(ASK["tips"] + 1))
        if answer is None:
            return grounded
        new = self._gate(section, answer.items, prompt)[: ASK["tips"]]
        return grounded[:from_plugin] + new + grounded[from_plugin:]

    def exercise(self, prompt: str) -> PlanExercise | None:
        """A generated exercise if its title, goal and at least three steps pass the gates."""
        answer: ExerciseDraft | None = self._answer("exercise", prompt, ExerciseDraft)
        if answer is None:
            return None
        steps = self._gate("exercise", answer.steps, prompt)
        framing, rejected = self.gates.check(
            "exercise_goal", [answer.goal], provenance=self.generator.provenance, prompt=prompt
        )
        self.rejections += [r.model_copy(update={"section": "exercise"}) for r in rejected]
        if len(steps) < 3 or not framing:
            self.notices.append(
                "exercise: the generated one did not pass the gates; kept the plugin's."
            )
            return None
        return PlanExercise(
            title=answer.title,
            goal=framing[0],
            minutes=answer.minutes,
            steps=steps,
            provenance=self.generator.provenance,
        )

    def recap(self, facts: list[PlanItem], last: Recap, prompts: PromptLibrary) -> list[PlanItem]:
        """A spoken opener from last session's summary and open experiments, above the facts."""
        prompt = prompts.render(
            "recap", summary=last.last_summary, notes=[], experiments=last.open_experiments
        )
        answer: RecapDraft | None = self._answer("recap", prompt, RecapDraft)
        if answer is None:
            return facts
        return self._gate("recap", [answer.recap], prompt) + facts

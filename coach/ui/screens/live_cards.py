"""What the live screen shows for each phase: its cards (Markdown) and the agenda's items.

Plan sections are mapped to the phase where a pair uses them, so a phase never shows the whole
plan at once:

- ``check-in``, ``introductions``: icebreakers (a warm-up before anything else);
- ``recap``: the plan's recap lines and the pair's open experiments;
- ``core``, ``question``: the exercise (title, goal, steps), the discussion questions, the
  mentor's tips and the knowledge passages (the mentor leads the hands-on part);
- ``share-back``: the mentee's tips (the mentee shares context back);
- ``action-plan``, ``next-step``: the open experiments again, and the suggested next topics;
- ``agreement``, ``fit-check``, ``close`` and phases of plugin templates: the guidance only,
  unless their id names one of the above (``*check-in*``, ``*core*``, ``*share*``...).

Every phase shows its guidance first. Pure functions: the screen passes in what it loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coach.prepare.plan import PlanItem, SessionPlan
    from coach.sessions.experiments import OpenExperiment, Recap

CARDS: dict[str, tuple[str, ...]] = {
    "check-in": ("icebreakers",),
    "introductions": ("icebreakers",),
    "recap": ("recap", "experiments"),
    "core": ("exercise", "questions", "mentor_tips", "passages"),
    "question": ("questions", "exercise"),
    "share-back": ("mentee_tips",),
    "action-plan": ("experiments", "next_topics"),
    "next-step": ("experiments",),
}
KEYWORDS = (
    ("ice", "check-in"),
    ("intro", "introductions"),
    ("recap", "recap"),
    ("core", "core"),
    ("hands", "core"),
    ("share", "share-back"),
    ("action", "action-plan"),
)
AGREEMENT = ("cadence", "confidentiality", "boundaries", "feedback style", "no-blame exit")


def sections_for(phase_id: str) -> tuple[str, ...]:
    """Which plan sections a phase shows (see the module docstring)."""
    if phase_id in CARDS:
        return CARDS[phase_id]
    for word, known in KEYWORDS:
        if word in phase_id:
            return CARDS[known]
    return ()


def _items(items: Sequence[PlanItem], limit: int = 6) -> list[str]:
    return [f"- {' '.join(item.text.split())}" for item in items[:limit]]


def _experiment(item: OpenExperiment) -> str:
    due = f", due {item.due_date.isoformat()}" if item.due_date else ""
    late = " **(overdue)**" if item.overdue else ""
    return f"- {item.title} _({item.owner}{due})_{late}"


def phase_markdown(
    phase: dict,
    guidance: str,
    plan: SessionPlan | None,
    recap: Recap | None,
    plan_note: str = "",
) -> str:
    """The cards of one phase: title and guidance, then its plan sections."""
    out = [f"## {phase['title']} ({phase['planned_minutes']} min)", ""]
    if guidance:
        out += [guidance, ""]
    for section in sections_for(phase["phase_id"]):
        out += _section(section, plan, recap)
    if plan_note and sections_for(phase["phase_id"]):
        out += [f"_{plan_note}_", ""]
    return "\n".join(out).rstrip() + "\n"


def _section(section: str, plan: SessionPlan | None, recap: Recap | None) -> list[str]:
    if section == "experiments":
        if recap is None or not recap.open_experiments:
            return []
        return ["### Open experiments", "", *map(_experiment, recap.open_experiments), ""]
    if plan is None:
        return []
    if section == "exercise":
        ex = plan.exercise
        if ex is None:
            return []
        steps = [f"{n}. {' '.join(s.text.split())}" for n, s in enumerate(ex.steps, start=1)]
        return [
            f"### Exercise: {ex.title} ({ex.minutes} min)",
            "",
            f"Goal: {ex.goal}",
            "",
            *steps,
            "",
        ]
    if section == "next_topics":
        if not plan.next_topics:
            return []
        lines = [f"- **{t.title}**: {t.reason}" for t in plan.next_topics[:3]]
        return ["### Next topics", "", *lines, ""]
    titles = {
        "icebreakers": "Icebreakers",
        "questions": "Questions",
        "recap": "Recap",
        "mentor_tips": "Tips for the mentor",
        "mentee_tips": "Tips for the mentee",
        "passages": "From the knowledge base",
    }
    items = getattr(plan, section)
    if not items:
        return []
    limit = 3 if section == "passages" else 6
    return [f"### {titles[section]}", "", *_items(items, limit), ""]


@dataclass(frozen=True)
class AgendaItem:
    key: str
    """Stable across runs (``phase:core``, ``experiment:12``): the stored tick refers to it."""
    label: str


def agenda_items(
    phases: Sequence[dict], plan: SessionPlan | None, recap: Recap | None
) -> list[AgendaItem]:
    """One item per phase, with what to get done in it right below."""
    items: list[AgendaItem] = []
    for phase in phases:
        pid = phase["phase_id"]
        items.append(
            AgendaItem(f"phase:{pid}", f"{phase['title']} ({phase['planned_minutes']} min)")
        )
        if pid == "agreement":
            items += [AgendaItem(f"agreement:{part}", f"  ↳ agree on {part}") for part in AGREEMENT]
        sections = sections_for(pid)
        if "experiments" in sections and pid.startswith("recap") and recap is not None:
            items += [
                AgendaItem(f"experiment:{e.id}", f"  ↳ talk through: {e.title}")
                for e in recap.open_experiments
            ]
        if "exercise" in sections and plan is not None and plan.exercise is not None:
            items.append(AgendaItem(f"exercise:{pid}", f"  ↳ exercise: {plan.exercise.title}"))
        if pid in ("action-plan", "next-step"):
            items.append(
                AgendaItem(f"experiments-agreed:{pid}", "  ↳ experiments with owner and due date")
            )
        if pid == "close":
            items.append(AgendaItem("next-date", "  ↳ confirm the next session's date"))
    return items


def recap_markdown(recap: Recap | None) -> str:
    """Last session's summary and the open experiments, for the Recap tab."""
    if recap is None:
        return "_Loading…_\n"
    out: list[str] = []
    if recap.last_number is None:
        out += [
            "## Last session",
            "",
            "This is the pair's first session: nothing to recap yet.",
            "",
        ]
    else:
        when = recap.last_ended_at.date().isoformat() if recap.last_ended_at else "?"
        summary = recap.last_summary.strip() or "_No summary was kept._"
        out += [f"## Last session (#{recap.last_number}, {when})", "", summary, ""]
    out += ["## Open experiments", ""]
    out += [*map(_experiment, recap.open_experiments)] or ["None open."]
    return "\n".join(out).rstrip() + "\n"


def answer_markdown(answer) -> str:
    """A ``CoachAnswer``: the generated answer (if any), notices, then the passages and sources."""
    from pathlib import Path

    out = [f"**Q:** {answer.question}", ""]
    if answer.answer:
        cited = ", ".join(str(n) for n in answer.cited)
        out += [
            f"**Coach:** {answer.answer}",
            "",
            f"_{answer.provenance}, from passages {cited}_",
            "",
        ]
    out += [f"> {notice}\n" for notice in answer.notices]
    for number, hit in enumerate(answer.passages, start=1):
        where = (hit.heading or hit.title).replace(" > ", " › ")
        text = " ".join(hit.text.split())
        if len(text) > 420:
            text = text[:420].rsplit(" ", 1)[0] + " …"
        out += [f"**{number}. {where}**  ", f"`{Path(hit.source).name}`", "", text, ""]
    return "\n".join(out).rstrip() + "\n"

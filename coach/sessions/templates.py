"""The built-in session templates, and the catalogue that merges them with plugin templates.

A template is only a plan: scheduling a session copies its phases into ``SessionPhase`` rows, so
editing or removing a template later never changes a session that was already scheduled.

Merge rule: plugins may *add* templates but never replace a built-in one. A pair's first session
and the standard session carry the programme's method (the agreement, the fit check, the recap of
experiments), and a plugin silently redefining ``standard-60`` would change every pair's sessions.
A plugin template whose id clashes with a built-in is therefore left out, with a warning that
names the plugin; clashes between plugins are already settled by the plugin host.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from coach.plugins.models import Phase, SessionTemplate

if TYPE_CHECKING:
    from coach.plugins.host import PluginHost
    from coach.sessions.models import SessionPhase

FIRST_SESSION = "first-session"
STANDARD = "standard-60"
CHECK_IN = "check-in-30"

_CLOSE = Phase(
    id="close",
    title="Close",
    minutes=3,
    guidance=(
        "Each of you names one thing you are taking away. Confirm the date of the next session "
        "before you hang up."
    ),
)

_ACTION_PLAN = Phase(
    id="action-plan",
    title="Action plan",
    minutes=7,
    guidance=(
        "Agree one or two small experiments to try before you meet again, each with an owner "
        "and a due date. Small and done beats ambitious and forgotten."
    ),
)

STANDARD_60 = SessionTemplate(
    id=STANDARD,
    title="Standard session (60 minutes)",
    description="The regular shape of a session: recap, one topic hands-on, share back, plan.",
    phases=[
        Phase(
            id="check-in",
            title="Check-in and icebreaker",
            minutes=5,
            guidance=(
                "Start with the icebreaker or a quick 'how was your week'. It is there to warm "
                "up, not to solve anything, so keep it light and short."
            ),
        ),
        Phase(
            id="recap",
            title="Recap and experiments",
            minutes=10,
            guidance=(
                "Go through the experiments from last time: what was tried, what happened, what "
                "got in the way. Mark each one done, still open or dropped."
            ),
        ),
        Phase(
            id="core",
            title="Core topic, hands-on",
            minutes=25,
            guidance=(
                "The mentor walks the mentee through the topic on the mentee's own device and "
                "accounts. The mentee drives the keyboard and the mentor explains."
            ),
        ),
        Phase(
            id="share-back",
            title="Mentee shares back",
            minutes=10,
            guidance=(
                "The mentee shares context from their side: how the organisation sees the topic, "
                "who decides, what the mentor could try in their own role."
            ),
        ),
        _ACTION_PLAN,
        _CLOSE,
    ],
)

FIRST_SESSION_TEMPLATE = SessionTemplate(
    id=FIRST_SESSION,
    title="First session (65 minutes)",
    description=(
        "Getting to know each other, agreeing how the pair works, a first taste of a topic and "
        "an honest check that the pairing fits."
    ),
    phases=[
        Phase(
            id="introductions",
            title="Introductions",
            minutes=10,
            guidance=(
                "Each of you says what you do day to day and what you hope to get out of the "
                "programme. The mentor goes first, which sets the direction of this pairing."
            ),
        ),
        Phase(
            id="agreement",
            title="Working agreement",
            minutes=15,
            guidance=(
                "Agree and write down: how often you meet (cadence), what stays between you "
                "(confidentiality), topics that are off limits (boundaries), and how the mentor "
                "should give feedback up (feedback style). Also agree on the no-blame exit: "
                "either of you can end the pairing at any time without giving a reason."
            ),
        ),
        Phase(
            id="core",
            title="A first topic, hands-on",
            minutes=20,
            guidance=(
                "Try one small, concrete thing from the mentee's wish list on their own device. "
                "The aim is a quick early success, not covering the whole topic."
            ),
        ),
        Phase(
            id="share-back",
            title="Mentee shares back",
            minutes=8,
            guidance=(
                "The mentee explains how the organisation sees the topic you just tried, and "
                "what in their world the mentor would like to understand better."
            ),
        ),
        _ACTION_PLAN,
        Phase(
            id="fit-check",
            title="Good fit?",
            minutes=5,
            guidance=(
                "Each of you says honestly whether this pairing is a good fit. If it is not, "
                "use the no-blame exit: tell the programme lead, and nobody has to explain."
            ),
        ),
    ],
)

CHECK_IN_30 = SessionTemplate(
    id=CHECK_IN,
    title="Check-in (30 minutes)",
    description="A short session between full ones: experiments, one question, the next step.",
    phases=[
        Phase(
            id="check-in",
            title="Check-in",
            minutes=3,
            guidance="A quick round of how you both are. Skip the icebreaker today.",
        ),
        Phase(
            id="recap",
            title="Experiments",
            minutes=10,
            guidance=(
                "Go through the open experiments one by one and mark each done, open or dropped. "
                "For a stuck one, name what got in the way."
            ),
        ),
        Phase(
            id="question",
            title="One question",
            minutes=10,
            guidance=(
                "The mentee brings one question or one tool to try live. Solve that one thing "
                "together rather than starting a new topic."
            ),
        ),
        Phase(
            id="next-step",
            title="Next step",
            minutes=5,
            guidance="Agree at most one new experiment, with an owner and a due date.",
        ),
        Phase(
            id="close",
            title="Close",
            minutes=2,
            guidance="Confirm when the next full session takes place.",
        ),
    ],
)

BUILTIN_TEMPLATES: dict[str, SessionTemplate] = {
    template.id: template for template in (FIRST_SESSION_TEMPLATE, STANDARD_60, CHECK_IN_30)
}


class TemplateCatalogue(dict[str, SessionTemplate]):
    """Template id -> template, built-ins first; ``warnings`` lists plugin templates left out.

    A dict, so callers that only look templates up need nothing else; the warnings travel with
    it so the CLI or TUI can show them once, where it shows the host's other plugin warnings.
    """

    def __init__(self, templates: Iterable[SessionTemplate], warnings: Iterable[str] = ()) -> None:
        super().__init__((template.id, template) for template in templates)
        self.warnings: list[str] = list(warnings)


def all_templates(host: PluginHost | None = None) -> TemplateCatalogue:
    """Built-in templates plus the templates plugins registered.

    A plugin template with a built-in id is ignored and reported in ``warnings``; the host is not
    changed, so calling this twice reports the same warnings twice rather than piling them up.
    """
    templates = list(BUILTIN_TEMPLATES.values())
    warnings = []
    if host is not None:
        for template_id, contribution in host.session_templates.items():
            if template_id in BUILTIN_TEMPLATES:
                warnings.append(
                    f"plugin '{contribution.plugin}': session template '{template_id}' is "
                    "ignored because a built-in template has that id; give it another id"
                )
            else:
                templates.append(contribution.value)
    return TemplateCatalogue(templates, warnings)


def session_phases(template: SessionTemplate) -> list[SessionPhase]:
    """Fresh phase rows for a session run from ``template``, in order, with no time spent."""
    from coach.sessions.models import SessionPhase

    return [
        SessionPhase(
            position=position,
            phase_id=phase.id,
            title=phase.title,
            planned_minutes=phase.minutes,
            guidance=phase.guidance,
            seconds_spent=0.0,
        )
        for position, phase in enumerate(template.phases)
    ]

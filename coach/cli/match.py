"""`coach match`: propose mentor-mentee pairs with their reasons, and save them on request.

Input is checked whole before anything is embedded or saved: a bad CSV lists every problem by
row and exits 1 (as `coach people import` does), and nothing is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from coach.cli.common import fail, settings

if TYPE_CHECKING:
    from coach.matching.models import MatchRules, Proposal


def match(
    people: Annotated[
        Path | None,
        typer.Argument(
            metavar="[PEOPLE.csv]",
            exists=True,
            dir_okay=False,
            help="People to match: the `coach people import` columns, plus an optional"
            " `interests` column (';'-separated).",
        ),
    ] = None,
    from_db: Annotated[
        bool,
        typer.Option("--from-db", help="Match the programme's people who are not in a pair yet."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Every reason with its similarity, and the rules.")
    ] = False,
    save: Annotated[
        bool,
        typer.Option("--accept", help="Save the proposed pairs (and the CSV's people) at once."),
    ] = False,
    max_mentees: Annotated[
        int | None,
        typer.Option("--max-mentees", min=1, max=20, help="Mentees per mentor (else settings)."),
    ] = None,
) -> None:
    """Pair mentors with mentees by what one can teach and the other wants to learn."""
    if (people is None) == (not from_db):
        raise fail("give a PEOPLE.csv file or --from-db (one of them)", code=2)
    import dataclasses
    import json

    from coach.cli.common import plugin_host
    from coach.cli.programme import programme
    from coach.matching.service import (
        accept,
        candidates_from_csv,
        candidates_from_db,
        criteria_from_host,
        proposal_dict,
        propose,
        rules_from_settings,
    )
    from coach.sessions.errors import InputError

    current = settings()
    rules = rules_from_settings(current)
    if max_mentees is not None:
        rules = dataclasses.replace(rules, max_mentees_per_mentor=max_mentees)
    if people is not None:
        try:
            candidates = candidates_from_csv(people)
        except InputError as exc:
            raise fail(str(exc)) from None
    else:
        with programme() as db:
            candidates = candidates_from_db(db)
    if not candidates:
        typer.echo("No one to match: everyone in the programme is already in an active pair.")
        return
    criteria = criteria_from_host(plugin_host(current))
    try:
        proposal = propose(candidates, embedder=_Lazy(current), rules=rules, criteria=criteria)
    except InputError as exc:
        raise fail(str(exc)) from None
    saved: list[int] | None = None
    if save:
        with programme() as db:
            saved = accept(db, proposal)
    if as_json:
        data = proposal_dict(proposal)
        if explain:
            data["rules"] = dataclasses.asdict(rules)
        if saved is not None:
            data["saved_pair_ids"] = saved
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    _print(proposal, rules, explain)
    if saved is not None:
        added = sum(1 for c in candidates if c.person_id is None)  # a CSV's people are all added
        extra = f"; added {added} people to the programme" if added else ""
        ids = ", ".join(map(str, saved)) or "none"
        typer.echo(f"Saved {len(saved)} pair(s) (ids {ids}){extra}.")


class _Lazy:
    """The configured embedder, loaded only if someone needs embedding (a run with only
    mentees, say, never loads the model)."""

    def __init__(self, current) -> None:
        self.current = current
        self.model = None

    def embed(self, texts: list[str]):
        if self.model is None:
            from coach.knowledge.embedder import load_embedder

            self.model = load_embedder(self.current.embedding_backend, self.current.models_dir)
        return self.model.embed(texts)


def _print(proposal: Proposal, rules: MatchRules, explain: bool) -> None:
    from rich.console import Console
    from rich.markup import escape

    out = Console(highlight=False, soft_wrap=True)
    if explain:
        out.print(
            "Rules: "
            + "; ".join(
                [
                    f"same department {'avoided' if rules.avoid_same_department else 'allowed'}",
                    f"reporting line {'avoided' if rules.avoid_reporting_line else 'allowed'}",
                    "timezones: no limit"
                    if rules.max_timezone_hours is None
                    else f"timezones at most {rules.max_timezone_hours:g} h apart",
                    f"up to {rules.max_mentees_per_mentor} mentee(s) per mentor",
                    f"+{rules.interest_bonus:g} per shared interest (up to 3)",
                ]
            )
        )
    out.print(f"[bold]{len(proposal.pairs)} pair(s)[/], total score {proposal.total_score:.2f}")
    for number, pair in enumerate(proposal.pairs, start=1):
        lock = " (locked)" if pair.locked else ""
        out.print(
            f"{number:>3}. {escape(_who(pair.mentor))} -> {escape(_who(pair.mentee))}"
            f"  score {pair.score:.2f}{lock}"
        )
        reasons = pair.reasons if explain else [r for r in pair.reasons if r.kind == "skill"][:2]
        for reason in reasons:
            out.print(f"       {escape(_reason(reason))}")
    if proposal.unmatched:
        out.print(f"[bold]Unmatched ({len(proposal.unmatched)})[/]")
        for item in proposal.unmatched:
            who = f"{_who(item.candidate)} ({item.candidate.role})"
            out.print(f"  - {escape(who)}: {escape(item.reason)}")
    for notice in proposal.notices:
        out.print(f"[yellow]note:[/] {escape(notice)}")


def _who(candidate) -> str:
    where = f"row {candidate.row}" if candidate.row else f"id {candidate.person_id}"
    return f"{candidate.name} [{where}]" if candidate.row or candidate.person_id else candidate.name


def _reason(reason) -> str:
    if reason.kind == "skill":
        return f"skill {reason.mentor_side!r} meets {reason.mentee_side!r} ({reason.weight:.2f})"
    if reason.kind == "interest":
        return f"shared interest {reason.mentor_side!r} (+{reason.weight:g})"
    return f"{reason.kind}: {reason.weight:+g}"

"""`coach prepare`: a plan for a session, printed as Markdown or JSON and kept with the pair.

Only the grounded backend (``--model none``) exists in this release; the option is there now so
scripts written today keep working when model backends arrive.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated

import typer

from coach.cli.common import fail, knowledge_base, sync_default_collection

BACKENDS = ("none",)


def prepare(
    topic: Annotated[str, typer.Option("--topic", help="Topic id (see `coach topics list`).")],
    pair: Annotated[
        int | None, typer.Option("--pair", help="Prepare the pair's next session and keep it.")
    ] = None,
    model: Annotated[
        str, typer.Option("--model", help="Backend; only 'none' (no model) for now.")
    ] = "none",
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same selection.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the plan as Markdown to this file.")
    ] = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Prepare again even if the session has a plan.")
    ] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show where every item came from.")
    ] = False,
) -> None:
    """Prepare a session on a topic: icebreakers, questions, an exercise, tips and passages."""
    if model not in BACKENDS:
        raise fail("model backends other than 'none' are not available yet", code=2)
    from coach.prepare.service import prepare_session
    from coach.sessions.errors import InputError

    kb, host = knowledge_base(None)
    sync_default_collection(kb, host)
    with _database(pair is not None) as db:
        try:
            plan = prepare_session(
                db, kb, host, topic_id=topic, pair_id=pair, seed=seed, refresh=refresh
            )
        except InputError as exc:
            raise fail(str(exc)) from None
    markdown = plan.to_markdown(explain=explain)
    if out is not None:
        try:
            out.write_text(markdown, encoding="utf-8")
        except OSError as exc:
            raise fail(f"cannot write {out}: {exc}") from None
    if as_json:
        typer.echo(json.dumps(plan.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    from rich.markdown import Markdown

    from coach.console import err
    from coach.console import out as console

    console.print(Markdown(markdown))
    if out is not None:
        err.print(f"Plan written to {out}")


@contextlib.contextmanager
def _database(needed: bool):
    """The programme database only when a pair is involved: a bare plan touches no data."""
    if not needed:
        yield None
        return
    from coach.cli.programme import programme

    with programme() as db:
        yield db

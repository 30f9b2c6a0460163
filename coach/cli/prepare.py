"""`coach prepare`: a plan for a session, printed as Markdown or JSON and kept with the pair.

``--model`` picks who writes new items on top of the grounded plan (see
``coach.prepare.backends``); without it the ``model`` setting decides, else the embedded model
when it is installed.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated

import typer

from coach.cli.common import (
    fail,
    knowledge_base,
    model_generator,
    prompt_library,
    sync_default_collection,
)


def prepare(
    topic: Annotated[str, typer.Option("--topic", help="Topic id (see `coach topics list`).")],
    pair: Annotated[
        int | None, typer.Option("--pair", help="Prepare the pair's next session and keep it.")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="none, embedded, gguf:PATH, ollama:MODEL or openai:MODEL@URL "
            "(default: the `model` setting, else embedded if installed).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same selection.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the plan as Markdown to this file.")
    ] = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Prepare again even if the session has a plan.")
    ] = False,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Show where every item came from, and what was rejected."),
    ] = False,
) -> None:
    """Prepare a session on a topic: icebreakers, questions, an exercise, tips and passages."""
    from coach.console import err
    from coach.prepare.service import prepare_session
    from coach.sessions.errors import InputError

    generator = model_generator(model, seed)
    kb, host = knowledge_base(None)
    sync_default_collection(kb, host)
    prompts = prompt_library(host) if generator else None
    with _database(pair is not None) as db:
        try:
            with err.status(f"Preparing with {generator.label if generator else 'no model'}…"):
                plan = prepare_session(
                    db,
                    kb,
                    host,
                    topic_id=topic,
                    pair_id=pair,
                    seed=seed,
                    refresh=refresh,
                    generator=generator,
                    prompts=prompts,
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

"""`coach prompts ...`: which prompt templates are in force, where each came from, their text.

A facilitator replaces a prompt by saving ``COACH_HOME/prompts/<name>.j2``; these commands show
whether that worked and what the replaced version said (``show NAME > that file`` is the usual
starting point, so ``show`` prints the template alone on stdout and its origin on stderr).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from coach.cli.common import fail, plugin_host, settings

if TYPE_CHECKING:
    from coach.prepare.prompts import PromptLibrary

app = typer.Typer(help="List and show the prompt templates Coach uses.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _library() -> PromptLibrary:
    """Built-ins, plugin prompts and the user's overrides; each problem printed as a warning."""
    from coach.prepare.prompts import PromptLibrary

    current = settings()
    library = PromptLibrary.load(current, plugin_host(current))
    for problem in library.problems:
        typer.secho(f"warning: {problem}", err=True, fg="yellow")
    return library


@app.command("list")
def prompts_list(as_json: JsonOption = False) -> None:
    """Every prompt in force: name, origin (builtin, plugin:NAME, user), file, what it replaced."""
    from rich.console import Console
    from rich.table import Table

    library = _library()
    templates = [library.get(name) for name in library.names()]
    if as_json:
        typer.echo(json.dumps([t.as_dict() for t in templates], indent=2))
        return
    table = Table(title="Prompts", title_justify="left")
    for column in ("Name", "Origin", "Path", "Overrides"):
        table.add_column(column, overflow="fold")
    for template in templates:
        path = str(template.path) if template.path else ""
        table.add_row(template.name, template.origin, path, ", ".join(template.overrides))
    Console().print(table)


@app.command("show")
def prompts_show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A prompt name from `prompts list`.")],
) -> None:
    """Print a prompt's template text (stdout) and where it comes from (stderr)."""
    from coach.prepare.prompts import PromptError

    library = _library()
    try:
        template = library.get(name)
    except PromptError as exc:
        raise fail(f"{exc}; see `coach prompts list`") from None
    replaced = f", replacing {', '.join(template.overrides)}" if template.overrides else ""
    typer.secho(f"# prompt '{template.name}' from {template.where}{replaced}", err=True, dim=True)
    sys.stdout.write(template.text)
    sys.stdout.flush()

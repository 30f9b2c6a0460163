"""`coach doctor`: the backends in use and whether each answers (exit 1 if one does not)."""

from __future__ import annotations

from typing import Annotated

import typer

from coach.cli.common import settings


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show which database, knowledge base, note store and model Coach uses, and check each."""
    from dataclasses import asdict

    from coach.doctor import probes

    found = probes(settings())
    if as_json:
        import json

        typer.echo(json.dumps([asdict(p) for p in found], indent=2, ensure_ascii=False))
    else:
        from rich.table import Table

        from coach.console import out

        table = Table(title="Coach doctor", title_justify="left")
        for column in ("Part", "Backend", "Where", "", "Detail"):
            table.add_column(column, overflow="fold")
        for probe in found:
            mark = "[green]✓[/]" if probe.ok else "[red]✗[/]"
            table.add_row(probe.part, probe.backend, probe.where, mark, probe.detail)
        out.print(table)
    if not all(probe.ok for probe in found):
        raise typer.Exit(1)

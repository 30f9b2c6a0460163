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
        from rich.text import Text

        from coach.console import out

        grid = Table.grid(padding=(0, 1))
        grid.add_column()
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for probe in found:
            about = Text(f"{probe.backend} · {probe.where}\n")
            about.append(probe.detail, style=None if probe.ok else "red")
            grid.add_row(Text("✓", "green") if probe.ok else Text("✗", "red"), probe.part, about)
        out.print(grid)
    if not all(probe.ok for probe in found):
        raise typer.Exit(1)

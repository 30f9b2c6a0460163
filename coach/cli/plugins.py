"""`coach plugins ...` and `coach topics ...`: what plugins are loaded and what they offer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from coach.cli.common import fail, plugin_host, settings

plugins_app = typer.Typer(help="List, check and create plugins.", no_args_is_help=True)
topics_app = typer.Typer(help="Browse the topics plugins provide.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]

STATUS_STYLE = {"ok": "green", "degraded": "yellow", "failed": "red", "disabled": "dim"}


@plugins_app.command("list")
def plugins_list(as_json: JsonOption = False) -> None:
    """Every plugin found: name, version, source, topic count and status with its problems."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    host = plugin_host(settings())
    if as_json:
        typer.echo(json.dumps([p.as_dict() for p in host.plugins], indent=2))
        return
    table = Table(title="Plugins", title_justify="left")
    for column in ("Name", "Version", "Source", "Topics", "Status"):
        table.add_column(column, justify="right" if column == "Topics" else "left")
    for plugin in host.plugins:
        style = STATUS_STYLE.get(plugin.status, "")
        status = f"[{style}]{plugin.status}[/]"
        details = "\n".join(escape(p) for p in (*plugin.errors, *plugin.warnings))
        table.add_row(
            plugin.name,
            plugin.version,
            plugin.source,
            str(len(plugin.topics)),
            f"{status}\n{details}" if details else status,
        )
    Console().print(table)


@plugins_app.command("check")
def plugins_check(
    path: Annotated[Path, typer.Argument(help="The plugin folder to validate.")],
    as_json: JsonOption = False,
) -> None:
    """Validate a plugin folder before installing it (exit 1 when it has problems)."""
    from coach.plugins.check import check_plugin

    if not path.is_dir():
        raise fail(f"{path} is not a folder", code=2)
    check = check_plugin(path, settings())
    if as_json:
        typer.echo(json.dumps(check.as_dict(), indent=2))
    else:
        info = check.info
        colour = STATUS_STYLE.get(info.status, "white")
        typer.secho(f"{info.name} {info.version}: {info.status}", fg=colour, bold=True)
        typer.echo(f"  topics: {', '.join(info.topics) or 'none'}")
        for error in info.errors:
            typer.secho(f"  error: {error}", fg="red")
        for warning in info.warnings:
            typer.secho(f"  warning: {warning}", fg="yellow")
    if not check.ok:
        raise typer.Exit(1)


@plugins_app.command("new")
def plugins_new(
    name: Annotated[str, typer.Argument(help="Plugin name: lowercase letters, digits and '-'.")],
    python: Annotated[
        bool, typer.Option("--python", help="A Python plugin instead of a declarative pack.")
    ] = False,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Where to create it (default: your plugins folder)."),
    ] = None,
) -> None:
    """Create a working plugin, with its own passing test, to edit from."""
    from coach.plugins.scaffold import scaffold

    current = settings()
    target_dir = directory or current.plugin_dirs[0]
    try:
        created = scaffold(name, target_dir, python)
    except (ValueError, FileExistsError) as exc:
        raise fail(str(exc), code=2 if isinstance(exc, ValueError) else 1) from None
    kind = "Python plugin" if python else "topic pack"
    typer.echo(f"Created {kind} {created}")
    typer.echo(f"  edit    {created / 'plugin.toml'}")
    typer.echo(f"  check   coach plugins check {created}")
    typer.echo(f"  test    pytest {created}")


@topics_app.command("list")
def topics_list(as_json: JsonOption = False) -> None:
    """All topics, with the plugin providing each."""
    from rich.console import Console
    from rich.table import Table

    host = plugin_host(settings())
    rows = sorted(host.topics.items())
    if as_json:
        payload = [
            {"id": topic_id, "title": c.value.title, "plugin": c.plugin, "summary": c.value.summary}
            for topic_id, c in rows
        ]
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    table = Table(title="Topics", title_justify="left")
    for column in ("Id", "Title", "Plugin"):
        table.add_column(column)
    for topic_id, contribution in rows:
        table.add_row(topic_id, contribution.value.title, contribution.plugin)
    Console().print(table)


@topics_app.command("show")
def topics_show(
    topic_id: Annotated[str, typer.Argument(metavar="ID", help="A topic id from `topics list`.")],
    as_json: JsonOption = False,
) -> None:
    """Everything a topic offers for a session: objectives, cards, exercises, tips, sources."""
    from rich.console import Console
    from rich.markdown import Markdown

    from coach.console import topic_markdown

    host = plugin_host(settings())
    contribution = host.topics.get(topic_id)
    if contribution is None:
        raise fail(f"unknown topic {topic_id!r} (see `coach topics list`)")
    topic = contribution.value
    if as_json:
        typer.echo(json.dumps({**topic.model_dump(), "plugin": contribution.plugin}, indent=2))
        return
    Console().print(Markdown(topic_markdown(topic, contribution.plugin)))

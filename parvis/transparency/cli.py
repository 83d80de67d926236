"""`parvis report [consistency]` and `parvis reasons export|submit`."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from parvis.errors import ParvisError

report_app = typer.Typer(
    help="Transparency report for a period (and `report consistency`).",
    invoke_without_command=True,
)
reasons_app = typer.Typer(
    help="Statements of reasons for the EU DSA Transparency Database.", no_args_is_help=True
)

FromOption = Annotated[
    str | None, typer.Option("--from", help="First day, YYYY-MM-DD (default: 30 days ago).")
]
ToOption = Annotated[
    str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (default: today).")
]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Write to this file instead of standard output.")
]


class ReportFormat(enum.StrEnum):
    """Output formats of `parvis report`."""

    md = "md"
    html = "html"
    csv = "csv"
    json = "json"


class ConsistencyFormat(enum.StrEnum):
    """Output formats of `parvis report consistency`."""

    md = "md"
    json = "json"


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=code)


@contextmanager
def _runtime() -> Iterator[Any]:
    from parvis.config import load_settings
    from parvis.runtime import Runtime
    from parvis.storage import migrate

    try:
        settings = load_settings()
    except Exception as exc:  # pydantic names the bad variable
        _fail(f"bad settings: {exc}".replace("\n", " "))
    runtime = Runtime.build(settings)
    try:
        migrate.upgrade(runtime.db.engine)
        yield runtime
    except ParvisError as exc:
        _fail(exc.message)
    finally:
        runtime.db.dispose()


def _write(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, "utf-8")
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror}")


@report_app.callback()
def report(
    ctx: typer.Context,
    first: FromOption = None,
    last: ToOption = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="md, html, csv or json.")] = (
        ReportFormat.md
    ),
    out: OutOption = None,
) -> None:
    """Print the transparency report for a period (DSA Art. 15/24 figures)."""
    if ctx.invoked_subcommand is not None:
        return
    from parvis.transparency import render
    from parvis.transparency.period import parse_period
    from parvis.transparency.report import build_report

    with _runtime() as runtime:
        period = parse_period(first, last)
        with runtime.db.session() as session:
            built = build_report(session, period, runtime.settings.instance_name)
    if fmt == ReportFormat.html:
        from markupsafe import Markup

        from parvis.web.transparency import standalone_html

        charts = [Markup(svg) for svg in render.report_charts(built)]  # noqa: S704 - escaped SVG
        text = standalone_html({"report": built, "charts": charts})
    else:
        text = {"md": render.to_markdown, "csv": render.to_csv, "json": render.to_json}[fmt.value](
            built
        )
    _write(text, out)


@report_app.command("consistency")
def consistency_command(
    first: FromOption = None,
    last: ToOption = None,
    fmt: Annotated[ConsistencyFormat, typer.Option("--format", help="md or json.")] = (
        ConsistencyFormat.md
    ),
    out: OutOption = None,
) -> None:
    """Same content treated differently, and rates by audience size and account age."""
    from parvis.transparency.consistency import build_consistency
    from parvis.transparency.consistency_render import to_json, to_markdown
    from parvis.transparency.period import parse_period

    with _runtime() as runtime:
        period = parse_period(first, last)
        with runtime.db.session() as session:
            found = build_consistency(session, period)
        base = runtime.settings.base_url
    _write(to_json(found, base) if fmt == ConsistencyFormat.json else to_markdown(found, base), out)


@reasons_app.command("export")
def export_command(
    first: FromOption = None,
    last: ToOption = None,
    out: OutOption = None,
    batch: Annotated[
        bool, typer.Option("--batch", help="Batches of up to 100 instead of single statements.")
    ] = False,
) -> None:
    """Write the period's statements of reasons in the Transparency Database API's JSON shape,
    one request body per line. Invalid statements are listed (field and rule) and the exit
    status is 1."""
    from parvis.transparency import export
    from parvis.transparency.period import parse_period

    with _runtime() as runtime:
        period = parse_period(first, last)
        with runtime.db.session() as session:
            found = export.collect(session, period)
    _write(export.json_lines(found.statements, batch=batch), out)
    typer.echo(
        f"{len(found.statements)} statements exported, {len(found.invalid)} invalid", err=True
    )
    for invalid in found.invalid:
        for line in invalid.lines():
            typer.echo(f"invalid: {line}", err=True)
    if found.invalid:
        raise typer.Exit(code=1)


@reasons_app.command("submit")
def submit_command(
    first: FromOption = None,
    last: ToOption = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=100, help="Statements per request.")
    ] = 100,
) -> None:
    """Send the period's statements the Transparency Database does not have yet (settings
    dsa_api_url and dsa_api_token); each is sent once, retried on 429/5xx."""
    from parvis.transparency import submit
    from parvis.transparency.period import parse_period

    with _runtime() as runtime:
        period = parse_period(first, last)
        client = submit.TransparencyClient.from_settings(runtime.settings)
        try:
            result = submit.submit(runtime.db, client, period, batch_size=batch_size)
        finally:
            client.close()
    typer.echo(
        json.dumps(
            {
                "accepted": len(result.accepted),
                "already_there": len(result.already_there),
                "skipped_earlier": result.skipped,
                "rejected": result.rejected,
                "invalid": [line for i in result.invalid for line in i.lines()],
            },
            indent=2,
        )
    )
    if result.rejected or result.invalid:
        raise typer.Exit(code=1)

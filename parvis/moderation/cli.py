"""`parvis rules ...`: check and publish rulebook versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from parvis.moderation.rulebook import RulebookError, load_rulebook

rules_app = typer.Typer(help="The moderation rulebook.", no_args_is_help=True)


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except OSError as exc:
        typer.echo(f"error: cannot read {path}: {exc.strerror}", err=True)
        raise typer.Exit(code=2) from exc


@rules_app.command("check")
def check(file: Annotated[Path, typer.Argument(help="Rulebook TOML file.")]) -> None:
    """Validate a rulebook file; each problem is printed as FILE:LINE: message."""
    try:
        rulebook = load_rulebook(_read(file))
    except RulebookError as exc:
        for problem in exc.problems:
            typer.echo(f"{file}:{problem.line}: {problem.message}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(
        f"{file}: valid rulebook version {rulebook.version} with {len(rulebook.rules)} rules"
    )


@rules_app.command("publish")
def publish(
    file: Annotated[Path, typer.Argument(help="Rulebook TOML file.")],
    by: Annotated[str | None, typer.Option("--by", help="Admin username publishing it.")] = None,
) -> None:
    """Publish a new rulebook version (its number must follow the current one)."""
    from parvis.accounts.services import get_user_by_username
    from parvis.config import load_settings
    from parvis.errors import ParvisError
    from parvis.moderation import publication
    from parvis.runtime import Runtime
    from parvis.storage import migrate

    text = _read(file)
    runtime = Runtime.build(load_settings())
    migrate.upgrade(runtime.db.engine)
    try:
        with runtime.db.session() as session:
            publication.ensure_default(session)
            publisher = get_user_by_username(session, by) if by else None
            row = publication.publish(session, text, publisher)
            typer.echo(f"published rulebook version {row.version} ({row.content_hash[:12]})")
    except ParvisError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(code=1) from exc
    finally:
        runtime.db.dispose()


links_app = typer.Typer(help="The link checker (linked pages and documents).", no_args_is_help=True)


@links_app.command("check")
def check_links(
    rounds: Annotated[int, typer.Option(help="Rounds of up to 20 addresses; 0 until empty.")] = 0,
) -> None:
    """Read queued linked pages and documents now (the server also does it in the background)."""
    import asyncio

    from parvis.config import load_settings
    from parvis.moderation import statement_outbox
    from parvis.moderation.linkcheck import check_pending
    from parvis.runtime import Runtime
    from parvis.storage import migrate

    runtime = Runtime.build(load_settings())
    migrate.upgrade(runtime.db.engine)
    total, done = 0, 0
    while rounds == 0 or done < rounds:
        handled = asyncio.run(check_pending(runtime.db, runtime.services))
        total += handled
        done += 1
        if not handled:
            break
    # Posts re-screened on the way may have been restricted: their members are told now, as
    # a running server's loop would (it would also find them, within half a second).
    told = statement_outbox.deliver_all(runtime.db, runtime.services)
    runtime.db.dispose()
    typer.echo(f"checked {total} address(es)" + (f"; {told} member(s) told" if told else ""))

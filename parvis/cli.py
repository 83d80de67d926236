"""The `parvis` command line: serve, demo data, database, users and admins."""

from __future__ import annotations

import getpass
import logging
import os
import sys
from typing import Annotated

import typer

from parvis.accounts.models import Role
from parvis.audit.cli import audit_app
from parvis.config import Settings, load_settings
from parvis.errors import ParvisError
from parvis.moderation.cli import links_app, rules_app
from parvis.moderation.scan import scan
from parvis.transparency.cli import reasons_app, report_app

app = typer.Typer(
    help="Parvis: a public square with known rules.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
admin_app = typer.Typer(help="Instance administration.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(admin_app, name="admin")
app.add_typer(rules_app, name="rules")
app.add_typer(links_app, name="links")
app.add_typer(audit_app, name="audit")
app.add_typer(report_app, name="report")
app.add_typer(reasons_app, name="reasons")
app.command("scan")(scan)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def _settings() -> Settings:
    try:
        return load_settings()
    except Exception as exc:  # pydantic's ValidationError explains which variable is wrong
        _fail(f"bad settings: {exc}".replace("\n", " "))
        raise


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo_if_empty: Annotated[
        bool, typer.Option("--demo-if-empty", help="Load demo data when the database is empty.")
    ] = False,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL recommended).")] = 1,
) -> None:
    """Run the web server (applies migrations first)."""
    import uvicorn

    from parvis.runtime import Runtime
    from parvis.storage import migrate

    settings = _settings()
    runtime = Runtime.build(settings)
    migrate.upgrade(runtime.db.engine)
    if demo_if_empty and migrate.is_empty(runtime.db.engine):
        from parvis.demo import load_demo

        typer.echo("empty database: loading demo data")
        summary = load_demo(runtime)
        typer.echo(summary)
    runtime.db.dispose()
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    shown_host = f"[{host}]" if ":" in host else host
    typer.echo(
        f"Parvis is running at http://{shown_host}:{port}/  (database: {_safe_url(settings)})"
    )
    per_worker = live_budget_per_worker(settings, workers)
    if per_worker is not None:
        # Read by each worker's settings (they start from this environment).
        os.environ["PARVIS_LIVE_MAX_WRITES_PER_SECOND"] = repr(per_worker)
        typer.echo(
            f"live rooms: {settings.live_max_writes_per_second:,.0f} socket writes/s shared by "
            f"{workers} workers ({per_worker:,.0f} each)"
        )
    typer.echo("Press Ctrl+C to stop.")
    from parvis.shield.protocol import PROTOCOL_PATH

    uvicorn.run(
        "parvis.app:create_app",
        factory=True,
        http=PROTOCOL_PATH,  # request-head deadline and size, which uvicorn lacks
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        proxy_headers=False,  # the shield reads forwarded-for from trusted proxies only
        # Slow and oversized clients (parvis.shield): idle keep-alive, header block size (also
        # for h11), WebSocket message size and per-connection queue.
        timeout_keep_alive=settings.serve_keep_alive_seconds,
        h11_max_incomplete_event_size=settings.serve_max_header_bytes,
        ws_max_size=settings.serve_ws_max_bytes,
        ws_max_queue=settings.serve_ws_max_queue,
        backlog=settings.serve_backlog,
    )


def live_budget_per_worker(settings: Settings, workers: int) -> float | None:
    """Each worker's share of the live relay's socket writes a second, when several share the
    machine and the operator did not set the budget (None: leave it as it is).

    The budget is what the machine can afford: two workers each taking all of it wrote twice
    as often as one process would, on the same cores (`bench/live.py`: frame delay p99 157 ms
    against 133 ms with the budget shared, 10,000 listeners over two workers)."""
    if workers <= 1 or "live_max_writes_per_second" in settings.model_fields_set:
        return None
    return settings.live_max_writes_per_second / workers


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


@app.command()
def demo() -> None:
    """Load the demo data (members, posts, an article with comments) into an empty database."""
    from parvis.demo import load_demo
    from parvis.runtime import Runtime
    from parvis.storage import migrate

    runtime = Runtime.build(_settings())
    migrate.upgrade(runtime.db.engine)
    if not migrate.is_empty(runtime.db.engine):
        _fail("the database already has members; demo data only goes into an empty one")
    typer.echo(load_demo(runtime))


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply database migrations up to REVISION (the newest by default)."""
    from parvis.storage import migrate
    from parvis.storage.database import make_engine

    engine = make_engine(_settings())
    try:
        migrate.upgrade(engine, revision)
    except Exception as exc:
        _fail(f"migration failed: {exc}")
    typer.echo(f"database upgraded to {revision}")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("-m", "--message", help="What the migration changes.")],
) -> None:
    """Write a new migration from the difference between the models and the database.

    Run it against an up-to-date database, then read and ruff-format the generated file.
    """
    from alembic import command

    from parvis.storage import migrate

    settings = _settings()
    existing = sorted(migrate.MIGRATIONS_DIR.joinpath("versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    next_id = f"{int(existing[-1].name[:4]) + 1:04d}" if existing else "0001"
    config = migrate.alembic_config(settings.resolved_database_url)
    command.revision(config, message=message, autogenerate=True, rev_id=next_id)


def _create_user(username: str, email: str, password: str | None, role: Role) -> None:
    from parvis.accounts import services
    from parvis.runtime import Runtime
    from parvis.storage import migrate

    if password is None:
        if not sys.stdin.isatty():
            _fail("give --password (no terminal to ask on)")
        password = getpass.getpass("Password: ")
    runtime = Runtime.build(_settings())
    migrate.upgrade(runtime.db.engine)
    try:
        with runtime.db.session() as session:
            user = services.create_user(
                session,
                runtime.settings,
                username=username,
                email=email,
                password=password,
                role=role,
                verified=True,
            )
            typer.echo(f"created {role.value} @{user.username} (id {user.id}), e-mail verified")
    except ParvisError as exc:
        _fail(exc.message)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="3-30 letters, digits or underscores.")],
    email: Annotated[str, typer.Option("--email", help="E-mail address (taken as verified).")],
    password: Annotated[
        str | None, typer.Option("--password", help="Password; asked for when omitted.")
    ] = None,
    role: Annotated[Role, typer.Option("--role", help="member, moderator or admin.")] = Role.MEMBER,
) -> None:
    """Create an account whose e-mail address is already verified."""
    _create_user(username, email, password, role)


@admin_app.command("create")
def admin_create(
    username: Annotated[str, typer.Argument(help="3-30 letters, digits or underscores.")],
    email: Annotated[str, typer.Option("--email", help="E-mail address (taken as verified).")],
    password: Annotated[
        str | None, typer.Option("--password", help="Password; asked for when omitted.")
    ] = None,
) -> None:
    """Create the first (or another) admin account."""
    _create_user(username, email, password, Role.ADMIN)


def main() -> None:
    """Entry point of the `parvis` command."""
    app()

"""`parvis audit`: verify the log (database, exported file or remote instance), export it,
show the signed head, and watch an instance as a witness."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from parvis.audit import keys, log
from parvis.audit.heads import HeadError, unb64
from parvis.audit.outcome import Outcome
from parvis.audit.remote import RemoteError, verify_remote
from parvis.audit.verify import export_lines, verify_database, verify_lines
from parvis.audit.watch import Alarm, observe
from parvis.config import Settings, load_settings
from parvis.runtime import Runtime

audit_app = typer.Typer(help="The provable moderation log.", no_args_is_help=True)
SHOWN_PROBLEMS = 50


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=code)


def _settings() -> Settings:
    try:
        return load_settings()
    except Exception as exc:  # pydantic's ValidationError says which variable is wrong
        _fail(f"bad settings: {exc}".replace("\n", " "))
        raise


def _database() -> tuple[Settings, Runtime]:
    from parvis.storage import migrate

    settings = _settings()
    runtime = Runtime.build(settings)
    migrate.upgrade(runtime.db.engine)
    return settings, runtime


def _report(outcome: Outcome) -> None:
    problems = outcome.sorted_problems()
    for problem in problems[:SHOWN_PROBLEMS]:
        typer.echo(f"FAIL {problem}")
    if len(problems) > SHOWN_PROBLEMS:
        typer.echo(f"… and {len(problems) - SHOWN_PROBLEMS} more")
    typer.echo(outcome.summary())
    if not outcome.ok:
        raise typer.Exit(code=1)


@audit_app.command("verify")
def verify(
    file: Annotated[
        Path | None, typer.Option("--file", help="Verify an exported log (from `audit export`).")
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Verify a remote instance, e.g. https://x.example")
    ] = None,
    key: Annotated[
        str | None,
        typer.Option("--key", help="The instance's public key (base64) to trust, if known."),
    ] = None,
    sample: Annotated[
        int, typer.Option(help="With --url: how many inclusion proofs to fetch and check.")
    ] = 20,
) -> None:
    """Recompute the log and check every signed head; with the database, also check that every
    decision, appeal, rulebook version, list entry and role matches its leaf. Exit status 0
    only when everything checks (1: problems found, 2: could not check)."""
    if file is not None and url is not None:
        _fail("give --file or --url, not both")
    pinned = None
    if key is not None:
        try:
            pinned = unb64(key.strip(), "--key", 32)
        except HeadError as exc:
            _fail(str(exc))
    if url is not None:
        try:
            outcome = verify_remote(url, pinned_key=pinned, sample=sample)
        except RemoteError as exc:
            _fail(str(exc))
            raise
    elif file is not None:
        try:
            handle = sys.stdin if str(file) == "-" else file.open(encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot read {file}: {exc.strerror}")
            raise
        with handle:
            outcome = verify_lines(handle, str(file), pinned)
    else:
        settings, runtime = _database()
        public = keys.public_key_bytes(keys.signing_key(settings))
        try:
            with runtime.db.session() as session:
                outcome = verify_database(session, pinned or public)
        finally:
            runtime.db.dispose()
    _report(outcome)


@audit_app.command("export")
def export(
    file: Annotated[
        Path, typer.Argument(help="Where to write the log (JSON lines); - for stdout.")
    ],
) -> None:
    """Write the whole log (public key, signed heads, leaves) for anyone to verify offline."""
    settings, runtime = _database()
    key = keys.signing_key(settings)
    try:
        with runtime.db.session() as session:
            log.latest_head(session, key)
        with runtime.db.session() as session:
            lines = export_lines(session, keys.public_key_bytes(key), settings.base_url)
            if str(file) == "-":
                for line in lines:
                    sys.stdout.write(line + "\n")
                return
            count = _write(file, lines)
    finally:
        runtime.db.dispose()
    typer.echo(f"wrote {file} ({count} lines)")


def _write(file: Path, lines: Iterable[str]) -> int:
    count = 0
    try:
        with file.open("w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line + "\n")
                count += 1
    except OSError as exc:
        _fail(f"cannot write {file}: {exc.strerror}")
    return count


@audit_app.command("head")
def head() -> None:
    """Print the latest signed tree head (signing one if the log has grown)."""
    settings, runtime = _database()
    try:
        with runtime.db.session() as session:
            signed = log.latest_head(session, keys.signing_key(settings))
    finally:
        runtime.db.dispose()
    typer.echo(json.dumps(signed.to_json()))


@audit_app.command("watch")
def watch(
    url: Annotated[str, typer.Argument(help="The instance to witness, e.g. https://x.example")],
    state: Annotated[
        Path, typer.Option("--state", help="File keeping the heads seen (created if missing).")
    ] = Path("parvis-witness.json"),
    interval: Annotated[float, typer.Option(help="Seconds between checks.")] = 60.0,
    once: Annotated[bool, typer.Option("--once", help="Check once and exit.")] = False,
) -> None:
    """Witness an instance: keep every tree head it serves and check each new one extends the
    last. Exits with status 1 as soon as the instance contradicts itself."""
    while True:
        try:
            typer.echo(observe(url, state))
        except Alarm as alarm:
            typer.echo(f"ALARM {url}: {alarm} (evidence kept in {state})", err=True)
            raise typer.Exit(code=1) from alarm
        except RemoteError as exc:
            if once:
                _fail(str(exc))
            typer.echo(f"warning: {exc}", err=True)
        if once:
            return
        time.sleep(interval)

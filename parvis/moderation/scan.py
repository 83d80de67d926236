"""`parvis scan`: run the inline detectors over JSON lines, for trust & safety teams' own data.

Input lines are `{"id": ..., "text": ...}`; output lines are `{"id": ..., "signals": [...]}`
with character offsets into `text`. A bad line is reported on stderr with its number and the
scan goes on; the exit status says whether every line was good.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer

from parvis.moderation.signals import inline


def scan_stream(source: TextIO, sink: TextIO, errors: TextIO) -> int:
    """Scan every line; returns how many lines were bad."""
    bad = 0
    for number, line in enumerate(source, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise ValueError('expected an object like {"id": 1, "text": "..."}')
        except ValueError as exc:
            bad += 1
            errors.write(f"line {number}: {exc}\n")
            continue
        signals = [signal.as_dict() for signal in inline.detect(item["text"])]
        sink.write(
            json.dumps({"id": item.get("id"), "signals": signals}, ensure_ascii=False) + "\n"
        )
    return bad


def scan(
    file: Annotated[
        Path | None, typer.Argument(help="JSON-lines file; standard input if omitted.")
    ] = None,
) -> None:
    """Run the inline detectors over JSON lines {"id", "text"} and print their signals."""
    if file is None:
        bad = scan_stream(sys.stdin, sys.stdout, sys.stderr)
    else:
        try:
            with file.open(encoding="utf-8") as handle:
                bad = scan_stream(handle, sys.stdout, sys.stderr)
        except OSError as exc:
            typer.echo(f"error: cannot read {file}: {exc.strerror}", err=True)
            raise typer.Exit(code=2) from exc
    if bad:
        typer.echo(f"error: {bad} line(s) could not be scanned", err=True)
        raise typer.Exit(code=1)

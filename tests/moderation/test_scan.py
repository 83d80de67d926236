"""`parvis scan`: JSON lines in, signals with offsets out; bad lines reported, scan goes on."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from parvis.cli import app


def test_scan_reads_json_lines_and_reports_bad_ones() -> None:
    lines = "\n".join(
        [
            json.dumps({"id": 1, "text": "nothing here"}),
            "not json",
            json.dumps({"id": "b", "text": "mail ana@example.org, SSN 536-90-4399"}),
            json.dumps({"id": 3}),
        ]
    )
    result = CliRunner().invoke(app, ["scan"], input=lines + "\n")
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out[0] == {"id": 1, "signals": []}
    second = out[1]
    assert second["id"] == "b"
    text = "mail ana@example.org, SSN 536-90-4399"
    spans = {s["kind"]: text[s["start"] : s["end"]] for s in second["signals"]}
    assert spans == {"email": "ana@example.org", "national_id": "536-90-4399"}
    assert "line 2:" in result.stderr
    assert "line 4:" in result.stderr


def test_offsets_count_characters_not_bytes(tmp_path: Path) -> None:
    text = "Réunion 🎉 à Noël : écrire à zoë@exemple.fr, NIR 2 84 05 73 021 066 84"
    source = tmp_path / "posts.jsonl"
    source.write_text(json.dumps({"id": "x", "text": text}, ensure_ascii=False) + "\n", "utf-8")
    result = CliRunner().invoke(app, ["scan", str(source)])
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(line) for line in result.stdout.splitlines()]
    spans = {s["kind"]: text[s["start"] : s["end"]] for s in line["signals"]}
    assert spans["email"] == "zoë@exemple.fr"
    assert spans["national_id"].replace(" ", "") == "284057302106684"

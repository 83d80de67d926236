"""A report as Markdown, CSV (long format) or JSON, and the charts that go with it (HTML is
rendered from templates by the web page and the command line)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from parvis.transparency import charts
from parvis.transparency.report import Cell, Report, Table

FORMATS = ("md", "html", "csv", "json")


def _shown(value: Cell) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _md_cell(value: Cell) -> str:
    return _shown(value).replace("|", "\\|").replace("\n", " ")


def _md_table(table: Table) -> list[str]:
    lines = [f"### {table.title}", ""]
    lines.append("| " + " | ".join(table.columns) + " |")
    lines.append(
        "| " + " | ".join("---" if i == 0 else "---:" for i in range(len(table.columns))) + " |"
    )
    for row in table.rows:
        lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    if table.note:
        lines += ["", f"*{table.note}*"]
    return [*lines, ""]


def to_markdown(report: Report) -> str:
    """The report as a Markdown document (headings, figure lists and tables)."""
    lines = [
        f"# Transparency report — {report.instance}",
        "",
        f"Period: {report.period.label()} (UTC). "
        f"Generated {report.generated_at:%Y-%m-%d %H:%M} UTC.",
        "",
    ]
    for section in report.sections:
        lines += [f"## {section.title}", "", f"*{section.reference}*", ""]
        for _key, label, value in section.figures:
            lines.append(f"- {label}: **{_md_cell(value)}**")
        if section.figures:
            lines.append("")
        for table in section.tables:
            lines += _md_table(table)
        if section.note:
            lines += [section.note, ""]
    series = report.series
    lines += [f"## Over time (per {series.bucket})", ""]
    lines.append("| Starting | " + " | ".join(series.lines) + " |")
    lines.append("| --- | " + " | ".join("---:" for _ in series.lines) + " |")
    for i, start in enumerate(series.starts):
        values = " | ".join(str(v[i]) for v in series.lines.values())
        lines.append(f"| {start.isoformat()} | {values} |")
    return "\n".join(lines) + "\n"


def to_csv(report: Report) -> str:
    """Every figure as one CSV row: section, table, row, column, value (long format, so one
    file holds tables of different shapes and loads into any spreadsheet or data frame)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "table", "row", "column", "value"])
    writer.writerow(["identification", "", "period_start", "", report.period.first.isoformat()])
    writer.writerow(["identification", "", "period_end", "", report.period.last.isoformat()])
    for section in report.sections:
        for key, _label, value in section.figures:
            if section.id != "identification" or key not in ("period_start", "period_end"):
                writer.writerow([section.id, "", key, "", _csv_value(value)])
        for table in section.tables:
            for row in table.rows:
                for column, value in zip(table.columns[1:], row[1:], strict=True):
                    writer.writerow([section.id, table.id, row[0], column, _csv_value(value)])
    for name, values in report.series.lines.items():
        for start, value in zip(report.series.starts, values, strict=True):
            writer.writerow(["series", report.series.bucket, start.isoformat(), name, value])
    return out.getvalue()


def _csv_value(value: Cell) -> str:
    return "" if value is None else str(value)


def to_data(report: Report) -> dict[str, Any]:
    """The report as plain data (what the JSON format holds)."""
    return {
        "instance": report.instance,
        "period": {"from": report.period.first.isoformat(), "to": report.period.last.isoformat()},
        "generated_at": report.generated_at.isoformat(),
        "sections": [
            {
                "id": section.id,
                "title": section.title,
                "reference": section.reference,
                "figures": {key: value for key, _label, value in section.figures},
                "tables": [
                    {
                        "id": table.id,
                        "title": table.title,
                        "columns": table.columns,
                        "rows": table.rows,
                    }
                    for table in section.tables
                ],
                "note": section.note,
            }
            for section in report.sections
        ],
        "series": {
            "bucket": report.series.bucket,
            "starts": [start.isoformat() for start in report.series.starts],
            "lines": report.series.lines,
        },
    }


def to_json(report: Report) -> str:
    """The report as an indented JSON document."""
    return json.dumps(to_data(report), indent=2, ensure_ascii=False) + "\n"


def _bars(table: Table, column: str) -> list[tuple[str, int]]:
    return [
        (str(label), int(value or 0))
        for label, value in table.column(column).items()
        if label != "Total" and isinstance(value, int)
    ]


def report_charts(report: Report) -> list[str]:
    """The SVG charts of the main figures: activity over time, decisions by rule, category,
    restriction type and source."""
    series = report.series
    return [
        charts.line_chart(f"Activity per {series.bucket}", series.starts, series.lines),
        charts.bar_chart(
            "Decisions by rule", _bars(report.table("decisions_by_rule"), "Decisions")
        ),
        charts.bar_chart(
            "Decisions by DSA category", _bars(report.table("decisions_by_category"), "Decisions")
        ),
        charts.bar_chart(
            "Decisions by type of restriction",
            _bars(report.table("decisions_by_restriction"), "Decisions"),
        ),
        charts.bar_chart(
            "Decisions by source", _bars(report.table("decisions_by_source"), "Decisions")
        ),
    ]

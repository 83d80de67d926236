"""The consistency report as Markdown or JSON (for `parvis report consistency`)."""

from __future__ import annotations

import json
from typing import Any

from parvis.transparency.consistency import ConsistencyResult, Treatment
from parvis.transparency.groups import ALPHA


def _treatment(t: Treatment, base: str) -> dict[str, Any]:
    return {
        "post_id": t.post_id,
        "author": t.author,
        "post_url": base + t.post_url,
        "decision_id": t.decision_id,
        "statement_url": base + t.statement_url if t.statement_url else None,
        "action": t.action,
        "rule_id": t.rule_id,
        "rulebook_version": t.version,
        "actioned": t.actioned,
    }


def to_data(result: ConsistencyResult, base: str = "") -> dict[str, Any]:
    """The consistency report as plain data."""
    return {
        "period": {"from": result.period.first.isoformat(), "to": result.period.last.isoformat()},
        "posts_compared": result.posts_compared,
        "pairs": [
            {
                "basis": pair.basis,
                "detail": pair.detail,
                "first": _treatment(pair.first, base),
                "second": _treatment(pair.second, base),
            }
            for pair in result.pairs
        ],
        "test": "two-sided Fisher exact test of each group against all others; "
        f"Benjamini-Hochberg adjusted p-values; flagged when below {ALPHA}",
        "comparisons": [
            {
                "measure": c.measure,
                "dimension": c.dimension,
                "groups": [
                    {
                        "group": row.label,
                        "items": row.items,
                        "outcomes": row.outcomes,
                        "rate_percent": row.rate,
                        "others_rate_percent": row.rest_rate,
                        "p_value": row.p_value,
                        "adjusted_p_value": row.adjusted,
                        "flagged": row.flagged,
                    }
                    for row in c.rows
                ],
            }
            for c in result.comparisons
        ],
        "notes": result.notes,
    }


def to_json(result: ConsistencyResult, base: str = "") -> str:
    """The consistency report as an indented JSON document."""
    return json.dumps(to_data(result, base), indent=2, ensure_ascii=False) + "\n"


def _p(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def to_markdown(result: ConsistencyResult, base: str = "") -> str:
    """The consistency report as Markdown."""
    lines = [
        "# Consistency report",
        "",
        f"Period: {result.period.label()} (UTC). {result.posts_compared} posts compared.",
        "",
        f"## Same content, different treatment ({len(result.pairs)})",
        "",
    ]
    if not result.pairs:
        lines.append("No pair of identical or near-identical posts was treated differently.")
    for pair in result.pairs:
        a, b = pair.first, pair.second
        lines.append(
            f"- {pair.basis} ({pair.detail}): [post {a.post_id}]({base}{a.post_url}) by "
            f"@{a.author}: {a.described}"
            + (f" ([decision {a.decision_id}]({base}{a.statement_url}))" if a.statement_url else "")
            + f" — [post {b.post_id}]({base}{b.post_url}) by @{b.author}: {b.described}"
            + (f" ([decision {b.decision_id}]({base}{b.statement_url}))" if b.statement_url else "")
        )
    lines += [
        "",
        "## Rates by audience size and account age",
        "",
        "Each group is compared with all other groups by a two-sided Fisher exact test; p-values "
        "are adjusted with the Benjamini-Hochberg procedure and flagged below "
        f"{ALPHA}.",
        "",
    ]
    for c in result.comparisons:
        lines += [f"### {c.measure} by {c.dimension}", ""]
        lines.append("| Group | Items | Rate | Others | p | Adjusted p | Flag |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
        for row in c.rows:
            lines.append(
                f"| {row.label} | {row.outcomes}/{row.items} | {row.rate} % | "
                f"{'–' if row.rest_rate is None else f'{row.rest_rate} %'} | {_p(row.p_value)} | "
                f"{_p(row.adjusted)} | {'unlikely by chance' if row.flagged else ''} |"
            )
        if not c.rows:
            lines.append("| (nothing to compare) | | | | | | |")
        lines.append("")
    lines += [f"- {note}" for note in result.notes]
    return "\n".join(lines) + "\n"

"""Statements of reasons for a period in the EU Transparency Database API's JSON shape.

Each statement is validated with `moderation.dsa` (required and conditional fields R1-R14,
enumerations, lengths, dates, puid format) and puids must be unique across the export; an
invalid statement is reported with the field and the rule it breaks and left out, never
exported silently. Output is JSON Lines: one API request body per line, either a single
statement (`POST /api/v1/statement`) or a batch of at most 100 (`POST /api/v1/statements`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parvis.moderation import dsa
from parvis.moderation.models import Decision, DecisionState
from parvis.transparency.period import Period

EXPORTED_STATES = (
    DecisionState.IN_EFFECT.value,
    DecisionState.SUPERSEDED.value,
    DecisionState.EXPIRED.value,
)


@dataclass(frozen=True)
class Invalid:
    """A statement the database would refuse, and every reason why."""

    decision_id: int
    puid: str
    problems: tuple[dsa.Problem, ...]

    def lines(self) -> list[str]:
        """One line per problem: 'decision 12 (puid parvis-decision-12): field: message (rule)'."""
        return [f"decision {self.decision_id} (puid {self.puid}): {p}" for p in self.problems]


@dataclass
class Export:
    """The valid statements (with their decisions) and the invalid ones."""

    statements: list[dict[str, Any]] = field(default_factory=list)
    decision_ids: list[int] = field(default_factory=list)
    invalid: list[Invalid] = field(default_factory=list)


def collect(
    session: Session, period: Period, *, skip_decisions: frozenset[int] = frozenset()
) -> Export:
    """The statements of reasons of the decisions that took effect in `period`, validated."""
    export = Export()
    seen: dict[str, int] = {}
    rows = session.execute(
        select(Decision.id, Decision.statement_json)
        .where(
            Decision.starts_at >= period.start,
            Decision.starts_at < period.end,
            Decision.state.in_(EXPORTED_STATES),
            Decision.statement_json != "",
        )
        .order_by(Decision.id)
    )
    for decision_id, text in rows:
        if decision_id in skip_decisions:
            continue
        statement = json.loads(text)
        check = check_statement(statement, seen, decision_id)
        if check:
            export.invalid.append(check)
            continue
        export.statements.append(statement)
        export.decision_ids.append(decision_id)
    return export


def check_statement(
    statement: dict[str, Any], seen: dict[str, int], decision_id: int
) -> Invalid | None:
    """Validate one statement, also against the puids already in the export (`seen`)."""
    problems = list(dsa.validate_statement(statement))
    puid = statement.get("puid")
    if isinstance(puid, str) and puid:
        if puid in seen:
            problems.append(
                dsa.Problem("puid", "puid_unique", f"repeats decision {seen[puid]}'s puid")
            )
        else:
            seen[puid] = decision_id
    if problems:
        return Invalid(decision_id, str(puid), tuple(problems))
    return None


def batches(
    statements: list[dict[str, Any]], size: int = dsa.MAX_BATCH
) -> Iterator[list[dict[str, Any]]]:
    """Consecutive batches of at most `size` (the database takes 1 to 100 per request)."""
    if not 1 <= size <= dsa.MAX_BATCH:
        raise ValueError(f"batch size must be 1 to {dsa.MAX_BATCH}")
    for start in range(0, len(statements), size):
        yield statements[start : start + size]


def json_lines(statements: list[dict[str, Any]], *, batch: bool) -> str:
    """The request bodies, one per line: single statements, or batches of up to 100."""
    if batch:
        bodies: list[Any] = [{"statements": chunk} for chunk in batches(statements)]
    else:
        bodies = statements
    return "".join(json.dumps(body, sort_keys=True, ensure_ascii=False) + "\n" for body in bodies)

"""Parvis's own moderation entities for /api/parvis/v1: rules, rulebook versions, decisions in
their public form, and appeals."""

from __future__ import annotations

import json
from typing import Any

from typing_extensions import TypedDict

from parvis.api.entities import iso
from parvis.config import Settings
from parvis.moderation.models import Appeal as AppealRow
from parvis.moderation.models import Decision as DecisionRow
from parvis.moderation.models import DecisionState, RulebookVersion
from parvis.moderation.reasons import is_restriction
from parvis.moderation.rulebook import Rule as RulebookRule
from parvis.moderation.rulebook import Rulebook
from parvis.moderation.services import PUBLIC_WHAT


class ParvisRule(TypedDict):
    """One rule as published: wording, ground, DSA category, what triggers it, what it does."""

    id: str
    title: str
    text: str
    ground: str
    legal_reference: str
    terms_clause: str
    category: str
    keywords: list[str]
    signals_any_of: list[str]
    signals_all_of: list[str]
    action: str
    also: list[str]
    features: list[str]
    duration_days: int
    automatic: bool
    strikes: int
    territorial_scope: list[str]


class RulebookVersionSummary(TypedDict):
    """A published rulebook version (immutable once published)."""

    version: int
    title: str
    content_hash: str
    published_at: str | None


class RulebookDocument(RulebookVersionSummary):
    """A rulebook version with its rules and its exact published text."""

    rules: list[ParvisRule]
    content: str


class PublicDecision(TypedDict):
    """A decision in its public form: what was decided, under which rule, and why. The subject
    key (post, account, address) is shown only to the member affected and to moderators."""

    id: str
    subject_type: str
    subject_key: str | None
    rule_id: str
    rulebook_version: int
    action: str
    summary: str
    features: list[str]
    facts: str
    automated_detection: bool
    automated_decision: str
    source: str
    territorial_scope: list[str]
    state: str
    created_at: str | None
    starts_at: str | None
    ends_at: str | None
    supersedes_id: str | None
    statement_url: str
    has_statement: bool


class ParvisAppeal(TypedDict):
    """An internal complaint against a decision and, once decided, its outcome decision."""

    id: str
    decision_id: str | None
    state: str
    reason: str
    created_at: str | None
    decided_at: str | None
    outcome_decision_id: str | None


def rule(item: RulebookRule) -> ParvisRule:
    """A rule as published."""
    return {
        "id": item.id,
        "title": item.title,
        "text": item.text,
        "ground": item.ground,
        "legal_reference": item.legal_reference,
        "terms_clause": item.terms_clause,
        "category": item.category,
        "keywords": list(item.keywords),
        "signals_any_of": list(item.any_of),
        "signals_all_of": list(item.all_of),
        "action": item.action,
        "also": list(item.also),
        "features": list(item.features),
        "duration_days": item.duration_days,
        "automatic": item.automatic,
        "strikes": item.strikes,
        "territorial_scope": list(item.territorial_scope),
    }


def version_summary(row: RulebookVersion) -> RulebookVersionSummary:
    """A version's number, title, hash and publication time."""
    return {
        "version": row.version,
        "title": row.title,
        "content_hash": row.content_hash,
        "published_at": iso(row.published_at),
    }


def rulebook_document(row: RulebookVersion, parsed: Rulebook) -> RulebookDocument:
    """A whole version: its rules and exact text."""
    return {
        **version_summary(row),
        "rules": [rule(r) for r in parsed.rules],
        "content": row.content,
    }


def decision(row: DecisionRow, settings: Settings, *, show_subject: bool) -> PublicDecision:
    """A decision's public form."""
    return {
        "id": str(row.id),
        "subject_type": row.subject_type,
        "subject_key": row.subject_key if show_subject else None,
        "rule_id": row.rule_id,
        "rulebook_version": row.rulebook_version,
        "action": row.action,
        "summary": PUBLIC_WHAT.get(row.action, row.action),
        "features": [f for f in row.features.split(",") if f],
        "facts": row.facts,
        "automated_detection": row.automated_detection,
        "automated_decision": row.automated_decision,
        "source": row.source,
        "territorial_scope": row.territorial_scope.split(),
        "state": row.state,
        "created_at": iso(row.created_at),
        "starts_at": iso(row.starts_at),
        "ends_at": iso(row.ends_at),
        "supersedes_id": str(row.supersedes_id) if row.supersedes_id else None,
        "statement_url": f"{settings.base_url}/statements/{row.id}",
        "has_statement": bool(row.statement_json) and is_restriction(row.action),
    }


def statement(row: DecisionRow) -> dict[str, Any]:
    """The statement of reasons in the DSA Transparency Database's JSON shape."""
    data: dict[str, Any] = json.loads(row.statement_json)
    return data


def appeal(row: AppealRow) -> ParvisAppeal:
    """An appeal with its outcome."""
    return {
        "id": str(row.id),
        "decision_id": str(row.decision_id) if row.decision_id else None,
        "state": row.state,
        "reason": row.reason,
        "created_at": iso(row.created_at),
        "decided_at": iso(row.decided_at),
        "outcome_decision_id": str(row.outcome_decision_id) if row.outcome_decision_id else None,
    }


# Proposals and declined proposals never took effect: they are not published.
PUBLIC_STATES = tuple(
    s.value for s in DecisionState if s not in (DecisionState.PROPOSED, DecisionState.DECLINED)
)

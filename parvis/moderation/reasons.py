"""Statements of reasons: a decision in the DSA Transparency Database's JSON shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from parvis.moderation import dsa
from parvis.moderation.models import Action, Automation, Decision, Source


@dataclass(frozen=True)
class RuleInfo:
    """What a statement needs to know of the rule a decision cites."""

    id: str
    version: int
    title: str
    text: str
    ground: str  # "illegal" or "terms"
    legal_reference: str
    terms_clause: str
    category: str
    keywords: tuple[str, ...] = ()
    reference_url: str = ""


@dataclass(frozen=True)
class ContentInfo:
    """What the statement says about the restricted content (never who wrote it)."""

    content_date: date
    content_types: tuple[str, ...] = ("CONTENT_TYPE_TEXT",)
    language: str | None = None
    # Required by the database when content_types holds CONTENT_TYPE_OTHER (rule R4).
    other_description: str = "Member account"


SOURCE_TYPES = {
    Source.NOTICE: "SOURCE_ARTICLE_16",
    Source.TRUSTED_FLAGGER: "SOURCE_TRUSTED_FLAGGER",
    Source.OTHER_NOTIFICATION: "SOURCE_TYPE_OTHER_NOTIFICATION",
    Source.LEGAL_ORDER: "SOURCE_TYPE_OTHER_NOTIFICATION",
    Source.OWN_INITIATIVE: "SOURCE_VOLUNTARY",
}
AUTOMATION = {
    Automation.FULLY: "AUTOMATED_DECISION_FULLY",
    Automation.PARTIALLY: "AUTOMATED_DECISION_PARTIALLY",
    Automation.NOT_AUTOMATED: "AUTOMATED_DECISION_NOT_AUTOMATED",
}
INTERSTITIAL_TEXT = "Content shown behind a click-through warning naming the rule."


def _restriction_fields(decision: Decision) -> dict[str, Any]:
    action = Action(decision.action)
    end = decision.ends_at.date().isoformat() if decision.ends_at else None
    visibility = {
        Action.LABEL: "DECISION_VISIBILITY_CONTENT_LABELLED",
        Action.INTERSTITIAL: "DECISION_VISIBILITY_OTHER",
        Action.DEMOTE: "DECISION_VISIBILITY_CONTENT_DEMOTED",
        Action.BLOCK_URL: "DECISION_VISIBILITY_CONTENT_DISABLED",
        Action.REMOVE: "DECISION_VISIBILITY_CONTENT_REMOVED",
    }
    if action in visibility:
        fields: dict[str, Any] = {
            "decision_visibility": [visibility[action]],
            "end_date_visibility_restriction": end,
        }
        if action == Action.INTERSTITIAL:
            fields["decision_visibility_other"] = INTERSTITIAL_TEXT
        return fields
    if action == Action.RESTRICT_ACCOUNT:
        return {
            "decision_provision": "DECISION_PROVISION_PARTIAL_SUSPENSION",
            "end_date_service_restriction": end,
        }
    if action == Action.SUSPEND:
        return {
            "decision_account": "DECISION_ACCOUNT_SUSPENDED",
            "end_date_account_restriction": end,
        }
    if action == Action.TERMINATE:
        return {"decision_account": "DECISION_ACCOUNT_TERMINATED"}
    return {}


def is_restriction(action: str) -> bool:
    """True for actions that restrict something (and so need a DSA statement of reasons)."""
    return action not in (Action.RESTORE.value, Action.NO_ACTION.value)


def build_statement(
    decision: Decision,
    rule: RuleInfo,
    content: ContentInfo,
    *,
    territorial_scope: list[str],
    source_identity: str | None = None,
) -> dict[str, Any] | None:
    """The DSA statement of reasons for a restricting decision (None for restorations)."""
    if not is_restriction(decision.action):
        return None
    statement: dict[str, Any] = {
        **_restriction_fields(decision),
        "content_type": list(content.content_types),
        "category": rule.category,
        "territorial_scope": sorted(territorial_scope),
        "content_date": content.content_date.isoformat(),
        "application_date": decision.starts_at.date().isoformat(),
        "decision_facts": decision.facts[:5000],
        "source_type": SOURCE_TYPES[Source(decision.source)],
        "automated_detection": "Yes" if decision.automated_detection else "No",
        "automated_decision": AUTOMATION[Automation(decision.automated_decision)],
        "puid": decision.puid,
    }
    if "CONTENT_TYPE_OTHER" in content.content_types:
        statement["content_type_other"] = content.other_description
    keywords = [k for k in rule.keywords if k != "KEYWORD_STALKING"]
    if keywords:
        statement["category_specification"] = keywords
    if content.language and content.language.upper() in dsa.LANGUAGES:
        statement["content_language"] = content.language.upper()
    if rule.reference_url:
        statement["decision_ground_reference_url"] = rule.reference_url
    if rule.ground == "illegal":
        statement["decision_ground"] = dsa.GROUND_ILLEGAL
        statement["illegal_content_legal_ground"] = rule.legal_reference[:500]
        statement["illegal_content_explanation"] = f"{rule.title}: {rule.text}"[:2000]
    else:
        statement["decision_ground"] = dsa.GROUND_INCOMPATIBLE
        statement["incompatible_content_ground"] = rule.terms_clause[:500]
        statement["incompatible_content_explanation"] = f"{rule.title}: {rule.text}"[:2000]
    if source_identity and statement["source_type"] != "SOURCE_VOLUNTARY":
        statement["source_identity"] = source_identity[:500]
    return dsa.normalise({k: v for k, v in statement.items() if v is not None})

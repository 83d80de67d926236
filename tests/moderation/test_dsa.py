"""The statement-of-reasons validator enforces the Transparency Database's rules."""

from __future__ import annotations

from typing import Any

import pytest

from parvis.moderation import dsa


def valid() -> dict[str, Any]:
    """A complete, valid statement on terms-of-service grounds."""
    return {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": "Terms of service, clause 4.2 (private information)",
        "incompatible_content_explanation": "The post published a home address with an identifier.",
        "content_type": ["CONTENT_TYPE_TEXT"],
        "category": "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        "territorial_scope": list(dsa.EEA_COUNTRIES),
        "content_language": "EN",
        "content_date": "2026-11-01",
        "application_date": "2026-11-02",
        "decision_facts": "A post contained a national identifier and a street address.",
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "Yes",
        "automated_decision": "AUTOMATED_DECISION_FULLY",
        "puid": "parvis-decision-42",
    }


def rules(statement: dict[str, Any]) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in dsa.validate_statement(statement)}


def test_a_complete_statement_is_valid() -> None:
    assert dsa.validate_statement(valid()) == []


def test_reference_lists_have_the_documented_sizes() -> None:
    assert len(dsa.CATEGORIES) == 16
    assert len(dsa.KEYWORDS) == 69
    assert len(dsa.LANGUAGES) == 184
    assert len(dsa.EEA_COUNTRIES) == 30
    assert "GR" in dsa.EU_COUNTRIES
    assert "EL" not in dsa.EEA_COUNTRIES


@pytest.mark.parametrize(
    "field",
    [
        "decision_ground",
        "content_type",
        "category",
        "content_date",
        "application_date",
        "decision_facts",
        "source_type",
        "automated_detection",
        "automated_decision",
        "puid",
    ],
)
def test_required_fields(field: str) -> None:
    statement = valid()
    del statement[field]
    assert any(problem_field == field for problem_field, _ in rules(statement))


def test_r1_needs_at_least_one_restriction() -> None:
    statement = valid()
    statement["decision_visibility"] = []
    assert ("decision_visibility", "R1") in rules(statement)
    statement["decision_account"] = "DECISION_ACCOUNT_SUSPENDED"
    assert rules(statement) == set()


def test_r2_visibility_other_needs_its_text() -> None:
    statement = valid()
    statement["decision_visibility"] = ["DECISION_VISIBILITY_OTHER"]
    assert ("decision_visibility_other", "R2") in rules(statement)
    statement["decision_visibility_other"] = "Link disabled in existing posts"
    assert rules(statement) == set()


def test_r3_monetary_other_needs_its_text() -> None:
    statement = valid()
    statement["decision_monetary"] = "DECISION_MONETARY_OTHER"
    assert ("decision_monetary_other", "R3") in rules(statement)


def test_r4_content_type_other_needs_its_text() -> None:
    statement = valid()
    statement["content_type"] = ["CONTENT_TYPE_OTHER"]
    assert ("content_type_other", "R4") in rules(statement)


def test_r5_illegal_ground_needs_legal_ground_and_explanation() -> None:
    statement = valid()
    statement["decision_ground"] = "DECISION_GROUND_ILLEGAL_CONTENT"
    assert {("illegal_content_legal_ground", "R5"), ("illegal_content_explanation", "R5")} <= (
        rules(statement)
    )


def test_r6_terms_ground_needs_clause_and_explanation() -> None:
    statement = valid()
    del statement["incompatible_content_explanation"]
    statement["incompatible_content_illegal"] = "maybe"
    found = rules(statement)
    assert ("incompatible_content_explanation", "R6") in found
    assert ("incompatible_content_illegal", "enum") in found


def test_r7_voluntary_source_identity_is_dropped_on_normalise() -> None:
    statement = valid() | {"source_identity": "someone"}
    assert "source_identity" not in dsa.normalise(statement)
    statement["source_type"] = "SOURCE_ARTICLE_16"
    assert dsa.normalise(statement)["source_identity"] == "someone"


def test_r8_territorial_scope_accepts_only_eea_codes() -> None:
    statement = valid() | {"territorial_scope": ["FR", "EL", "US"]}
    problems = [p for p in dsa.validate_statement(statement) if p.field == "territorial_scope"]
    assert len(problems) == 2


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("2026-1-05", "R10"),
        ("05/01/2026", "R10"),
        ("2026-02-30", "R10"),
        ("2039-01-01", "date_range"),
        ("2019-12-31", "date_range"),
    ],
)
def test_r10_dates(value: str, rule: str) -> None:
    assert ("application_date", rule) in rules(valid() | {"application_date": value})


def test_r14_enums_are_case_sensitive() -> None:
    assert ("category", "enum") in rules(valid() | {"category": "statement_category_self_harm"})
    assert ("content_language", "enum") in rules(valid() | {"content_language": "en"})


def test_lengths_and_puid_format() -> None:
    found = rules(valid() | {"decision_facts": "x" * 5001, "puid": "has space"})
    assert ("decision_facts", "length") in found
    assert ("puid", "puid_format") in found
    assert ("puid", "puid_format") in rules(valid() | {"puid": "abc\n"})


def test_batch_limits_and_duplicate_puids() -> None:
    assert -1 in dsa.validate_batch([])
    assert -1 in dsa.validate_batch([valid()] * 101)
    problems = dsa.validate_batch([valid(), valid()])
    assert [p.rule for p in problems[1]] == ["puid_unique"]


def test_normalise_sorts_dedupes_and_removes_main_category_from_additions() -> None:
    statement = valid() | {
        "territorial_scope": ["FR", "DE", "FR"],
        "category_addition": [valid()["category"], "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"],
    }
    normal = dsa.normalise(statement)
    assert normal["territorial_scope"] == ["DE", "FR"]
    assert normal["category_addition"] == ["STATEMENT_CATEGORY_SCAMS_AND_FRAUD"]

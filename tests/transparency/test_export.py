"""`parvis reasons export`: statements in the Transparency Database's JSON shape, validated
against every rule of the reference (required, conditional R1-R14, enumerations, lengths,
dates, puid format and uniqueness); invalid ones are reported with field and rule."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from parvis.cli import app
from parvis.errors import InvalidInput
from parvis.moderation import dsa
from parvis.moderation.models import Action, Decision
from parvis.storage.base import utcnow
from parvis.transparency import export
from parvis.transparency.period import Period
from tests.transparency.conftest import World

runner = CliRunner()


def valid() -> dict[str, Any]:
    """A statement the database accepts (terms-of-service ground, own initiative)."""
    return {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": "Terms, clause 3",
        "incompatible_content_explanation": "Harassment of a named member.",
        "content_type": ["CONTENT_TYPE_TEXT"],
        "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "territorial_scope": ["DE", "FR"],
        "content_date": "2026-01-02",
        "application_date": "2026-01-03",
        "decision_facts": "The post insulted a member.",
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "puid": "parvis-decision-1",
    }


def rules_broken(statement: dict[str, Any]) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in dsa.validate_statement(statement)}


def test_the_base_statement_is_valid() -> None:
    assert dsa.validate_statement(valid()) == []


# (what changes, the (field, rule) it must break); None in changes removes the field.
CASES: list[tuple[str, dict[str, Any], tuple[str, str]]] = [
    ("R1 no restriction", {"decision_visibility": None}, ("decision_visibility", "R1")),
    ("R1 empty list", {"decision_visibility": []}, ("decision_visibility", "R1")),
    (
        "R2 visibility other without text",
        {"decision_visibility": ["DECISION_VISIBILITY_OTHER"]},
        ("decision_visibility_other", "R2"),
    ),
    (
        "R2 text too long",
        {
            "decision_visibility": ["DECISION_VISIBILITY_OTHER"],
            "decision_visibility_other": "x" * 501,
        },
        ("decision_visibility_other", "length"),
    ),
    (
        "R3 monetary other without text",
        {"decision_visibility": None, "decision_monetary": "DECISION_MONETARY_OTHER"},
        ("decision_monetary_other", "R3"),
    ),
    (
        "R4 content type other without text",
        {"content_type": ["CONTENT_TYPE_OTHER"]},
        ("content_type_other", "R4"),
    ),
    (
        "R5 illegal ground without legal ground",
        {"decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT", "illegal_content_explanation": "x"},
        ("illegal_content_legal_ground", "R5"),
    ),
    (
        "R5 illegal ground without explanation",
        {"decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT", "illegal_content_legal_ground": "x"},
        ("illegal_content_explanation", "R5"),
    ),
    (
        "R6 terms ground without clause",
        {"incompatible_content_ground": None},
        ("incompatible_content_ground", "R6"),
    ),
    (
        "R6 terms ground explanation too long",
        {"incompatible_content_explanation": "x" * 2001},
        ("incompatible_content_explanation", "length"),
    ),
    (
        "R6 incompatible_content_illegal not Yes/No",
        {"incompatible_content_illegal": "yes"},
        ("incompatible_content_illegal", "enum"),
    ),
    ("R8 unknown country", {"territorial_scope": ["EL"]}, ("territorial_scope", "enum")),
    ("R10 date format", {"content_date": "2026-1-2"}, ("content_date", "R10")),
    ("R10 not a date", {"application_date": "2026-02-30"}, ("application_date", "R10")),
    ("R10 content date range", {"content_date": "1999-12-31"}, ("content_date", "date_range")),
    (
        "R10 application date range",
        {"application_date": "2019-12-31"},
        ("application_date", "date_range"),
    ),
    (
        "R10 end date after 2038",
        {"end_date_visibility_restriction": "2038-01-02"},
        ("end_date_visibility_restriction", "date_range"),
    ),
    ("R14 case-sensitive enum", {"category": "statement_category_violence"}, ("category", "enum")),
    (
        "R14 old category",
        {"category": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"},
        ("category", "enum"),
    ),
    (
        "R14 unknown keyword",
        {"category_specification": ["KEYWORD_DISINFORMATION"]},
        ("category_specification", "enum"),
    ),
    (
        "R14 automated detection boolean",
        {"automated_detection": True},
        ("automated_detection", "enum"),
    ),
    ("R14 language lower case", {"content_language": "en"}, ("content_language", "enum")),
    ("required ground", {"decision_ground": None}, ("decision_ground", "required")),
    ("required content type", {"content_type": []}, ("content_type", "required")),
    ("required category", {"category": None}, ("category", "required")),
    ("required facts", {"decision_facts": ""}, ("decision_facts", "required")),
    ("facts too long", {"decision_facts": "x" * 5001}, ("decision_facts", "length")),
    ("required source", {"source_type": None}, ("source_type", "required")),
    ("required puid", {"puid": None}, ("puid", "required")),
    ("puid with a space", {"puid": "parvis decision 1"}, ("puid", "puid_format")),
    ("puid with a trailing newline", {"puid": "parvis-1\n"}, ("puid", "puid_format")),
    ("puid too long", {"puid": "p" * 501}, ("puid", "length")),
    (
        "reference URL",
        {"decision_ground_reference_url": "rules page"},
        ("decision_ground_reference_url", "url"),
    ),
    ("EAN-13", {"content_id": {"EAN-13": "123"}}, ("content_id", "ean13")),
    ("content_id_ean", {"content_id_ean": "12345678901234"}, ("content_id_ean", "ean13")),
]


@pytest.mark.parametrize(("name", "changes", "broken"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_names_its_field_and_rule(
    name: str, changes: dict[str, Any], broken: tuple[str, str]
) -> None:
    statement = valid()
    for key, value in changes.items():
        if value is None:
            statement.pop(key, None)
        else:
            statement[key] = value
    assert broken in rules_broken(statement), name


def test_conditional_fields_that_are_satisfied_pass() -> None:
    statement = valid() | {
        "decision_visibility": ["DECISION_VISIBILITY_OTHER"],
        "decision_visibility_other": "Shown behind a warning.",
        "decision_monetary": "DECISION_MONETARY_OTHER",
        "decision_monetary_other": "Tips paused.",
        "content_type": ["CONTENT_TYPE_OTHER", "CONTENT_TYPE_TEXT"],
        "content_type_other": "Member account",
        "end_date_visibility_restriction": None,
        "content_id": {"EAN-13": "4006381333931"},
    }
    assert dsa.validate_statement(statement) == []
    illegal = valid() | {
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": "Framework Decision 2008/913/JHA",
        "illegal_content_explanation": "Incitement to hatred.",
    }
    assert dsa.validate_statement(illegal) == []


def test_r7_and_r12_fields_are_dropped_not_refused() -> None:
    statement = valid() | {
        "source_identity": "Someone",
        "category_addition": ["STATEMENT_CATEGORY_CYBER_VIOLENCE", "STATEMENT_CATEGORY_VIOLENCE"],
    }
    assert dsa.validate_statement(statement) == []
    stored = dsa.normalise(statement)
    assert "source_identity" not in stored  # R7: voluntary source has no identity
    assert stored["category_addition"] == ["STATEMENT_CATEGORY_VIOLENCE"]  # R12


def test_puids_must_be_unique_across_an_export() -> None:
    seen: dict[str, int] = {}
    assert export.check_statement(valid(), seen, 1) is None
    repeated = export.check_statement(valid(), seen, 2)
    assert repeated is not None
    assert ("puid", "puid_unique") in {(p.field, p.rule) for p in repeated.problems}


def test_batches_hold_at_most_one_hundred() -> None:
    statements = [valid() | {"puid": f"p-{i}"} for i in range(250)]
    sizes = [len(chunk) for chunk in export.batches(statements)]
    assert sizes == [100, 100, 50]
    lines = export.json_lines(statements, batch=True).splitlines()
    assert [len(json.loads(line)["statements"]) for line in lines] == [100, 100, 50]
    assert all(dsa.validate_batch(json.loads(line)["statements"]) == {} for line in lines)
    with pytest.raises(ValueError, match="batch size"):
        next(export.batches(statements, 101))


def _today() -> Period:
    today = utcnow().date()
    return Period(today, today)


def test_export_collects_restricting_decisions_only(world: World) -> None:
    first = world.decide(world.post(world.alice, "one"), "harassment")
    world.decide(world.post(world.alice, "two"), "harassment", Action.LABEL, propose=True)
    world.decide(world.post(world.bob, "three"), "doxxing", automated=True)
    with world.runtime.db.session() as session:
        found = export.collect(session, _today())
    assert found.invalid == []
    assert [s["puid"] for s in found.statements] == [
        f"parvis-decision-{first.id}",
        f"parvis-decision-{first.id + 2}",
    ]
    assert all(dsa.validate_statement(s) == [] for s in found.statements)


def test_invalid_statements_are_reported_with_field_and_rule_and_fail_the_command(
    world: World, cli_env: Callable[[], None]
) -> None:
    good = world.decide(world.post(world.alice, "one"), "harassment")
    bad = world.decide(world.post(world.bob, "two"), "harassment")
    broken = json.loads(bad.statement_json)
    broken.pop("incompatible_content_ground")
    broken["territorial_scope"] = ["EL"]
    with world.runtime.db.session() as session:  # a damaged row, as after a bad manual edit
        session.execute(
            update(Decision).where(Decision.id == bad.id).values(statement_json=json.dumps(broken))
        )
    cli_env()
    result = runner.invoke(app, ["reasons", "export"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [json.loads(line)["puid"] for line in lines] == [good.puid]
    assert "1 statements exported, 1 invalid" in result.stderr
    assert f"invalid: decision {bad.id} (puid {bad.puid}): incompatible_content_ground: is " in (
        result.stderr
    )
    assert "(R6)" in result.stderr
    assert "territorial_scope: 'EL' is not an accepted value (enum)" in result.stderr


def test_export_command_writes_batches_to_a_file(
    world: World, cli_env: Callable[[], None], tmp_path: Any
) -> None:
    for number in range(3):
        world.decide(world.post(world.alice, f"post {number}"), "hacked-materials", Action.LABEL)
    cli_env()
    out = tmp_path / "statements.jsonl"
    result = runner.invoke(app, ["reasons", "export", "--batch", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (line,) = out.read_text().splitlines()
    batch = json.loads(line)["statements"]
    assert len(batch) == 3
    assert dsa.validate_batch(batch) == {}


# The rules that never refuse a statement: the database drops or ignores what they cover, so a
# validator that refused these would stop Parvis exporting statements the database accepts.


def test_r7_a_voluntary_statement_drops_its_source_identity_whatever_its_length() -> None:
    voluntary = valid() | {"source_identity": "x" * 600}
    assert dsa.validate_statement(voluntary) == []
    assert "source_identity" not in dsa.normalise(voluntary)
    noticed = voluntary | {"source_type": "SOURCE_ARTICLE_16"}
    assert ("source_identity", "length") in rules_broken(noticed)


def test_r8_territorial_scope_may_be_missing_but_parvis_always_sends_it(world: World) -> None:
    missing = valid()
    missing.pop("territorial_scope")
    assert dsa.validate_statement(missing) == []
    assert dsa.validate_statement(valid() | {"territorial_scope": None}) == []
    decision = world.decide(world.post(world.alice, "one"), "harassment")
    assert json.loads(decision.statement_json)["territorial_scope"] == list(dsa.EEA_COUNTRIES)


def test_r9_end_dates_are_not_compared_with_the_application_date() -> None:
    before = valid() | {
        "end_date_visibility_restriction": "2026-01-01",  # before application_date 2026-01-03
        "end_date_account_restriction": "2038-01-01",
        "end_date_service_restriction": "",
    }
    assert dsa.validate_statement(before) == []


def test_r11_a_keyword_of_another_category_is_accepted() -> None:
    statement = valid() | {"category_specification": ["KEYWORD_UNSAFE_PRODUCTS", "KEYWORD_OTHER"]}
    assert statement["category"] == "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    assert dsa.validate_statement(statement) == []


def test_r13_facts_holding_personal_data_never_reach_a_statement(world: World) -> None:
    """The database cannot check Art. 24(5); Parvis refuses such facts when a person writes
    them, before anything is stored, published or logged."""
    post_id = world.post(world.alice, "one")
    for facts, named in (
        ("The post gave John Roe's SSN 536-90-4399.", "a national identification number"),
        ("Write to john.roe@example.org for details.", "an e-mail address"),
        ("He lives at 1600 Pennsylvania Avenue.", "a street address"),
    ):
        with pytest.raises(InvalidInput, match=named):
            world.decide(post_id, "harassment", facts=facts)
    with world.runtime.db.session() as session:
        assert session.scalars(select(Decision)).all() == []


def test_r14_json_null_is_accepted_for_every_nullable_field() -> None:
    nullable = (
        "decision_monetary",
        "decision_provision",
        "decision_account",
        "account_type",
        "decision_ground_reference_url",
        "category_specification",
        "territorial_scope",
        "content_language",
        "end_date_visibility_restriction",
        "end_date_monetary_restriction",
        "end_date_service_restriction",
        "end_date_account_restriction",
        "content_id",
    )
    assert dsa.validate_statement(valid() | dict.fromkeys(nullable)) == []


RULES_COVERED = {
    "R1": ["R1 no restriction", "R1 empty list"],
    "R2": ["R2 visibility other without text", "R2 text too long"],
    "R3": ["R3 monetary other without text"],
    "R4": ["R4 content type other without text"],
    "R5": ["R5 illegal ground without legal ground", "R5 illegal ground without explanation"],
    "R6": ["R6 terms ground without clause", "R6 incompatible_content_illegal not Yes/No"],
    "R8": ["R8 unknown country"],
    "R10": ["R10 date format", "R10 not a date", "R10 end date after 2038"],
    "R14": ["R14 case-sensitive enum", "R14 old category", "R14 automated detection boolean"],
}


def test_every_conditional_rule_of_the_reference_is_tested() -> None:
    """R1-R14: the refusing ones in CASES, the others (R7, R9, R11, R12, R13) above."""
    names = {name for name, _changes, _broken in CASES}
    for rule, cases in RULES_COVERED.items():
        assert set(cases) <= names, rule
    refusing = set(RULES_COVERED)
    accepting = {"R7", "R9", "R11", "R12", "R13"}
    assert refusing | accepting == {f"R{n}" for n in range(1, 15)}

"""Rulebook files: the shipped one is valid; mistakes are reported with their line."""

from __future__ import annotations

import pytest

from parvis.moderation import dsa
from parvis.moderation.rulebook import (
    RulebookError,
    default_rulebook,
    default_rulebook_text,
    load_rulebook,
)


def test_default_rulebook_covers_the_required_rules() -> None:
    rulebook = default_rulebook()
    ids = {rule.id for rule in rulebook.rules}
    assert {
        "doxxing",
        "hacked-materials",
        "illegal-hate-speech",
        "harassment",
        "spam-flooding",
        "impersonation",
        "scams",
        "legal-order",
    } <= ids
    doxxing = rulebook.rule("doxxing")
    assert doxxing.automatic
    assert doxxing.action == "remove"
    assert set(doxxing.all_of) == {"national_id", "street_address"}
    assert doxxing.category == "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS"
    hacked = rulebook.rule("hacked-materials")
    assert (hacked.action, hacked.also) == ("block_url", ("interstitial",))
    hate = rulebook.rule("illegal-hate-speech")
    assert hate.ground == "illegal"
    assert hate.legal_reference
    assert len(rulebook.content_hash) == 64
    for rule in rulebook.rules:
        assert rule.category in dsa.CATEGORIES
        info = rule.info(rulebook.version)
        assert info.id == rule.id
        assert info.version == 1


def _problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(RulebookError) as caught:
        load_rulebook(text)
    return [(p.line, p.message) for p in caught.value.problems]


def test_syntax_errors_give_the_line() -> None:
    problems = _problems('version = 1\ntitle = "x"\n[[rules]]\nid = "a\n')
    assert problems[0][0] == 4
    assert "not valid TOML" in problems[0][1]


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ('action = "remove"', 'action = "delete"', "'action' must be one of"),
        ('ground = "terms"', 'ground = "illegal"', "needs 'legal_reference'"),
        (
            'category = "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS"',
            'category = "PRIVACY"',
            "'category'",
        ),
        ("automatic = true", 'automatic = "yes"', "'automatic' must be true"),
        ('territorial_scope = "EEA"', 'territorial_scope = ["FR", "US"]', "'territorial_scope'"),
        ("strikes = 1", "strikes = -1", "'strikes'"),
        ('title = "Doxxing', 'titel = "Doxxing', "did you mean 'title'"),
    ],
)
def test_semantic_errors_point_at_the_rule(old: str, new: str, fragment: str) -> None:
    text = default_rulebook_text().replace(old, new, 1)
    assert text != default_rulebook_text()
    problems = _problems(text)
    doxxing_line = next(
        n for n, line in enumerate(text.splitlines(), 1) if line == 'id = "doxxing"'
    )
    assert any(line == doxxing_line and fragment in message for line, message in problems), problems


def test_duplicate_ids_and_missing_escalation_are_refused() -> None:
    text = default_rulebook_text().replace('id = "scams"', 'id = "harassment"')
    assert any("used twice" in message for _, message in _problems(text))
    assert any(
        "escalation" in m for _, m in _problems(text.replace("window_days = 90", "window_days = 0"))
    )


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("suspension_days = 7", 'suspension_days = "a week"', "'escalation.suspension_days'"),
        ("warnings_count = false", 'warnings_count = "no"', "must be true or false"),
        ("warnings_count = false", "warning_count = false", "did you mean 'warnings_count'"),
    ],
)
def test_escalation_mistakes_point_at_the_table(old: str, new: str, fragment: str) -> None:
    text = default_rulebook_text().replace(old, new, 1)
    assert text != default_rulebook_text()
    table_line = text.splitlines().index("[escalation]") + 1
    assert any(line == table_line and fragment in m for line, m in _problems(text)), _problems(text)


def test_every_rule_states_what_the_issue_asks_of_it() -> None:
    """Id, title, public text, ground with its reference, DSA category, triggering signals,
    action, automatic or not, duration where temporary, territorial scope."""
    for rule in default_rulebook().rules:
        assert all((rule.id, rule.title, rule.text)), rule
        assert rule.legal_reference if rule.ground == "illegal" else rule.terms_clause
        assert rule.category in dsa.CATEGORIES
        assert rule.any_of or rule.all_of
        assert rule.action
        assert isinstance(rule.automatic, bool)
        assert rule.territorial_scope
        if rule.action in ("suspend", "restrict_account") and rule.automatic:
            assert rule.duration_days > 0, rule.id  # automatic account actions always end
    flood = default_rulebook().rule("spam-flooding")
    assert flood.threshold("posts_per_minute", 0) == 20

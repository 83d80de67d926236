"""The rulebook: moderation policy as a versioned TOML document, validated with line numbers.

A published version is stored whole (see `moderation.publication`) and never changes; every
decision cites a rule id and the version it was taken under.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from parvis.moderation import dsa
from parvis.moderation.decisions import ACCOUNT_FEATURES
from parvis.moderation.models import Action
from parvis.moderation.reasons import RuleInfo

SIGNAL_KINDS = frozenset(
    {
        "national_id",
        "strikes",
        "unfounded_notices",
        "phone",
        "street_address",
        "email",
        "payment_card",
        "iban",
        "listed_url",
        "listed_domain",
        "listed_document",
        "flood",
        "watched_words",
        "notice",
        "legal_order",
    }
)
# Numbers a rule may tune in its `signals` table, by the signal kind they belong to.
THRESHOLDS = {
    "posts_per_minute": "flood",
    "duplicates_per_hour": "flood",
    "fingerprint_bits": "listed_document",
}
ACTIONS = tuple(a.value for a in Action if a not in (Action.RESTORE, Action.NO_ACTION))
RULE_KEYS = frozenset(
    {
        "id",
        "title",
        "text",
        "ground",
        "legal_reference",
        "terms_clause",
        "category",
        "keywords",
        "signals",
        "action",
        "also",
        "features",
        "duration_days",
        "automatic",
        "strikes",
        "territorial_scope",
        "reference_url",
    }
)
POST_LEVEL = frozenset(
    a.value for a in (Action.LABEL, Action.INTERSTITIAL, Action.DEMOTE, Action.REMOVE)
)
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
ESCALATION_NUMBERS = ("window_days", "strikes_for_suspension", "suspension_days")


@dataclass(frozen=True)
class Problem:
    """One mistake in a rulebook file: where it is and how to fix it."""

    line: int
    message: str


class RulebookError(Exception):
    """The file is not a valid rulebook; `problems` lists every mistake found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"line {p.line}: {p.message}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Rule:
    """One rule of a rulebook version."""

    id: str
    title: str
    text: str
    ground: str
    legal_reference: str
    terms_clause: str
    category: str
    keywords: tuple[str, ...]
    any_of: tuple[str, ...]
    all_of: tuple[str, ...]
    min_confidence: float
    thresholds: tuple[tuple[str, int], ...]
    action: str
    also: tuple[str, ...]
    features: tuple[str, ...]
    duration_days: int
    automatic: bool
    strikes: int
    territorial_scope: tuple[str, ...]
    reference_url: str = ""

    def threshold(self, name: str, default: int) -> int:
        """A tuning number from the rule's `signals.thresholds`, or `default`."""
        return dict(self.thresholds).get(name, default)

    @property
    def post_action(self) -> Action | None:
        """The first of the rule's actions that applies to a single post, if any."""
        for name in (self.action, *self.also):
            if name in POST_LEVEL:
                return Action(name)
        return None

    def info(self, version: int) -> RuleInfo:
        """What a decision and its statement of reasons need to know of this rule."""
        return RuleInfo(
            id=self.id,
            version=version,
            title=self.title,
            text=self.text,
            ground=self.ground,
            legal_reference=self.legal_reference,
            terms_clause=self.terms_clause,
            category=self.category,
            keywords=self.keywords,
            reference_url=self.reference_url,
        )


@dataclass(frozen=True)
class Rulebook:
    """A whole rulebook version."""

    version: int
    title: str
    rules: tuple[Rule, ...]
    escalation: dict[str, int] = field(default_factory=dict)
    # Whether a plain warning (a decision under a rule that restricts nothing) adds the rule's
    # strikes like any other decision; by default it does not.
    warnings_count: bool = False
    source: str = ""

    @property
    def content_hash(self) -> str:
        """SHA-256 of the exact published text (what the provable log will record)."""
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()

    def rule(self, rule_id: str) -> Rule:
        """A rule by id (KeyError when the version has no such rule)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def _line_of(text: str, rule_id: object, index: int) -> int:
    """The line where a rule's table starts (by its id, else its position)."""
    lines = text.splitlines()
    if isinstance(rule_id, str):
        pattern = re.compile(rf'^\s*id\s*=\s*"{re.escape(rule_id)}"')
        for number, line in enumerate(lines, 1):
            if pattern.match(line):
                return number
    seen = -1
    for number, line in enumerate(lines, 1):
        if line.strip() == "[[rules]]":
            seen += 1
            if seen == index:
                return number
    return 1


def _check_rule(raw: dict[str, Any], problem: Any) -> Rule | None:
    for key in raw:
        if key not in RULE_KEYS:
            close = difflib.get_close_matches(key, RULE_KEYS, n=1)
            problem(f"unknown key '{key}'" + (f"; did you mean '{close[0]}'?" if close else ""))
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not ID_RE.match(rule_id):
        problem("'id' must be 2-64 lower-case letters, digits or dashes, e.g. \"hate-speech\"")
    for key, limit in (("title", 200), ("text", 2000)):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            problem(f"'{key}' is required (public wording of the rule)")
        elif len(value) > limit:
            problem(f"'{key}' is {len(value)} characters; at most {limit}")
    ground = raw.get("ground")
    if ground == "illegal":
        if not str(raw.get("legal_reference", "")).strip():
            problem("an illegal-content rule needs 'legal_reference' (the law it applies)")
    elif ground == "terms":
        if not str(raw.get("terms_clause", "")).strip():
            problem("a terms-of-service rule needs 'terms_clause' (which clause it applies)")
    else:
        problem('\'ground\' must be "illegal" or "terms"')
    category = raw.get("category")
    if category not in dsa.CATEGORIES:
        problem(f"'category' must be one of the DSA STATEMENT_CATEGORY_* codes, not {category!r}")
    keywords = raw.get("keywords", [])
    if not isinstance(keywords, list) or any(
        k not in dsa.KEYWORDS or k == "KEYWORD_STALKING" for k in keywords
    ):
        problem("'keywords' must be a list of DSA KEYWORD_* codes")
        keywords = []
    signals = raw.get("signals", {})
    if not isinstance(signals, dict):
        problem("'signals' must be a table such as { any_of = [\"notice\"] }")
        signals = {}
    any_of, all_of = signals.get("any_of", []), signals.get("all_of", [])
    for name, kinds in (("any_of", any_of), ("all_of", all_of)):
        if not isinstance(kinds, list) or any(k not in SIGNAL_KINDS for k in kinds):
            problem(
                f"'signals.{name}' must list signal kinds from: {', '.join(sorted(SIGNAL_KINDS))}"
            )
    if not any_of and not all_of:
        problem("'signals' needs 'any_of' or 'all_of' (what triggers the rule)")
    confidence = signals.get("min_confidence", 0.5)
    if not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        problem("'signals.min_confidence' must be a number between 0 and 1")
        confidence = 0.5
    thresholds = signals.get("thresholds", {})
    if not isinstance(thresholds, dict):
        problem("'signals.thresholds' must be a table such as { posts_per_minute = 20 }")
        thresholds = {}
    for name, value in thresholds.items():
        if name not in THRESHOLDS:
            problem(
                f"'signals.thresholds.{name}' is not a known threshold; known: "
                + ", ".join(f"{k} ({v})" for k, v in THRESHOLDS.items())
            )
        elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
            problem(f"'signals.thresholds.{name}' must be a whole number, 0 or more")
    action = raw.get("action")
    if action not in ACTIONS:
        problem(f"'action' must be one of: {', '.join(ACTIONS)}")
    also = raw.get("also", [])
    if not isinstance(also, list) or any(a not in ACTIONS for a in also):
        problem(f"'also' must list actions from: {', '.join(ACTIONS)}")
        also = []
    features = raw.get("features", [])
    if action == Action.RESTRICT_ACCOUNT.value and not features:
        problem("a restrict_account rule needs 'features' (e.g. [\"links\"])")
    if not isinstance(features, list) or any(f not in ACCOUNT_FEATURES for f in features):
        problem(f"'features' must list: {', '.join(sorted(ACCOUNT_FEATURES))}")
        features = []
    duration = raw.get("duration_days", 0)
    if not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
        problem("'duration_days' must be a whole number of days (0 means until lifted)")
        duration = 0
    automatic = raw.get("automatic")
    if not isinstance(automatic, bool):
        problem("'automatic' must be true (a machine may apply it) or false (a moderator decides)")
    strikes = raw.get("strikes", 0)
    if not isinstance(strikes, int) or isinstance(strikes, bool) or strikes < 0:
        problem("'strikes' must be a whole number, 0 or more")
        strikes = 0
    scope = raw.get("territorial_scope", "EEA")
    if scope == "EEA":
        territories = dsa.EEA_COUNTRIES
    elif scope == "EU":
        territories = dsa.EU_COUNTRIES
    elif isinstance(scope, list) and scope and all(c in dsa.EEA_COUNTRIES for c in scope):
        territories = tuple(sorted(scope))
    else:
        problem('\'territorial_scope\' must be "EEA", "EU" or a list of EEA country codes')
        territories = dsa.EEA_COUNTRIES
    try:
        return Rule(
            id=str(rule_id),
            title=str(raw.get("title", "")).strip(),
            text=str(raw.get("text", "")).strip(),
            ground=str(ground),
            legal_reference=str(raw.get("legal_reference", "")).strip(),
            terms_clause=str(raw.get("terms_clause", "")).strip(),
            category=str(category),
            keywords=tuple(keywords),
            any_of=tuple(any_of or ()),
            all_of=tuple(all_of or ()),
            min_confidence=float(confidence),
            thresholds=tuple(sorted((str(k), int(v)) for k, v in thresholds.items())),
            action=str(action),
            also=tuple(also),
            features=tuple(features),
            duration_days=duration,
            automatic=bool(automatic),
            strikes=strikes,
            territorial_scope=tuple(territories),
            reference_url=str(raw.get("reference_url", "")),
        )
    except (TypeError, ValueError):
        return None


def load_rulebook(text: str) -> Rulebook:
    """Parse and validate a rulebook; raises RulebookError listing every problem with its line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise RulebookError(
            [Problem(int(match.group(1)) if match else 1, f"not valid TOML: {exc}")]
        ) from exc
    problems: list[Problem] = []
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append(
            Problem(_top_line(text, "version"), "'version' must be a whole number, 1 or more")
        )
    title = data.get("title", "")
    if not isinstance(title, str) or not title.strip():
        problems.append(Problem(_top_line(text, "title"), "'title' is required"))
    escalation, warnings_count = _check_escalation(text, data.get("escalation", {}), problems)
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.append(Problem(1, "a rulebook needs at least one [[rules]] table"))
        raw_rules = []
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        line = _line_of(text, raw.get("id"), index)

        def problem(message: str, line: int = line) -> None:
            problems.append(Problem(line, message))

        rule = _check_rule(raw, problem)
        if rule is not None:
            if rule.id in seen:
                problem(f"rule id '{rule.id}' is used twice; ids must be unique")
            seen.add(rule.id)
            rules.append(rule)
    if problems:
        raise RulebookError(sorted(problems, key=lambda p: p.line))
    assert isinstance(version, int)
    return Rulebook(
        version=version,
        title=str(title),
        rules=tuple(rules),
        escalation=escalation,
        warnings_count=warnings_count,
        source=text,
    )


def _check_escalation(
    text: str, raw: object, problems: list[Problem]
) -> tuple[dict[str, int], bool]:
    """The [escalation] table: its numbers, and whether warnings count as strikes."""
    line = _top_line(text, "[escalation]")
    if not isinstance(raw, dict):
        problems.append(Problem(line, "'escalation' must be a table: [escalation]"))
        raw = {}
    numbers: dict[str, int] = {}
    for key in ESCALATION_NUMBERS:
        value = raw.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems.append(Problem(line, f"'escalation.{key}' must be a whole number, 1 or more"))
        else:
            numbers[key] = value
    warnings_count = raw.get("warnings_count", False)
    if not isinstance(warnings_count, bool):
        problems.append(Problem(line, "'escalation.warnings_count' must be true or false"))
        warnings_count = False
    known = (*ESCALATION_NUMBERS, "warnings_count")
    for key in raw:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            problems.append(
                Problem(
                    line,
                    f"unknown key 'escalation.{key}'"
                    + (f"; did you mean '{close[0]}'?" if close else ""),
                )
            )
    return numbers, warnings_count


def _top_line(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(key):
            return number
    return 1


def default_rulebook_text() -> str:
    """The rulebook that ships with Parvis."""
    return resources.files("parvis.moderation").joinpath("default_rulebook.toml").read_text("utf-8")


def default_rulebook() -> Rulebook:
    """The shipped rulebook, parsed."""
    return load_rulebook(default_rulebook_text())


def diff(old: str, new: str, old_label: str, new_label: str) -> list[str]:
    """A readable unified diff between two rulebook texts."""
    return list(
        difflib.unified_diff(old.splitlines(), new.splitlines(), old_label, new_label, lineterm="")
    )

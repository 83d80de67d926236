"""The EU DSA Transparency Database statement-of-reasons schema, and a validator for it.

Restated from the database's own validation rules (see shared/reference/
dsa-statement-of-reasons.md): enumerations, required and conditional fields (R1-R14), lengths,
dates and the `puid` format. No library covers this schema, so it is written out here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from typing import Any

VISIBILITY = frozenset(
    {
        "DECISION_VISIBILITY_CONTENT_REMOVED",
        "DECISION_VISIBILITY_CONTENT_DISABLED",
        "DECISION_VISIBILITY_CONTENT_DEMOTED",
        "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
        "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
        "DECISION_VISIBILITY_CONTENT_LABELLED",
        "DECISION_VISIBILITY_OTHER",
    }
)
MONETARY = frozenset(
    {"DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", "DECISION_MONETARY_OTHER"}
)
PROVISION = frozenset(
    {
        "DECISION_PROVISION_PARTIAL_SUSPENSION",
        "DECISION_PROVISION_TOTAL_SUSPENSION",
        "DECISION_PROVISION_PARTIAL_TERMINATION",
        "DECISION_PROVISION_TOTAL_TERMINATION",
    }
)
ACCOUNT = frozenset({"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"})
ACCOUNT_TYPES = frozenset({"ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"})
GROUND_ILLEGAL = "DECISION_GROUND_ILLEGAL_CONTENT"
GROUND_INCOMPATIBLE = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
GROUNDS = frozenset({GROUND_ILLEGAL, GROUND_INCOMPATIBLE})
CONTENT_TYPES = frozenset(
    {
        "CONTENT_TYPE_APP",
        "CONTENT_TYPE_AUDIO",
        "CONTENT_TYPE_IMAGE",
        "CONTENT_TYPE_PRODUCT",
        "CONTENT_TYPE_SYNTHETIC_MEDIA",
        "CONTENT_TYPE_TEXT",
        "CONTENT_TYPE_VIDEO",
        "CONTENT_TYPE_OTHER",
    }
)
SOURCE_VOLUNTARY = "SOURCE_VOLUNTARY"
SOURCES = frozenset(
    {
        "SOURCE_ARTICLE_16",
        "SOURCE_TRUSTED_FLAGGER",
        "SOURCE_TYPE_OTHER_NOTIFICATION",
        SOURCE_VOLUNTARY,
    }
)
AUTOMATED_DECISION = frozenset(
    {
        "AUTOMATED_DECISION_FULLY",
        "AUTOMATED_DECISION_PARTIALLY",
        "AUTOMATED_DECISION_NOT_AUTOMATED",
    }
)
YES_NO = frozenset({"Yes", "No"})

# Category -> its keywords (section 4 of the reference). KEYWORD_OTHER fits every category.
CATEGORY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "STATEMENT_CATEGORY_ANIMAL_WELFARE": ("KEYWORD_ANIMAL_HARM", "KEYWORD_UNLAWFUL_SALE_ANIMALS"),
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION": (
        "KEYWORD_HIDDEN_ADVERTISEMENT",
        "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
        "KEYWORD_MISLEADING_INFO_GOODS_SERVICES",
        "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
        "KEYWORD_NONCOMPLIANCE_PRICING",
    ),
    "STATEMENT_CATEGORY_CYBER_VIOLENCE": (
        "KEYWORD_CYBER_BULLYING_INTIMIDATION",
        "KEYWORD_CYBER_HARASSMENT",
        "KEYWORD_CYBER_INCITEMENT",
        "KEYWORD_CYBER_STALKING",
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    ),
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN": (
        "KEYWORD_BULLYING_AGAINST_GIRLS",
        "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
        "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
        "KEYWORD_FEMALE_GENDERED_DISINFORMATION",
        "KEYWORD_INCITEMENT_AGAINST_WOMEN",
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
    ),
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS": (
        "KEYWORD_BIOMETRIC_DATA_BREACH",
        "KEYWORD_DATA_FALSIFICATION",
        "KEYWORD_MISSING_PROCESSING_GROUND",
        "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
    ),
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": (
        "KEYWORD_DEFAMATION",
        "KEYWORD_DISCRIMINATION",
        "KEYWORD_HATE_SPEECH",
    ),
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS": (
        "KEYWORD_COPYRIGHT_INFRINGEMENT",
        "KEYWORD_DESIGN_INFRINGEMENT",
        "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
        "KEYWORD_PATENT_INFRINGEMENT",
        "KEYWORD_TRADE_SECRET_INFRINGEMENT",
        "KEYWORD_TRADEMARK_INFRINGEMENT",
    ),
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS": (
        "KEYWORD_MISINFORMATION_DISINFORMATION",
        "KEYWORD_VIOLATION_EU_LAW",
        "KEYWORD_VIOLATION_NATIONAL_LAW",
    ),
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE": (),
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC": (
        "KEYWORD_ADULT_SEXUAL_MATERIAL",
        "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
        "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
        "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
        "KEYWORD_LANGUAGE_REQUIREMENTS",
        "KEYWORD_NUDITY",
    ),
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": (
        "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
        "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
        "KEYWORD_UNSAFE_CHALLENGES",
    ),
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY": (
        "KEYWORD_ILLEGAL_ORGANIZATIONS",
        "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
        "KEYWORD_RISK_PUBLIC_HEALTH",
        "KEYWORD_TERRORIST_CONTENT",
    ),
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD": (
        "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
        "KEYWORD_INAUTHENTIC_ACCOUNTS",
        "KEYWORD_INAUTHENTIC_LISTINGS",
        "KEYWORD_INAUTHENTIC_USER_REVIEWS",
        "KEYWORD_PHISHING",
        "KEYWORD_PYRAMID_SCHEMES",
    ),
    "STATEMENT_CATEGORY_SELF_HARM": (
        "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
        "KEYWORD_SELF_MUTILATION",
        "KEYWORD_SUICIDE",
    ),
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS": (
        "KEYWORD_PROHIBITED_PRODUCTS",
        "KEYWORD_UNSAFE_PRODUCTS",
    ),
    "STATEMENT_CATEGORY_VIOLENCE": (
        "KEYWORD_COORDINATED_HARM",
        "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
        "KEYWORD_HUMAN_EXPLOITATION",
        "KEYWORD_HUMAN_TRAFFICKING",
        "KEYWORD_TRAFFICKING_WOMEN_GIRLS",
    ),
}
CATEGORIES = frozenset(CATEGORY_KEYWORDS)
# The validator also accepts KEYWORD_STALKING (a leftover belonging to no category); we accept
# it on input, as the database does, but Parvis never emits it.
KEYWORDS = frozenset(
    {kw for kws in CATEGORY_KEYWORDS.values() for kw in kws} | {"KEYWORD_OTHER", "KEYWORD_STALKING"}
)
EU_COUNTRIES = tuple(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()  # noqa: SIM905
)
EEA_COUNTRIES = tuple(sorted([*EU_COUNTRIES, "IS", "LI", "NO"]))
EEA_SET = frozenset(EEA_COUNTRIES)
# ISO 639-1 codes, upper-cased, as the database's language list.
LANGUAGES = frozenset(
    (
        "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu "
        "cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi "
        "ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks "
        "ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl "
        "nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl "
        "sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve "
        "vi vo wa wo xh yi yo za zh zu"
    )
    .upper()
    .split()
)
PUID_RE = re.compile(r"\A[A-Za-z0-9_-]+\Z")
DATE_RE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
MAX_BATCH = 100
RESTRICTION_FIELDS = (
    "decision_visibility",
    "decision_monetary",
    "decision_provision",
    "decision_account",
)


@dataclass(frozen=True)
class Problem:
    """One reason a statement would be refused: the field, the rule broken and what to do."""

    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message} ({self.rule})"


class _Checker:
    def __init__(self, statement: Mapping[str, Any]) -> None:
        self.data = statement
        self.problems: list[Problem] = []

    def fail(self, field: str, rule: str, message: str) -> None:
        self.problems.append(Problem(field, rule, message))

    def present(self, field: str) -> bool:
        value = self.data.get(field)
        return value not in (None, "", [])

    def required(self, field: str, rule: str = "required") -> bool:
        if not self.present(field):
            self.fail(field, rule, "is required")
            return False
        return True

    def string(self, field: str, max_length: int, rule: str = "length") -> None:
        value = self.data.get(field)
        if value is None:
            return
        if not isinstance(value, str):
            self.fail(field, "type", "must be a string")
        elif len(value) > max_length:
            self.fail(field, rule, f"is {len(value)} characters; at most {max_length} allowed")

    # The accepted values come as sets, checked as they are: every statement a rule takes
    # inline is validated, and copying them was a tenth of a validation.
    def one_of(self, field: str, allowed: AbstractSet[str]) -> None:
        value = self.data.get(field)
        if value is None:
            return
        if value not in allowed:
            self.fail(field, "enum", f"{value!r} is not an accepted value")

    def many_of(self, field: str, allowed: AbstractSet[str], *, min_items: int = 0) -> list[str]:
        value = self.data.get(field)
        if value is None:
            if min_items:
                self.fail(field, "required", f"needs at least {min_items} value(s)")
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(field, "type", "must be a list of strings")
            return []
        if len(value) < min_items:
            self.fail(field, "required", f"needs at least {min_items} value(s)")
        for item in value:
            if item not in allowed:
                self.fail(field, "enum", f"{item!r} is not an accepted value")
        return list(value)

    def date_field(self, field: str, low: date | None, high: date) -> None:
        value = self.data.get(field)
        if value in (None, ""):
            return
        if not isinstance(value, str) or not DATE_RE.match(value):
            self.fail(field, "R10", "must be a date written YYYY-MM-DD")
            return
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            self.fail(field, "R10", f"{value} is not a calendar date")
            return
        if low is not None and parsed < low:
            self.fail(field, "date_range", f"must be on or after {low.isoformat()}")
        if parsed > high:
            self.fail(field, "date_range", f"must be on or before {high.isoformat()}")


def validate_statement(statement: Mapping[str, Any]) -> list[Problem]:
    """Every reason the Transparency Database would refuse this statement (empty when valid)."""
    check = _Checker(statement)
    high = date(2038, 1, 1)
    # R1: at least one restriction.
    if not any(check.present(field) for field in RESTRICTION_FIELDS):
        check.fail(
            "decision_visibility",
            "R1",
            "at least one of " + ", ".join(RESTRICTION_FIELDS) + " must be given",
        )
    visibility = check.many_of("decision_visibility", VISIBILITY)
    if "DECISION_VISIBILITY_OTHER" in visibility and check.required(
        "decision_visibility_other", "R2"
    ):
        check.string("decision_visibility_other", 500)
    check.one_of("decision_monetary", MONETARY)
    if statement.get("decision_monetary") == "DECISION_MONETARY_OTHER" and check.required(
        "decision_monetary_other", "R3"
    ):
        check.string("decision_monetary_other", 500)
    check.one_of("decision_provision", PROVISION)
    check.one_of("decision_account", ACCOUNT)
    check.one_of("account_type", ACCOUNT_TYPES)
    if check.required("decision_ground"):
        check.one_of("decision_ground", GROUNDS)
    check.string("decision_ground_reference_url", 500)
    url = statement.get("decision_ground_reference_url")
    if isinstance(url, str) and url and not re.match(r"\Ahttps?://[^\s/$.?#][^\s]*\Z", url):
        check.fail("decision_ground_reference_url", "url", "must be an absolute http(s) URL")
    ground = statement.get("decision_ground")
    if ground == GROUND_ILLEGAL:
        for field, limit in (
            ("illegal_content_legal_ground", 500),
            ("illegal_content_explanation", 2000),
        ):
            if check.required(field, "R5"):
                check.string(field, limit)
    elif ground == GROUND_INCOMPATIBLE:
        for field, limit in (
            ("incompatible_content_ground", 500),
            ("incompatible_content_explanation", 2000),
        ):
            if check.required(field, "R6"):
                check.string(field, limit)
        check.one_of("incompatible_content_illegal", YES_NO)
    content_types = check.many_of("content_type", CONTENT_TYPES, min_items=1)
    if "CONTENT_TYPE_OTHER" in content_types and check.required("content_type_other", "R4"):
        check.string("content_type_other", 500)
    if check.required("category"):
        check.one_of("category", CATEGORIES)
    check.many_of("category_addition", CATEGORIES)
    check.many_of("category_specification", KEYWORDS)
    check.string("category_specification_other", 500)
    check.many_of("territorial_scope", EEA_SET)
    check.one_of("content_language", LANGUAGES)
    if check.required("content_date"):
        check.date_field("content_date", date(2000, 1, 1), high)
    if check.required("application_date"):
        check.date_field("application_date", date(2020, 1, 1), high)
    for field in (
        "end_date_visibility_restriction",
        "end_date_monetary_restriction",
        "end_date_service_restriction",
        "end_date_account_restriction",
    ):
        check.date_field(field, None, high)
    if check.required("decision_facts"):
        check.string("decision_facts", 5000)
    if check.required("source_type"):
        check.one_of("source_type", SOURCES)
    if statement.get("source_type") != SOURCE_VOLUNTARY:  # R7: dropped for voluntary ones
        check.string("source_identity", 500)
    if check.required("automated_detection"):
        check.one_of("automated_detection", YES_NO)
    if check.required("automated_decision"):
        check.one_of("automated_decision", AUTOMATED_DECISION)
    if check.required("puid"):
        puid = statement["puid"]
        if not isinstance(puid, str) or not PUID_RE.match(puid):
            check.fail("puid", "puid_format", "only letters, digits, '-' and '_' are allowed")
        else:
            check.string("puid", 500)
    content_id = statement.get("content_id")
    if content_id is not None:
        ean = content_id.get("EAN-13") if isinstance(content_id, dict) else None
        if not isinstance(ean, str) or not re.fullmatch(r"\d{13}", ean):
            check.fail("content_id", "ean13", 'must be {"EAN-13": "<13 digits>"}')
    ean = statement.get("content_id_ean")
    if ean is not None and (not isinstance(ean, str) or not re.fullmatch(r"\d{13}", ean)):
        check.fail("content_id_ean", "ean13", "must be a string of exactly 13 digits")
    return check.problems


def validate_batch(statements: list[Mapping[str, Any]]) -> dict[int, list[Problem]]:
    """Problems per statement index for a batch (1..100 items, puids unique within it)."""
    problems: dict[int, list[Problem]] = {}
    if not 1 <= len(statements) <= MAX_BATCH:
        problems[-1] = [
            Problem("statements", "batch_size", f"a batch holds 1 to {MAX_BATCH} statements")
        ]
    seen: dict[str, int] = {}
    for index, statement in enumerate(statements):
        found = validate_statement(statement)
        puid = statement.get("puid")
        if isinstance(puid, str):
            if puid in seen:
                found.append(
                    Problem("puid", "puid_unique", f"repeats statement {seen[puid]}'s puid")
                )
            seen.setdefault(puid, index)
        if found:
            problems[index] = found
    return problems


def normalise(statement: Mapping[str, Any]) -> dict[str, Any]:
    """The statement as the database stores it: dropped fields removed, lists sorted and unique."""
    data = {key: value for key, value in statement.items() if value is not None}
    for field in ("decision_visibility", "content_type", "territorial_scope", "category_addition"):
        if isinstance(data.get(field), list):
            data[field] = sorted(set(data[field]))
    if "DECISION_VISIBILITY_OTHER" not in data.get("decision_visibility", []):
        data.pop("decision_visibility_other", None)
    if data.get("decision_monetary") != "DECISION_MONETARY_OTHER":
        data.pop("decision_monetary_other", None)
    if "CONTENT_TYPE_OTHER" not in data.get("content_type", []):
        data.pop("content_type_other", None)
    if data.get("decision_ground") == GROUND_ILLEGAL:
        for field in (
            "incompatible_content_ground",
            "incompatible_content_explanation",
            "incompatible_content_illegal",
        ):
            data.pop(field, None)
    elif data.get("decision_ground") == GROUND_INCOMPATIBLE:
        for field in ("illegal_content_legal_ground", "illegal_content_explanation"):
            data.pop(field, None)
    if data.get("source_type") == SOURCE_VOLUNTARY:
        data.pop("source_identity", None)
    if isinstance(data.get("category_addition"), list):
        data["category_addition"] = [
            c for c in data["category_addition"] if c != data.get("category")
        ]
    return data

"""Publishing rulebook versions: validated, numbered upwards, immutable once stored."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.audit import log as audit_log
from parvis.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from parvis.moderation.models import Decision, RulebookVersion
from parvis.moderation.reasons import RuleInfo
from parvis.moderation.rulebook import Rulebook, RulebookError, default_rulebook_text, load_rulebook


def publish(session: Session, text: str, publisher: User | None) -> RulebookVersion:
    """Store a new rulebook version; its number must follow the current one."""
    if publisher is not None and not publisher.is_admin:
        raise PermissionDenied("Only admins publish rulebook versions.")
    try:
        rulebook = load_rulebook(text)
    except RulebookError as exc:
        raise InvalidInput("The rulebook is not valid: " + str(exc), "rulebook") from exc
    current = session.scalar(select(func.max(RulebookVersion.version))) or 0
    if rulebook.version != current + 1:
        raise Conflict(
            f"This file is version {rulebook.version}, but the next version must be "
            f"{current + 1} (published versions never change; publish a new one)."
        )
    row = RulebookVersion(
        version=rulebook.version,
        title=rulebook.title,
        content=text,
        content_hash=rulebook.content_hash,
        published_by_id=publisher.id if publisher else None,
    )
    session.add(row)
    session.flush()
    session.info.pop(_SESSION_KEY, None)  # "the current version" has just changed
    audit_log.record_rulebook(session, row)
    return row


def ensure_default(session: Session) -> None:
    """Publish the shipped rulebook as version 1 on a fresh instance."""
    if session.scalar(select(func.count()).select_from(RulebookVersion)) == 0:
        publish(session, default_rulebook_text(), None)


def versions(session: Session) -> list[RulebookVersion]:
    """Every published version, newest first."""
    return list(session.scalars(select(RulebookVersion).order_by(RulebookVersion.version.desc())))


def get_version(session: Session, version: int | None = None) -> RulebookVersion:
    """One published version (the current one when `version` is None)."""
    if version is None:
        version = session.scalar(select(func.max(RulebookVersion.version)))
    row = session.get(RulebookVersion, version) if version is not None else None
    if row is None:
        raise NotFound("No such rulebook version.")
    return row


_LATEST = (
    select(RulebookVersion.version, RulebookVersion.content)
    .order_by(RulebookVersion.version.desc())
    .limit(1)
)


def in_force(session: Session) -> tuple[int, Rulebook] | None:
    """The version number and parsed rules in force, in one query (None before the first
    publication); the hot path of screening every post."""
    row = session.execute(_LATEST).first()
    return None if row is None else (row.version, _parse(row.content))


_HASH_OF_VERSION = select(RulebookVersion.version, RulebookVersion.content_hash)
_by_hash: dict[str, Rulebook] = {}


_SESSION_KEY = "parvis.rulebooks"


def rules(session: Session, version: int | None = None) -> tuple[int, Rulebook]:
    """A published version's number and parsed rules (the current one when `version` is None),
    without loading its text once it has been parsed: the decision path asks for the rules
    several times per decision, and versions never change (their hash says so). Within one
    transaction the answer is remembered (a strike count asks once per past decision);
    `publish` forgets it."""
    remembered = _remembered(session)
    answer = remembered.get(version)
    if answer is None:
        answer = remembered[version] = _rules(session, version)
        remembered[answer[0]] = answer
    return answer


def cited_rule(session: Session, decision: Decision) -> RuleInfo:
    """The rule a decision cited, worded as in the rulebook version it was taken under: a review
    or an appeal judges a decision by the rule it applied, whatever was published since, and
    its outcome cites that same version (web and API alike)."""
    number, rulebook = rules(session, decision.rulebook_version)
    try:
        return rulebook.rule(decision.rule_id).info(number)
    except KeyError as exc:  # a stored version always holds the rules its decisions cited
        raise NotFound(
            f"Rulebook version {number} has no rule '{decision.rule_id}' (decision {decision.id})."
        ) from exc


def hold_in_force(session: Session, version: int, rulebook: Rulebook) -> None:
    """Tell `rules` which version is in force for the rest of this transaction, when the caller
    has just read it (screening reads it for every post): a decision then asks for its rules
    without another query."""
    remembered = _remembered(session)
    remembered[None] = remembered[version] = (version, rulebook)


def _remembered(session: Session) -> dict[int | None, tuple[int, Rulebook]]:
    transaction = session.get_transaction()
    held = session.info.get(_SESSION_KEY)
    if held is None or held[0] is not transaction:
        held = session.info[_SESSION_KEY] = (transaction, {})
    remembered: dict[int | None, tuple[int, Rulebook]] = held[1]
    return remembered


def _rules(session: Session, version: int | None) -> tuple[int, Rulebook]:
    query = (
        _HASH_OF_VERSION.order_by(RulebookVersion.version.desc()).limit(1)
        if version is None
        else _HASH_OF_VERSION.where(RulebookVersion.version == version)
    )
    found = session.execute(query).first()
    if found is None:
        raise NotFound("No such rulebook version.")
    number, content_hash = found
    known = _by_hash.get(content_hash)
    if known is None:
        text = session.scalar(
            select(RulebookVersion.content).where(RulebookVersion.version == number)
        )
        known = _by_hash[content_hash] = _parse(text or "")
    return int(number), known


def parsed(row: RulebookVersion) -> Rulebook:
    """The parsed rules of a stored version (cached: stored versions never change)."""
    return _parse(row.content)


@lru_cache(maxsize=32)
def _parse(text: str) -> Rulebook:
    return load_rulebook(text)

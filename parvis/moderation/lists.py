"""Moderation lists (hacked materials): URLs, domains and document fingerprints, each added by a
moderator citing a rule. Adding an entry looks back over existing posts and proposes, per the
rule, blocking the link's sharing and placing the posts that carry it behind a warning."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.errors import Conflict, InvalidInput, PermissionDenied
from parvis.moderation import publication
from parvis.moderation.decisions import DecisionRequest, decide
from parvis.moderation.enforcement import normalise_url
from parvis.moderation.models import Action, Automation, Decision, ListEntry, Source, SubjectType
from parvis.moderation.signals.links import registrable_domain
from parvis.social.models import Attachment, Post, PostLink

KINDS = ("url", "domain", "document")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def normalise_value(kind: str, value: str) -> str:
    """The form an entry is stored and matched under."""
    value = value.strip()
    if kind == "url":
        if not value.startswith(("http://", "https://")):
            raise InvalidInput("A URL entry must start with http:// or https://.", "value")
        return normalise_url(value)
    if kind == "domain":
        domain = value.lower().removeprefix("https://").removeprefix("http://").split("/")[0]
        if "." not in domain:
            raise InvalidInput("Give a domain such as leaks.example.", "value")
        return domain
    if kind == "document":
        if not SHA256_RE.match(value.lower()):
            raise InvalidInput("A document entry is the file's SHA-256 (64 hex digits).", "value")
        return value.lower()
    raise InvalidInput(f"kind must be one of {', '.join(KINDS)}.", "kind")


def listed(session: Session, list_name: str = "hacked-materials") -> dict[str, set[str]]:
    """Every listed value by kind (read by screening)."""
    values: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for kind, value in session.execute(
        select(ListEntry.kind, ListEntry.value).where(ListEntry.list_name == list_name)
    ):
        values[kind].add(value)
    return values


def add_entry(
    session: Session,
    moderator: User,
    *,
    kind: str,
    value: str,
    rule_id: str,
    note: str = "",
    list_name: str = "hacked-materials",
) -> tuple[ListEntry, list[Decision]]:
    """Add an entry and propose the rule's actions for the link and for existing posts."""
    if not moderator.is_moderator:
        raise PermissionDenied("Only moderators manage moderation lists.")
    value = normalise_value(kind, value)
    row = publication.get_version(session)
    try:
        rule = publication.parsed(row).rule(rule_id)
    except KeyError as exc:
        raise InvalidInput(f"The rulebook in force has no rule '{rule_id}'.", "rule_id") from exc
    exists = session.scalar(
        select(ListEntry.id).where(
            ListEntry.list_name == list_name, ListEntry.kind == kind, ListEntry.value == value
        )
    )
    if exists:
        raise Conflict(f"{value} is already on the {list_name} list (entry {exists}).")
    entry = ListEntry(
        list_name=list_name,
        kind=kind,
        value=value,
        rule_id=rule_id,
        note=note.strip()[:2000],
        added_by_id=moderator.id,
    )
    session.add(entry)
    session.flush()
    info = rule.info(row.version)
    proposals: list[Decision] = []

    def propose(subject: SubjectType, key: str, action: Action, facts: str) -> None:
        proposals.append(
            decide(
                session,
                DecisionRequest(
                    subject_type=subject,
                    subject_key=key,
                    action=action,
                    rule=info,
                    facts=facts,
                    source=Source.OWN_INITIATIVE,
                    automated_detection=True,
                    automated_decision=Automation.FULLY,
                    territorial_scope=list(rule.territorial_scope),
                    propose=True,
                ),
            )
        )

    what = {
        "url": "links to an address",
        "domain": "links to a domain",
        "document": "attaches a document",
    }[kind]
    if kind in ("url", "domain") and rule.action == Action.BLOCK_URL.value:
        propose(
            SubjectType.URL if kind == "url" else SubjectType.DOMAIN,
            value,
            Action.BLOCK_URL,
            f"The {kind} is on the {list_name} list under the rule '{rule_id}'.",
        )
    post_action = rule.post_action
    if post_action is not None:
        for post_id in _posts_matching(session, kind, value):
            propose(
                SubjectType.POST,
                str(post_id),
                post_action,
                f"The post {what} on the {list_name} list (rule '{rule_id}').",
            )
    return entry, proposals


def _posts_matching(session: Session, kind: str, value: str) -> list[int]:
    if kind == "document":
        ids = session.scalars(
            select(Attachment.post_id).where(
                Attachment.sha256 == value, Attachment.post_id.is_not(None)
            )
        )
        found = {i for i in ids if i is not None}
    else:
        found = set()
        for post_id, url in session.execute(select(PostLink.post_id, PostLink.url)):
            if (kind == "url" and normalise_url(url) == value) or (
                kind == "domain" and registrable_domain(normalise_url(url)) == value
            ):
                found.add(post_id)
    live = session.scalars(select(Post.id).where(Post.id.in_(found), Post.deleted_at.is_(None)))
    return sorted(live)

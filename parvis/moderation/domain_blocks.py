"""Domain blocks: a domain put on the hacked-materials list citing a rule, and optionally its
sharing blocked at once by a decision. Taking a domain off the list is recorded, and lifts the
block by a decision of its own."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.accounts.services import Services
from parvis.errors import NotFound
from parvis.moderation import decisions, lists, publication
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import (
    Action,
    Automation,
    Decision,
    DecisionState,
    ListEntry,
    ListEntryRemoval,
    Source,
    SubjectType,
)
from parvis.moderation.services import deliver


@dataclass
class DomainBlock:
    """A listed domain and the decision blocking its sharing, when one is in force."""

    entry: ListEntry
    decision: Decision | None


def _block_decision(session: Session, domain: str) -> Decision | None:
    return session.scalar(
        select(Decision)
        .where(
            Decision.subject_type == SubjectType.DOMAIN.value,
            Decision.subject_key == domain,
            Decision.action == Action.BLOCK_URL.value,
            Decision.state == DecisionState.IN_EFFECT.value,
        )
        .order_by(Decision.id.desc())
        .limit(1)
    )


def block_domain(
    session: Session,
    services: Services,
    moderator: User,
    *,
    domain: str,
    rule_id: str,
    note: str = "",
    enforce: bool = True,
) -> DomainBlock:
    """List a domain under a rule. With `enforce`, the proposed decision blocking the domain's
    sharing is confirmed by the moderator at once; proposals about existing posts that link
    it stay in the review queue."""
    entry, proposals = lists.add_entry(
        session,
        moderator,
        kind="domain",
        value=domain,
        rule_id=rule_id,
        note=note,
        list_name=lists.HACKED_MATERIALS,
    )
    if enforce:
        for proposal in proposals:
            if proposal.subject_type == SubjectType.DOMAIN.value:
                deliver(session, services, decisions.confirm(session, proposal.id, moderator))
    return DomainBlock(entry, _block_decision(session, entry.value))


def domain_blocks(session: Session, limit: int = 200) -> list[DomainBlock]:
    """Listed domains, newest first, each with the decision blocking it if one is in force."""
    entries = session.scalars(
        select(ListEntry)
        .where(ListEntry.list_name == lists.HACKED_MATERIALS, ListEntry.kind == "domain")
        .order_by(ListEntry.id.desc())
        .limit(limit)
    ).all()
    return [DomainBlock(e, _block_decision(session, e.value)) for e in entries]


def get_domain_block(session: Session, entry_id: int) -> DomainBlock:
    """One listed domain by its list-entry id."""
    entry = session.get(ListEntry, entry_id)
    if entry is None or entry.kind != "domain" or entry.list_name != lists.HACKED_MATERIALS:
        raise NotFound("Record not found")
    return DomainBlock(entry, _block_decision(session, entry.value))


def unblock_domain(
    session: Session, services: Services, moderator: User, entry_id: int, reason: str = ""
) -> ListEntryRemoval:
    """Take a domain off the list, record who did it and why, and lift a block in force by a
    restoring decision citing the block's rule."""
    block = get_domain_block(session, entry_id)
    entry = block.entry
    lists.remove_entry(session, moderator, entry.id, reason)
    removal = session.scalars(
        select(ListEntryRemoval)
        .where(ListEntryRemoval.entry_id == entry_id)
        .order_by(ListEntryRemoval.id.desc())
        .limit(1)
    ).one()
    if block.decision is not None:
        row = publication.get_version(session)
        try:
            rule = publication.parsed(row).rule(block.decision.rule_id).info(row.version)
        except KeyError:
            rule = publication.parsed(row).rule(entry.rule_id).info(row.version)
        decisions.decide(
            session,
            DecisionRequest(
                subject_type=SubjectType.DOMAIN,
                subject_key=entry.value,
                action=Action.RESTORE,
                rule=rule,
                facts=f"The domain was taken off the {entry.list_name} list"
                + (f": {reason.strip()}" if reason.strip() else "."),
                source=Source.OWN_INITIATIVE,
                automated_detection=False,
                automated_decision=Automation.NOT_AUTOMATED,
                decided_by_id=moderator.id,
                supersedes_id=block.decision.id,
                territorial_scope=block.decision.territorial_scope.split(),
            ),
        )
    session.flush()
    return removal

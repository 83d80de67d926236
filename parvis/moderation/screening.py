"""Inline screening of new and edited posts: run the cheap detectors, evaluate the rulebook in
force, and apply the rules a machine may apply alone (e.g. doxxing) by a decision."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from parvis.accounts.services import Services
from parvis.moderation import lists, publication
from parvis.moderation.decisions import DecisionRequest, decide
from parvis.moderation.evaluate import Proposal, evaluate
from parvis.moderation.models import (
    Action,
    Automation,
    Decision,
    DecisionState,
    Source,
    SubjectType,
)
from parvis.moderation.rulebook import POST_LEVEL
from parvis.moderation.services import take_decision
from parvis.moderation.signals import inline
from parvis.moderation.signals.types import Signal
from parvis.social.models import Attachment, Post

LISTED = {"listed_url", "listed_domain", "listed_document"}


def _propose_for_post(
    session: Session, post: Post, proposal: Proposal, version: int
) -> list[Decision]:
    """A list match on a rule a moderator must apply: queue the post-level action for review."""
    rule = proposal.rule
    if not {s.kind for s in proposal.signals} & LISTED:
        return []
    action = rule.post_action
    if action is None:
        return []
    matched = ", ".join(sorted({s.kind for s in proposal.signals if s.kind in LISTED}))
    return [
        decide(
            session,
            DecisionRequest(
                subject_type=SubjectType.POST,
                subject_key=str(post.id),
                action=action,
                rule=rule.info(version),
                facts=f"The post matches the moderation list ({matched}).",
                source=Source.OWN_INITIATIVE,
                automated_detection=True,
                automated_decision=Automation.FULLY,
                territorial_scope=list(rule.territorial_scope),
                propose=True,
            ),
        )
    ]


def screen_post(session: Session, services: Services, post: Post) -> list[Decision]:
    """Apply the automatic rules the post triggers and propose the others that list matches
    trigger (for a moderator to confirm); returns the decisions taken or proposed."""
    on_list = lists.listed(session)
    signals = inline.detect(
        f"{post.title}\n{post.spoiler_text}\n{post.body_source}",
        listed_urls=on_list["url"],
        listed_domains=on_list["domain"],
    )
    if on_list["document"]:
        for sha256 in session.scalars(
            select(Attachment.sha256).where(Attachment.post_id == post.id)
        ):
            if sha256 in on_list["document"]:
                signals.append(Signal("listed_document", 0, 0, 1.0, {"sha256": sha256}))
    if not signals:
        return []
    row = publication.get_version(session)
    taken = []
    for proposal in evaluate(publication.parsed(row), signals):
        rule = proposal.rule
        if not rule.automatic:
            taken += _propose_for_post(session, post, proposal, row.version)
            continue
        if rule.action not in POST_LEVEL:
            continue
        already = session.scalar(
            select(Decision.id).where(
                Decision.subject_type == SubjectType.POST.value,
                Decision.subject_key == str(post.id),
                Decision.rule_id == rule.id,
                Decision.state == DecisionState.IN_EFFECT.value,
            )
        )
        if already:
            continue
        described = ", ".join(
            sorted(
                {
                    f"{s.kind} ({s.evidence['scheme']})" if "scheme" in s.evidence else s.kind
                    for s in proposal.signals
                }
            )
        )
        taken.append(
            take_decision(
                session,
                services,
                DecisionRequest(
                    subject_type=SubjectType.POST,
                    subject_key=str(post.id),
                    action=Action(rule.action),
                    rule=rule.info(row.version),
                    facts=f"Automated detection found in the post: {described}. The rule "
                    f"'{rule.id}' applies '{rule.action}' at once, pending review; the account "
                    "stays active.",
                    source=Source.OWN_INITIATIVE,
                    automated_detection=True,
                    automated_decision=Automation.FULLY,
                    territorial_scope=list(rule.territorial_scope),
                ),
            )
        )
    return taken

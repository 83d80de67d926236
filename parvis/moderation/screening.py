"""Inline screening of new and edited posts: run the cheap detectors, evaluate the rulebook in
force, and apply the rules a machine may apply alone (e.g. doxxing) by a decision."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from parvis.accounts.services import Services
from parvis.moderation import publication
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.evaluate import evaluate
from parvis.moderation.models import (
    Action,
    Automation,
    Decision,
    DecisionState,
    Source,
    SubjectType,
)
from parvis.moderation.services import take_decision
from parvis.moderation.signals import inline
from parvis.social.models import Post


def screen_post(session: Session, services: Services, post: Post) -> list[Decision]:
    """Apply the automatic rules the post triggers; returns the decisions taken."""
    signals = inline.detect(f"{post.title}\n{post.spoiler_text}\n{post.body_source}")
    if not signals:
        return []
    row = publication.get_version(session)
    taken = []
    for proposal in evaluate(publication.parsed(row), signals):
        rule = proposal.rule
        if not rule.automatic or rule.action not in (
            Action.REMOVE.value,
            Action.INTERSTITIAL.value,
            Action.LABEL.value,
            Action.DEMOTE.value,
        ):
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

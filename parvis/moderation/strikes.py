"""Strikes and escalation: decisions under rules that carry strikes count against the account
for the rulebook's window; reaching the threshold suspends it by a decision citing the
escalation rule. Superseded (e.g. reversed) decisions carry no strike, and neither do plain
warnings (decisions that restrict nothing) unless the rulebook's `warnings_count` says so."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from parvis.accounts.services import Services
from parvis.errors import NotFound
from parvis.moderation import publication
from parvis.moderation.decisions import DecisionRequest, write_changed_decisions
from parvis.moderation.models import (
    AccountRestriction,
    Action,
    Automation,
    Decision,
    Source,
    SubjectType,
)
from parvis.storage.base import utcnow
from parvis.storage.hot import HotSQL

ESCALATION_RULE = "escalation"


# Run after every decision, so on the driver rather than through the ORM. The states and
# actions are written into the statement (a bound list costs SQLite a json_each() a run, more
# than the rest of this query; a misspelt one fails tests/moderation/test_strikes.py). Keyed by
# whether plain warnings (no_action) count. A decision that supersedes another (an appeal's
# outcome, a review) is read whatever its date: its strike dates from the first decision on
# the same conduct (`_first_in_window`).
_COUNTED_SQL = (
    "SELECT rule_id, rulebook_version, supersedes_id, starts_at >= :since FROM decisions"
    " WHERE affected_user_id = :user AND (starts_at >= :since OR supersedes_id IS NOT NULL)"
    " AND state IN ('in_effect', 'expired') AND action NOT IN "
)
_COUNTED = {
    True: HotSQL(_COUNTED_SQL + "('restore')"),
    False: HotSQL(_COUNTED_SQL + "('restore', 'no_action')"),
}
_SUPERSEDED = HotSQL("SELECT supersedes_id, starts_at >= :since FROM decisions WHERE id = :id")


def _first_in_window(session: Session, supersedes_id: int, since: datetime) -> bool:
    """Whether the first decision of a chain of superseding ones started within the window.
    An upheld appeal or review, or an appeal that softened the action, restates the original
    decision: counting its strike from the outcome's date would make appealing lengthen it."""
    earlier: int | None = supersedes_id
    recent = True
    while earlier is not None:
        found = _SUPERSEDED.rows(session, {"id": earlier, "since": since})
        if not found:
            break
        earlier, recent = found[0][0], bool(found[0][1])
    return recent


def strikes(
    session: Session, user_id: int, window_days: int, *, warnings_count: bool = False
) -> int:
    """Strikes the member carries now: decisions in the window, not superseded, with strikes
    (warnings included only when `warnings_count`). A decision that replaced another on appeal
    or review counts from the first one's date."""
    since = utcnow() - timedelta(days=window_days)
    write_changed_decisions(session)  # one confirmed or superseded just now counts as such
    rows = _COUNTED[warnings_count].rows(session, {"user": user_id, "since": since})
    total = 0
    for rule_id, version, supersedes_id, recent in rows:
        if supersedes_id is not None:
            recent = _first_in_window(session, supersedes_id, since)
        if not recent:
            continue
        try:
            total += publication.rules(session, version)[1].rule(rule_id).strikes
        except (NotFound, KeyError):
            continue
    return total


def escalate(session: Session, services: Services, decision: Decision) -> Decision | None:
    """After a decision, suspend the account if its strikes reached the rulebook's threshold."""
    from parvis.moderation.services import take_decision  # services call back into this module

    user_id = decision.affected_user_id
    if user_id is None or decision.rule_id == ESCALATION_RULE:
        return None
    try:
        version, rulebook = publication.rules(session)
    except NotFound:
        return None  # no rulebook published yet: nothing defines strikes
    try:
        rule = rulebook.rule(ESCALATION_RULE)
    except KeyError:
        return None
    window = rulebook.escalation.get("window_days", 90)
    threshold = rulebook.escalation.get("strikes_for_suspension", 3)
    count = strikes(session, user_id, window, warnings_count=rulebook.warnings_count)
    if count < threshold:
        return None
    current = session.get(AccountRestriction, user_id)
    if current is not None and current.action in (Action.SUSPEND.value, Action.TERMINATE.value):
        return None
    days = rulebook.escalation.get("suspension_days", rule.duration_days or 7)
    return take_decision(
        session,
        services,
        DecisionRequest(
            subject_type=SubjectType.ACCOUNT,
            subject_key=str(user_id),
            action=Action.SUSPEND,
            rule=rule.info(version),
            facts=f"The account reached {count} strikes within {window} days (threshold "
            f"{threshold}); the latest came with decision {decision.id}.",
            source=Source.OWN_INITIATIVE,
            automated_detection=True,
            automated_decision=Automation.FULLY,
            duration=timedelta(days=days),
            territorial_scope=list(rule.territorial_scope),
        ),
    )

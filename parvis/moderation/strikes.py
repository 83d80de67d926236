"""Strikes and escalation: decisions under rules that carry strikes count against the account
for the rulebook's window; reaching the threshold suspends it by a decision citing the
escalation rule. Superseded (e.g. reversed) decisions carry no strike, and neither do plain
warnings (decisions that restrict nothing) unless the rulebook's `warnings_count` says so."""

from __future__ import annotations

from datetime import timedelta

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
# whether plain warnings (no_action) count.
_COUNTED_SQL = (
    "SELECT rule_id, rulebook_version FROM decisions WHERE affected_user_id = :user"
    " AND starts_at >= :since AND state IN ('in_effect', 'expired') AND action NOT IN "
)
_COUNTED = {
    True: HotSQL(_COUNTED_SQL + "('restore')"),
    False: HotSQL(_COUNTED_SQL + "('restore', 'no_action')"),
}


def strikes(
    session: Session, user_id: int, window_days: int, *, warnings_count: bool = False
) -> int:
    """Strikes the member carries now: decisions in the window, not superseded, with strikes
    (warnings included only when `warnings_count`)."""
    since = utcnow() - timedelta(days=window_days)
    write_changed_decisions(session)  # one confirmed or superseded just now counts as such
    rows = _COUNTED[warnings_count].rows(session, {"user": user_id, "since": since})
    total = 0
    for rule_id, version in rows:
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

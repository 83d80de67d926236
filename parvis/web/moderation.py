"""The moderators' desk: the notice queue (trusted flaggers first) and open appeals, with
actions that always cite a rule of the rulebook in force."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from parvis.accounts.models import User
from parvis.errors import InvalidInput, NotFound, PermissionDenied
from parvis.moderation import (
    appeals,
    automated_review,
    decisions,
    evidence,
    flaggers,
    lists,
    notice_appeals,
    notices,
    publication,
)
from parvis.moderation.decisions import DecisionRequest, history
from parvis.moderation.models import (
    Action,
    Appeal,
    AppealState,
    Automation,
    Decision,
    DecisionState,
    ListEntry,
    Notice,
    NoticeState,
    Source,
    SubjectType,
)
from parvis.moderation.reasons import RuleInfo
from parvis.moderation.services import deliver, take_decision
from parvis.runtime import Runtime, get_runtime
from parvis.social.models import Post
from parvis.social.views import build_view
from parvis.web.common import redirect
from parvis.web.reports import CATEGORY_LABELS
from parvis.web.session import Page, load_page
from parvis.web.templating import render

router = APIRouter(prefix="/moderation")
ACTIONS = [a.value for a in Action if a not in (Action.RESTORE, Action.NO_ACTION)]


def _moderator(page: Page) -> User:
    user = page.require_user()
    if not user.is_moderator:
        raise PermissionDenied("Only moderators can open the moderation desk.")
    return user


def _rule(runtime: Runtime, rule_id: str) -> RuleInfo:
    with runtime.db.session() as session:
        row = publication.get_version(session)
        try:
            return publication.parsed(row).rule(rule_id).info(row.version)
        except KeyError as exc:
            raise InvalidInput(f"The rulebook in force has no rule '{rule_id}'.", "rule") from exc


@router.get("")
def desk(
    request: Request, page: Page = Depends(load_page), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Open notices in review order and open appeals."""
    _moderator(page)
    with runtime.db.session() as session:
        rulebook = publication.parsed(publication.get_version(session))
        items = []
        for notice in notices.review_queue(session):
            preview = None
            affected = None
            found = None
            if notice.subject_type == SubjectType.POST.value:
                post = session.get(Post, int(notice.subject_key))
                if post is not None:
                    preview = build_view(session, page.viewer, post)
                    affected = post.author_id
                    found = evidence.for_post(session, runtime.settings, post)
            elif notice.subject_type == SubjectType.ACCOUNT.value:
                affected = int(notice.subject_key)
            earlier = history(session, affected_user_id=affected) if affected else []
            items.append(
                {
                    "notice": notice,
                    "preview": preview,
                    "earlier": earlier,
                    "evidence": found,
                    "category": CATEGORY_LABELS.get(notice.category, notice.category),
                }
            )
        open_appeals = []
        for appeal in session.scalars(
            select(Appeal).where(Appeal.state == AppealState.OPEN.value).order_by(Appeal.id)
        ):
            open_appeals.append(
                {
                    "appeal": appeal,
                    "decision": session.get(Decision, appeal.decision_id)
                    if appeal.decision_id
                    else None,
                    "notice": session.get(Notice, appeal.notice_id) if appeal.notice_id else None,
                }
            )
        proposals = []
        for decision in session.scalars(
            select(Decision)
            .where(Decision.state == DecisionState.PROPOSED.value)
            .order_by(Decision.id)
            .limit(100)
        ):
            proposals.append(_with_context(session, runtime, decision))
        automated = [
            _with_context(session, runtime, decision)
            for decision in automated_review.awaiting_review(session)
        ]
        entries = list(session.scalars(select(ListEntry).order_by(ListEntry.id.desc()).limit(50)))
        trusted = flaggers.listing(session) if page.user and page.user.is_admin else []
        return render(
            request,
            "moderation.html",
            {
                "items": items,
                "appeals": open_appeals,
                "rules": rulebook.rules,
                "actions": ACTIONS,
                "proposals": proposals,
                "automated": automated,
                "entries": entries,
                "flaggers": trusted,
            },
        )


def _with_context(session: Session, runtime: Runtime, decision: Decision) -> dict[str, Any]:
    """A decision on the desk with what the moderator weighs it by: what screening found in
    the post it is about (none for other subjects) and the member's earlier decisions."""
    post = (
        session.get(Post, int(decision.subject_key))
        if decision.subject_type == SubjectType.POST.value
        else None
    )
    return {
        "decision": decision,
        "evidence": None if post is None else evidence.for_post(session, runtime.settings, post),
        "earlier": history(session, affected_user_id=decision.affected_user_id)[:6]
        if decision.affected_user_id
        else [],
    }


@router.post("/notices/{notice_id}/decide")
def decide_notice(
    request: Request,
    notice_id: int,
    rule: str = Form(""),
    action: str = Form(""),
    facts: str = Form(""),
    duration_days: int = Form(0),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Act on a notice by a decision citing a rule; the notifier and the author are told."""
    page.check_csrf(csrf_token)
    moderator = _moderator(page)
    if action not in ACTIONS:
        raise InvalidInput("Choose an action from the ladder.", "action")
    if not 0 <= duration_days <= 3650:
        raise InvalidInput("Duration: 0 (until lifted) to 3650 days.", "duration_days")
    info = _rule(runtime, rule)
    with runtime.db.session() as session:
        notice = session.get(Notice, notice_id)
        if notice is None:
            raise NotFound("No such notice.")
        rule_obj = publication.parsed(publication.get_version(session)).rule(rule)
        subject = SubjectType(notice.subject_type)
        decision = take_decision(
            session,
            runtime.services,
            DecisionRequest(
                subject_type=subject,
                subject_key=notice.subject_key,
                action=Action(action),
                rule=info,
                facts=facts,
                source=Source.TRUSTED_FLAGGER if notice.trusted_flagger_id else Source.NOTICE,
                automated_detection=False,
                automated_decision=Automation.NOT_AUTOMATED,
                decided_by_id=moderator.id,
                duration=timedelta(days=duration_days) if duration_days else None,
                features=rule_obj.features if action == Action.RESTRICT_ACCOUNT.value else (),
                territorial_scope=list(rule_obj.territorial_scope),
                notice_id=notice.id,
            ),
        )
        notices.resolve_notice(
            session,
            runtime.services,
            notice.id,
            session.get_one(User, moderator.id),
            outcome=NoticeState.ACTIONED,
            explanation=facts,
            decision=decision,
        )
    return redirect("/moderation")


@router.post("/notices/{notice_id}/dismiss")
def dismiss_notice(
    notice_id: int,
    outcome: str = Form(""),
    explanation: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Close a notice without action (or as manifestly unfounded), telling the notifier why."""
    page.check_csrf(csrf_token)
    moderator = _moderator(page)
    if outcome not in (NoticeState.NO_ACTION.value, NoticeState.UNFOUNDED.value):
        raise InvalidInput("Outcome must be no_action or unfounded.", "outcome")
    with runtime.db.session() as session:
        notices.resolve_notice(
            session,
            runtime.services,
            notice_id,
            session.get_one(User, moderator.id),
            outcome=NoticeState(outcome),
            explanation=explanation,
        )
    return redirect("/moderation")


@router.post("/appeals/{appeal_id}")
def decide_appeal(
    appeal_id: int,
    outcome: str = Form(""),
    facts: str = Form(""),
    new_action: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Uphold, reverse or modify an appealed decision (not by the moderator who took it)."""
    page.check_csrf(csrf_token)
    moderator = _moderator(page)
    if outcome not in (
        AppealState.UPHELD.value,
        AppealState.REVERSED.value,
        AppealState.MODIFIED.value,
    ):
        raise InvalidInput("Outcome must be upheld, reversed or modified.", "outcome")
    with runtime.db.session() as session:
        outcome_decision = appeals.decide_appeal(
            session,
            appeal_id,
            session.get_one(User, moderator.id),
            outcome=AppealState(outcome),
            facts=facts,
            new_action=Action(new_action) if new_action in ACTIONS else None,
        )
        deliver(session, runtime.services, outcome_decision)
    return redirect("/moderation")


@router.post("/lists")
def add_list_entry(
    kind: str = Form(""),
    value: str = Form(""),
    rule: str = Form("hacked-materials"),
    note: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Put a URL, domain or document fingerprint on the hacked-materials list, or a word on the
    watched-words list, citing a rule; the rule's actions for a hacked-materials entry and the
    existing posts that carry it are proposed for review."""
    page.check_csrf(csrf_token)
    moderator = _moderator(page)
    with runtime.db.session() as session:
        lists.add_entry(
            session,
            session.get_one(User, moderator.id),
            kind=kind,
            value=value,
            rule_id=rule,
            note=note,
            list_name=lists.WATCHED_WORDS if kind == "word" else lists.HACKED_MATERIALS,
        )
    return redirect("/moderation")


@router.post("/lists/{entry_id}/remove")
def remove_list_entry(
    entry_id: int,
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Take an entry off its list (decisions already taken stay until reversed)."""
    page.check_csrf(csrf_token)
    moderator = _moderator(page)
    with runtime.db.session() as session:
        lists.remove_entry(session, session.get_one(User, moderator.id), entry_id)
    return redirect("/moderation")


@router.post("/proposals/{decision_id}")
def review_proposal(
    decision_id: int,
    answer: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Confirm a proposed decision (it takes effect and is delivered) or decline it."""
    page.check_csrf(csrf_token)
    moderator = _moderator(page)
    if answer not in ("confirm", "decline"):
        raise InvalidInput("Answer confirm or decline.", "answer")
    with runtime.db.session() as session:
        me = session.get_one(User, moderator.id)
        if answer == "confirm":
            deliver(session, runtime.services, decisions.confirm(session, decision_id, me))
        else:
            decisions.decline(session, decision_id, me)
    return redirect("/moderation")


@router.post("/automated/{decision_id}")
def review_automated(
    decision_id: int,
    answer: str = Form(""),
    facts: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Uphold or reverse a fully automated decision: a decision of the moderator's own that
    supersedes it, told to the member."""
    page.check_csrf(csrf_token)
    moderator = _moderator(page)
    if answer not in ("uphold", "reverse"):
        raise InvalidInput("Answer uphold or reverse.", "answer")
    with runtime.db.session() as session:
        outcome = automated_review.review(
            session,
            session.get_one(User, moderator.id),
            decision_id,
            uphold=answer == "uphold",
            facts=facts,
        )
        deliver(session, runtime.services, outcome)
    return redirect("/moderation")


@router.post("/notice-appeals/{appeal_id}")
def decide_notice_appeal(
    appeal_id: int,
    outcome: str = Form(""),
    rule: str = Form(""),
    action: str = Form(""),
    facts: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """A notifier's appeal against "no action": keep it, or act on the notice citing a rule."""
    page.check_csrf(csrf_token)
    moderator = _moderator(page)
    reverse = outcome == "act"
    if outcome not in ("keep", "act"):
        raise InvalidInput("Outcome must be keep or act.", "outcome")
    if reverse and action not in ACTIONS:
        raise InvalidInput("Choose an action from the ladder.", "action")
    info = _rule(runtime, rule) if reverse else None
    with runtime.db.session() as session:
        notice_appeals.decide(
            session,
            runtime.services,
            appeal_id,
            session.get_one(User, moderator.id),
            reverse=reverse,
            facts=facts,
            rule=info,
            action=Action(action) if reverse else None,
        )
    return redirect("/moderation")


@router.post("/flaggers")
def designate_flagger(
    username: str = Form(""),
    name: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Admins: designate a trusted flagger (an organisation acting through a member account);
    its notices are reviewed first."""
    page.check_csrf(csrf_token)
    admin = _moderator(page)
    with runtime.db.session() as session:
        flaggers.designate(session, session.get_one(User, admin.id), username, name)
    return redirect("/moderation#trusted-flaggers")


@router.post("/flaggers/{flagger_id}/remove")
def revoke_flagger(
    flagger_id: int,
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Admins: withdraw a designation (kept on record, withdrawn, once it was used)."""
    page.check_csrf(csrf_token)
    admin = _moderator(page)
    with runtime.db.session() as session:
        flaggers.revoke(session, session.get_one(User, admin.id), flagger_id)
    return redirect("/moderation#trusted-flaggers")

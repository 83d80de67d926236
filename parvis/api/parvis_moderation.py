"""Parvis-only moderation endpoints under /api/parvis/v1: the rulebook (current and every
version), decisions in their public form, statements of reasons (DSA Transparency Database
JSON), appeals (members lodge and read their own; moderators decide) and the review of
automated decisions (moderators uphold or reverse them). Also Mastodon's
GET /api/v1/instance/rules, the rules in force as Rule entities."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from parvis.accounts.models import User
from parvis.api import moderation_entities as entities
from parvis.api.admin_entities import Rule, rule
from parvis.api.auth import Caller, caller, optional_caller
from parvis.api.ids import parse_id
from parvis.api.params import read_params
from parvis.errors import InvalidInput, NotFound
from parvis.moderation import appeals, automated_review, publication
from parvis.moderation.models import Action, Appeal, AppealState, Decision
from parvis.moderation.services import deliver
from parvis.runtime import Runtime, get_runtime

router = APIRouter(prefix="/api/parvis/v1", tags=["parvis: rules, decisions, appeals"])
instance_rules_router = APIRouter(tags=["instance"])
OUTCOMES = (AppealState.UPHELD.value, AppealState.REVERSED.value, AppealState.MODIFIED.value)


def _number(value: str) -> int:
    number = parse_id(value)
    if number is None:
        raise NotFound("Record not found")
    return number


@instance_rules_router.get("/api/v1/instance/rules")
def instance_rules(runtime: Runtime = Depends(get_runtime)) -> list[Rule]:
    """The rules in force (Mastodon's Rule entities; ids are Parvis rule ids)."""
    with runtime.db.session() as session:
        current = publication.in_force(session)
        return [rule(r) for r in current[1].rules] if current else []


@router.get("/rules")
def current_rulebook(runtime: Runtime = Depends(get_runtime)) -> entities.RulebookDocument:
    """The rulebook version in force, with every rule and its exact published text."""
    with runtime.db.session() as session:
        row = publication.get_version(session)
        return entities.rulebook_document(row, publication.parsed(row))


@router.get("/rules/versions")
def rulebook_versions(
    runtime: Runtime = Depends(get_runtime),
) -> list[entities.RulebookVersionSummary]:
    """Every published version, newest first (published versions never change)."""
    with runtime.db.session() as session:
        return [entities.version_summary(r) for r in publication.versions(session)]


@router.get("/rules/versions/{version}")
def rulebook_version(
    version: str, runtime: Runtime = Depends(get_runtime)
) -> entities.RulebookDocument:
    """One published version with its rules."""
    with runtime.db.session() as session:
        row = publication.get_version(session, _number(version))
        return entities.rulebook_document(row, publication.parsed(row))


def _decision(session: Session, decision_id: str) -> Decision:
    row = session.get(Decision, _number(decision_id))
    if row is None or row.state not in entities.PUBLIC_STATES:
        raise NotFound("Record not found")
    return row


def _sees_subject(who: Caller | None, row: Decision) -> bool:
    user = who.user if who is not None else None
    return user is not None and (user.is_moderator or user.id == row.affected_user_id)


@router.get("/decisions")
def list_decisions(
    max_id: str | None = Query(None, description="Decisions older than this id."),
    limit: int = Query(40, ge=1, le=200),
    mine: bool = Query(False, description="Only decisions that affected the caller."),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> list[entities.PublicDecision]:
    """Decisions newest first, in their public form (proposals are not published)."""
    query = select(Decision).where(Decision.state.in_(entities.PUBLIC_STATES))
    if max_id:
        query = query.where(Decision.id < _number(max_id))
    if mine:
        if who is None:
            raise InvalidInput("mine=true needs a member's token.", "mine")
        user = who.member("read:statuses")
        query = query.where(Decision.affected_user_id == user.id)
    with runtime.db.session() as session:
        rows = session.scalars(query.order_by(Decision.id.desc()).limit(limit))
        return [
            entities.decision(r, runtime.settings, show_subject=_sees_subject(who, r)) for r in rows
        ]


@router.get("/decisions/{decision_id}")
def get_decision(
    decision_id: str,
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.PublicDecision:
    """One decision in its public form."""
    with runtime.db.session() as session:
        row = _decision(session, decision_id)
        return entities.decision(row, runtime.settings, show_subject=_sees_subject(who, row))


@router.get("/statements/{decision_id}")
def get_statement(decision_id: str, runtime: Runtime = Depends(get_runtime)) -> dict[str, Any]:
    """A decision's statement of reasons in the DSA Transparency Database's JSON shape
    (restorations and warnings restrict nothing and have none: 404)."""
    with runtime.db.session() as session:
        row = _decision(session, decision_id)
        if not row.statement_json:
            raise NotFound("This decision restricts nothing, so it has no statement of reasons.")
        return entities.statement(row)


@router.post("/decisions/{decision_id}/appeals")
async def lodge_appeal(
    decision_id: str,
    request: Request,
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.ParvisAppeal:
    """Appeal a decision that affected you, within six months (`reason`, 10-5000 characters)."""
    user = who.member("write:appeals")
    params = await read_params(request)

    def work() -> entities.ParvisAppeal:
        with runtime.db.session() as session:
            row = appeals.file_appeal(
                session,
                session.get_one(User, user.id),
                _number(decision_id),
                params.get("reason"),
            )
            return entities.appeal(row)

    return await run_in_threadpool(work)


@router.get("/appeals")
def my_appeals(
    who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> list[entities.ParvisAppeal]:
    """The caller's own appeals, newest first."""
    user = who.member("read:appeals")
    with runtime.db.session() as session:
        rows = session.scalars(
            select(Appeal).where(Appeal.appellant_id == user.id).order_by(Appeal.id.desc())
        )
        return [entities.appeal(r) for r in rows]


@router.get("/admin/appeals")
def open_appeals(
    who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> list[entities.ParvisAppeal]:
    """Open appeals against decisions, oldest first (moderators)."""
    who.staff("admin:read:appeals")
    with runtime.db.session() as session:
        rows = session.scalars(
            select(Appeal)
            .where(Appeal.state == AppealState.OPEN.value, Appeal.decision_id.is_not(None))
            .order_by(Appeal.id)
        )
        return [entities.appeal(r) for r in rows]


@router.get("/appeals/{appeal_id}")
def get_appeal(
    appeal_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> entities.ParvisAppeal:
    """One appeal: your own, or any for moderators."""
    user = who.member("read:appeals")
    with runtime.db.session() as session:
        row = session.get(Appeal, _number(appeal_id))
        if row is None or (row.appellant_id != user.id and not user.is_moderator):
            raise NotFound("Record not found")
        return entities.appeal(row)


@router.post("/admin/appeals/{appeal_id}/decide")
async def decide_appeal(
    appeal_id: str,
    request: Request,
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.ParvisAppeal:
    """Uphold, reverse or modify (with a different `action`) the appealed decision, stating the
    `facts`; not by the moderator who took it. The outcome is a decision, delivered at once."""
    user = who.staff("admin:write:appeals")
    params = await read_params(request)
    outcome = params.get("outcome")
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome must be one of: {', '.join(OUTCOMES)}.", "outcome")
    new_action = params.get("action")
    if new_action and new_action not in {a.value for a in Action}:
        raise InvalidInput(f"Unknown action '{new_action}'.", "action")

    def work() -> entities.ParvisAppeal:
        with runtime.db.session() as session:
            row = session.get(Appeal, _number(appeal_id))
            if row is None or row.decision_id is None:
                raise NotFound("Record not found")
            outcome_decision = appeals.decide_appeal(
                session,
                row.id,
                session.get_one(User, user.id),
                outcome=AppealState(outcome),
                facts=params.get("facts"),
                new_action=Action(new_action) if new_action else None,
            )
            deliver(session, runtime.services, outcome_decision)
            session.flush()
            return entities.appeal(row)

    return await run_in_threadpool(work)


@router.get("/admin/automated")
def automated_awaiting_review(
    who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> list[entities.PublicDecision]:
    """Fully automated restrictions in force that no moderator has reviewed, oldest first."""
    who.staff("admin:read:reports")
    with runtime.db.session() as session:
        return [
            entities.decision(row, runtime.settings, show_subject=True)
            for row in automated_review.awaiting_review(session)
        ]


@router.post("/admin/automated/{decision_id}/review")
async def review_automated(
    decision_id: str,
    request: Request,
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.PublicDecision:
    """`answer=uphold` or `answer=reverse` a fully automated decision, stating the `facts`
    checked; the outcome is the moderator's own decision superseding it, delivered at once."""
    user = who.staff("admin:write:reports")
    params = await read_params(request)
    answer = params.get("answer")
    if answer not in ("uphold", "reverse"):
        raise InvalidInput("answer must be uphold or reverse.", "answer")

    def work() -> entities.PublicDecision:
        with runtime.db.session() as session:
            outcome = automated_review.review(
                session,
                session.get_one(User, user.id),
                _number(decision_id),
                uphold=answer == "uphold",
                facts=str(params.get("facts") or ""),
            )
            deliver(session, runtime.services, outcome)
            return entities.decision(outcome, runtime.settings, show_subject=True)

    return await run_in_threadpool(work)

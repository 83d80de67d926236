"""/api/v1/admin/reports: Mastodon's report desk over Parvis's notices (about posts and accounts
here; notices about outside addresses are handled on the web desk only). Moderators and admins
with an `admin:read:reports` / `admin:write:reports` token."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import ColumnElement, String, cast, or_, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from parvis.accounts.models import User
from parvis.api.admin_entities import AdminReport, admin_report
from parvis.api.admin_paging import AdminPage, admin_page, paged
from parvis.api.auth import Caller, caller
from parvis.api.ids import parse_id
from parvis.api.pagination import link_header
from parvis.api.params import read_params
from parvis.errors import InvalidInput, NotFound
from parvis.moderation import notices, publication, review
from parvis.moderation.models import Notice, NoticeState, SubjectType
from parvis.moderation.rulebook import Rule
from parvis.runtime import Runtime, get_runtime
from parvis.social.models import Post

router = APIRouter(prefix="/api/v1/admin/reports", tags=["admin: reports"])
RESOLVED_WITHOUT_ACTION = "A moderator reviewed your notice and decided not to act on it."
ACCOUNT_SUBJECTS = (SubjectType.POST.value, SubjectType.ACCOUNT.value)


def _rules(session: Session) -> dict[str, Rule]:
    current = publication.in_force(session)
    return {r.id: r for r in current[1].rules} if current else {}


def _notice(session: Session, report_id: str) -> Notice:
    number = parse_id(report_id)
    notice = session.get(Notice, number) if number is not None else None
    if notice is None or notice.subject_type not in ACCOUNT_SUBJECTS:
        raise NotFound("Record not found")
    return notice


def _about(account_id: int) -> ColumnElement[bool]:
    """Notices whose subject is the account or one of its posts."""
    return or_(
        (Notice.subject_type == SubjectType.ACCOUNT.value)
        & (Notice.subject_key == str(account_id)),
        (Notice.subject_type == SubjectType.POST.value)
        & Notice.subject_key.in_(select(cast(Post.id, String)).where(Post.author_id == account_id)),
    )


@router.get("")
async def list_reports(
    request: Request,
    resolved: bool = Query(False, description="Resolved reports instead of open ones."),
    account_id: str | None = Query(None, description="Reports filed by this account."),
    target_account_id: str | None = Query(None, description="Reports about this account."),
    page: AdminPage = Depends(admin_page),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Open (or resolved) reports, newest first, with `Link` pagination."""
    who.staff("admin:read:reports")
    for name, value in (("account_id", account_id), ("target_account_id", target_account_id)):
        if value is not None and parse_id(value) is None:
            raise InvalidInput(f"{name} must be a numeric id.", name)

    def work() -> tuple[list[AdminReport], list[Notice]]:
        with runtime.db.session() as session:
            query = select(Notice).where(Notice.subject_type.in_(ACCOUNT_SUBJECTS))
            query = query.where(
                Notice.state != NoticeState.RECEIVED.value
                if resolved
                else Notice.state == NoticeState.RECEIVED.value
            )
            if account_id:
                query = query.where(Notice.notifier_user_id == int(account_id))
            if target_account_id:
                query = query.where(_about(int(target_account_id)))
            query, reverse = paged(query, Notice.id, page)
            rows = list(session.scalars(query))
            if reverse:
                rows.reverse()
            rules = _rules(session)
            return [admin_report(session, n, runtime.settings, rules) for n in rows], rows

    body, rows = await run_in_threadpool(work)
    response = JSONResponse(body)
    link_header(request, response, rows)
    return response


@router.get("/{report_id}")
async def get_report(
    report_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> AdminReport:
    """One report."""
    who.staff("admin:read:reports")

    def work() -> AdminReport:
        with runtime.db.session() as session:
            notice = _notice(session, report_id)
            return admin_report(session, notice, runtime.settings, _rules(session))

    return await run_in_threadpool(work)


@router.put("/{report_id}")
async def update_report(
    report_id: str,
    request: Request,
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> AdminReport:
    """Set the rule a report is about (`rule_ids[]`: the first is kept; Parvis rule ids from
    GET /api/v1/instance/rules). `category` is derived from the notice, so it is not changed."""
    user = who.staff("admin:write:reports")
    params = await read_params(request)
    if not params.has("rule_ids[]") and not params.has("rule_ids"):
        raise InvalidInput("Send rule_ids[] (the rule the report is about).", "rule_ids")
    rule_id = next(iter(params.list("rule_ids")), "")

    def work() -> AdminReport:
        with runtime.db.session() as session:
            notice = _notice(session, report_id)
            review.cite_rule(session, session.get_one(User, user.id), notice.id, rule_id)
            return admin_report(session, notice, runtime.settings, _rules(session))

    return await run_in_threadpool(work)


@router.post("/{report_id}/{action}")
async def report_action(
    report_id: str,
    action: str,
    request: Request,
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> AdminReport:
    """`assign_to_self`, `unassign`, `resolve` (no action; optional `text` told to the notifier
    and Parvis's `outcome`: `no_action` or `unfounded`) or `reopen`."""
    if action not in ("assign_to_self", "unassign", "resolve", "reopen"):
        raise NotFound("Record not found")
    user = who.staff("admin:write:reports")
    params = await read_params(request)
    outcome = params.get("outcome") or NoticeState.NO_ACTION.value
    if outcome not in (NoticeState.NO_ACTION.value, NoticeState.UNFOUNDED.value):
        raise InvalidInput("outcome must be no_action or unfounded.", "outcome")

    def work() -> AdminReport:
        with runtime.db.session() as session:
            notice = _notice(session, report_id)
            me = session.get_one(User, user.id)
            if action == "assign_to_self":
                review.assign(session, me, notice.id)
            elif action == "unassign":
                review.unassign(session, me, notice.id)
            elif action == "reopen":
                review.reopen(session, me, notice.id)
            elif notice.state == NoticeState.RECEIVED.value:
                notices.resolve_notice(
                    session,
                    runtime.services,
                    notice.id,
                    me,
                    outcome=NoticeState(outcome),
                    explanation=params.get("text") or RESOLVED_WITHOUT_ACTION,
                )
            session.flush()
            return admin_report(session, notice, runtime.settings, _rules(session))

    return await run_in_threadpool(work)

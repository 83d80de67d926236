"""/api/v1/admin/accounts (and v2's list): members as moderators see them, and moderation
actions that are Parvis decisions.

Parvis extension: every action cites a rule. `POST /api/v1/admin/accounts/:id/action` takes
the rule from `rule_id`, else from `warning_preset_id` when it names a rule, else from the
rule the report given as `report_id` cites. Without one the action is refused (422). The
action becomes a decision with its statement of reasons (`moderation.services.take_decision`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from parvis.accounts.models import Role, User
from parvis.api.admin_entities import AdminAccount, admin_account
from parvis.api.admin_paging import AdminPage, admin_page, paged
from parvis.api.auth import Caller, caller
from parvis.api.ids import parse_id
from parvis.api.pagination import link_header
from parvis.api.params import Params, read_params
from parvis.errors import InvalidInput, NotFound, PermissionDenied
from parvis.moderation import enforcement, notices, publication
from parvis.moderation.decisions import ACCOUNT_FEATURES, DecisionRequest
from parvis.moderation.models import (
    AccountRestriction,
    Action,
    Automation,
    Decision,
    Notice,
    NoticeState,
    Source,
    SubjectType,
)
from parvis.moderation.rulebook import Rule
from parvis.moderation.services import take_decision
from parvis.runtime import Runtime, get_runtime
from parvis.social.models import Post
from parvis.storage.base import utcnow

router = APIRouter(tags=["admin: accounts"])
# Mastodon's action types -> Parvis's ladder. `none` is a warning: a decision that restricts
# nothing (no statement of reasons is due), delivered to the member with the rule and facts.
ACTION_TYPES = {
    "none": Action.NO_ACTION,
    "warn": Action.NO_ACTION,
    "silence": Action.RESTRICT_ACCOUNT,
    "limit": Action.RESTRICT_ACCOUNT,
    "disable": Action.SUSPEND,
    "suspend": Action.SUSPEND,
    "terminate": Action.TERMINATE,
}
NO_RULE = (
    "Parvis requires a rule for every moderation action: send rule_id (a rule id from "
    "GET /api/v1/instance/rules), or report_id of a report that cites a rule."
)
LIFT_ACTIONS = {
    "unsuspend": (Action.SUSPEND, Action.TERMINATE),
    "enable": (Action.SUSPEND, Action.TERMINATE),
    "unsilence": (Action.RESTRICT_ACCOUNT,),
}


@dataclass(frozen=True)
class AccountFilter:
    """What an admin account list asks for (v1 and v2 parameters normalised)."""

    remote: bool = False
    status: str | None = None  # active | pending | disabled | silenced | suspended | sensitized
    staff: bool = False
    username: str = ""
    display_name: str = ""
    email: str = ""
    by_domain: str = ""
    ip: str = ""


def _restricted(actions: tuple[str, ...]) -> ColumnElement[bool]:
    now = utcnow()
    return User.id.in_(
        select(AccountRestriction.user_id).where(
            AccountRestriction.action.in_(actions),
            or_(AccountRestriction.ends_at.is_(None), AccountRestriction.ends_at > now),
        )
    )


def _query(wanted: AccountFilter, domain: str) -> Select[User]:
    query = select(User)
    suspended = (Action.SUSPEND.value, Action.TERMINATE.value)
    nothing = (
        wanted.remote
        or wanted.status in ("pending", "disabled", "sensitized")
        or (wanted.by_domain and wanted.by_domain.lower() != domain)
        or wanted.ip
    )
    if nothing:  # Parvis has no remote, pending, disabled or force-sensitive accounts, no IPs
        return query.where(false())
    if wanted.status == "active":
        query = query.where(~_restricted(suspended))
    elif wanted.status == "silenced":
        query = query.where(_restricted((Action.RESTRICT_ACCOUNT.value,)))
    elif wanted.status == "suspended":
        query = query.where(_restricted(suspended))
    if wanted.staff:
        query = query.where(User.role.in_((Role.MODERATOR.value, Role.ADMIN.value)))
    for column, text in (
        (User.username_key, wanted.username.lower()),
        (func.lower(User.display_name), wanted.display_name.lower()),
        (func.lower(User.email), wanted.email.lower()),
    ):
        if text:
            query = query.where(column.contains(text, autoescape=True))
    return query


def _list(
    request: Request, wanted: AccountFilter, page: AdminPage, who: Caller, runtime: Runtime
) -> Response:
    who.staff("admin:read:accounts")
    with runtime.db.session() as session:
        query, reverse = paged(_query(wanted, runtime.settings.domain.lower()), User.id, page)
        users = list(session.scalars(query))
        if reverse:
            users.reverse()
        body = [admin_account(session, u, runtime.settings) for u in users]
    response = JSONResponse(body)
    link_header(request, response, users)
    return response


STATUSES = ("active", "pending", "disabled", "silenced", "suspended", "sensitized")


@router.get("/api/v1/admin/accounts")
def list_accounts_v1(
    request: Request,
    local: bool = False,
    remote: bool = False,
    active: bool = False,
    pending: bool = False,
    disabled: bool = False,
    silenced: bool = False,
    suspended: bool = False,
    sensitized: bool = False,
    staff: bool = False,
    username: str = Query("", max_length=100),
    display_name: str = Query("", max_length=100),
    email: str = Query("", max_length=254),
    by_domain: str = Query("", max_length=253),
    ip: str = Query("", max_length=64),
    page: AdminPage = Depends(admin_page),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Accounts matching the filters, newest first (Admin::Account entities)."""
    flags = {
        "active": active,
        "pending": pending,
        "disabled": disabled,
        "silenced": silenced,
        "suspended": suspended,
        "sensitized": sensitized,
    }
    chosen = [name for name, on in flags.items() if on]
    if len(chosen) > 1:
        raise InvalidInput("Choose at most one of: " + ", ".join(STATUSES) + ".", chosen[1])
    wanted = AccountFilter(
        remote=remote and not local,
        status=chosen[0] if chosen else None,
        staff=staff,
        username=username,
        display_name=display_name,
        email=email,
        by_domain=by_domain,
        ip=ip,
    )
    return _list(request, wanted, page, who, runtime)


@router.get("/api/v2/admin/accounts")
def list_accounts_v2(
    request: Request,
    origin: str | None = Query(None, pattern="^(local|remote)$"),
    status: str | None = Query(None, pattern="^(active|pending|disabled|silenced|suspended)$"),
    permissions: str | None = Query(None, pattern="^staff$"),
    username: str = Query("", max_length=100),
    display_name: str = Query("", max_length=100),
    email: str = Query("", max_length=254),
    by_domain: str = Query("", max_length=253),
    ip: str = Query("", max_length=64),
    page: AdminPage = Depends(admin_page),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Accounts matching the filters, newest first (v2 parameters)."""
    wanted = AccountFilter(
        remote=origin == "remote",
        status=status,
        staff=permissions == "staff",
        username=username,
        display_name=display_name,
        email=email,
        by_domain=by_domain,
        ip=ip,
    )
    return _list(request, wanted, page, who, runtime)


def _user(session: Session, account_id: str) -> User:
    number = parse_id(account_id)
    user = session.get(User, number) if number is not None else None
    if user is None:
        raise NotFound("Record not found")
    return user


@router.get("/api/v1/admin/accounts/{account_id}")
def get_account(
    account_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> AdminAccount:
    """One account as moderators see it."""
    who.staff("admin:read:accounts")
    with runtime.db.session() as session:
        return admin_account(session, _user(session, account_id), runtime.settings)


def _rule(session: Session, params: Params, notice: Notice | None) -> tuple[Rule, int]:
    row = publication.get_version(session)
    rulebook = publication.parsed(row)
    rule_id = params.get("rule_id") or params.get("warning_preset_id")
    if not rule_id and notice is not None:
        rule_id = notice.rule_id or ""
    if not rule_id:
        raise InvalidInput(NO_RULE, "rule_id")
    try:
        return rulebook.rule(rule_id), row.version
    except KeyError as exc:
        raise InvalidInput(
            f"The rulebook in force (version {row.version}) has no rule '{rule_id}'.", "rule_id"
        ) from exc


def _report(session: Session, params: Params, target: User) -> Notice | None:
    report_id = params.integer("report_id")
    if report_id is None:
        return None
    notice = session.get(Notice, report_id)
    if notice is None:
        raise NotFound("Record not found")
    about_target = (
        notice.subject_type == SubjectType.ACCOUNT.value and notice.subject_key == str(target.id)
    ) or (
        notice.subject_type == SubjectType.POST.value
        and session.scalar(select(Post.author_id).where(Post.id == int(notice.subject_key)))
        == target.id
    )
    if not about_target:
        raise InvalidInput(f"Report {report_id} is not about this account.", "report_id")
    return notice


def _features(params: Params, rule: Rule) -> tuple[str, ...]:
    features = tuple(params.list("features")) or rule.features
    if not features:
        raise InvalidInput(
            f"Limiting an account takes away features; the rule '{rule.id}' names none, so "
            f"send features[] (from: {', '.join(sorted(ACCOUNT_FEATURES))}).",
            "features",
        )
    return features


def _duration(params: Params, rule: Rule, action: Action, kind: str) -> timedelta | None:
    raw = params.get("duration_days")
    if raw:
        if not raw.isdigit() or not 0 <= int(raw) <= 3650:
            raise InvalidInput("duration_days: 0 (until lifted) to 3650 days.", "duration_days")
        return timedelta(days=int(raw)) if int(raw) else None
    if kind != "disable" and rule.action == action.value and rule.duration_days:
        return timedelta(days=rule.duration_days)
    return None


@router.post("/api/v1/admin/accounts/{account_id}/action")
async def account_action(
    account_id: str,
    request: Request,
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """Act on an account by a decision citing a rule: `type` none (a warning), silence/limit
    (restrict features), disable or suspend (suspension), terminate (Parvis). Parvis's extension
    parameters: `rule_id`, `duration_days`, `features[]`. With `report_id` the report is resolved
    with the decision and its notifier told. `sensitive` has no Parvis equivalent (422)."""
    moderator = who.staff("admin:write:accounts")
    params = await read_params(request)
    kind = params.get("type") or "none"
    if kind == "sensitive":
        raise InvalidInput(
            "Parvis has no force-sensitive accounts: warnings are decided per post "
            "(interstitial), through reports.",
            "type",
        )
    if kind not in ACTION_TYPES:
        raise InvalidInput(f"type must be one of: {', '.join(ACTION_TYPES)}.", "type")
    action = ACTION_TYPES[kind]

    def work() -> dict[str, Any]:
        with runtime.db.session() as session:
            target = _user(session, account_id)
            if target.id == moderator.id:
                raise PermissionDenied("You cannot take a moderation action on your own account.")
            notice = _report(session, params, target)
            rule, version = _rule(session, params, notice)
            features = _features(params, rule) if action == Action.RESTRICT_ACCOUNT else ()
            facts = params.get("text").strip() or (
                f"A moderator reviewed the account{f' after report #{notice.id}' if notice else ''}"
                f" and found it breaks the rule '{rule.title}'."
            )
            source = Source.OWN_INITIATIVE
            if notice is not None:
                source = Source.TRUSTED_FLAGGER if notice.trusted_flagger_id else Source.NOTICE
            decision = take_decision(
                session,
                runtime.services,
                DecisionRequest(
                    subject_type=SubjectType.ACCOUNT,
                    subject_key=str(target.id),
                    action=action,
                    rule=rule.info(version),
                    facts=facts,
                    source=source,
                    automated_detection=False,
                    automated_decision=Automation.NOT_AUTOMATED,
                    decided_by_id=moderator.id,
                    duration=_duration(params, rule, action, kind),
                    features=features,
                    territorial_scope=list(rule.territorial_scope),
                    notice_id=notice.id if notice else None,
                ),
            )
            if notice is not None and notice.state == NoticeState.RECEIVED.value:
                restricting = action != Action.NO_ACTION
                notices.resolve_notice(
                    session,
                    runtime.services,
                    notice.id,
                    session.get_one(User, moderator.id),
                    outcome=NoticeState.ACTIONED if restricting else NoticeState.NO_ACTION,
                    explanation=facts,
                    decision=decision if restricting else None,
                )
            return {}

    return await run_in_threadpool(work)


@router.post("/api/v1/admin/accounts/{account_id}/{lift}")
async def lift_restriction(
    account_id: str,
    lift: str,
    request: Request,
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> AdminAccount:
    """`unsuspend`, `enable` or `unsilence`: a restoring decision that supersedes the one in
    force, citing its rule (optional `text` states why)."""
    if lift not in LIFT_ACTIONS:
        raise NotFound("Record not found")
    moderator = who.staff("admin:write:accounts")
    params = await read_params(request)

    def work() -> AdminAccount:
        with runtime.db.session() as session:
            target = _user(session, account_id)
            restriction = enforcement.account_restriction(session, target.id)
            if restriction is None or Action(restriction.action) not in LIFT_ACTIONS[lift]:
                raise InvalidInput(f"The account has no restriction that '{lift}' lifts.")
            original = session.get_one(Decision, restriction.decision_id)
            take_decision(
                session,
                runtime.services,
                DecisionRequest(
                    subject_type=SubjectType.ACCOUNT,
                    subject_key=str(target.id),
                    action=Action.RESTORE,
                    rule=publication.cited_rule(session, original),
                    facts=params.get("text").strip()
                    or f"A moderator lifted the {original.action} of decision {original.id}.",
                    source=Source.OWN_INITIATIVE,
                    automated_detection=False,
                    automated_decision=Automation.NOT_AUTOMATED,
                    decided_by_id=moderator.id,
                    supersedes_id=original.id,
                    territorial_scope=original.territorial_scope.split(),
                ),
            )
            session.flush()
            return admin_account(session, target, runtime.settings)

    return await run_in_threadpool(work)

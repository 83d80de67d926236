"""Mastodon's admin entities (Admin::Account, Admin::Report, Admin::DomainBlock) and Rule,
built from Parvis's members, notices and moderation lists.

Field names and types follow docs.joinmastodon.org/entities/Admin_*. Parvis's own extras sit
under a `parvis` key. Parvis keeps no IP addresses of its members, so `ip` is null and `ips`
empty. A notice sent without an account (allowed for some DSA categories) has a null `account`.
"""

from __future__ import annotations

from typing import NotRequired

from sqlalchemy.orm import Session
from typing_extensions import TypedDict

from parvis.accounts.models import User
from parvis.api import entities
from parvis.config import Settings
from parvis.moderation import enforcement
from parvis.moderation.domain_blocks import DomainBlock
from parvis.moderation.models import Action, Notice, NoticeAssignment, NoticeState, SubjectType
from parvis.moderation.rulebook import Rule as RulebookRule
from parvis.social.models import Post
from parvis.social.views import build_view
from parvis.social.visibility import ANONYMOUS

SCAMS = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
OTHER_TERMS = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"


class Rule(TypedDict):
    """Mastodon's Rule entity: a rule of the rulebook in force (`id` is the Parvis rule id)."""

    id: str
    text: str
    hint: str


class AdminRole(TypedDict):
    """The Role entity as admin endpoints show it."""

    id: str
    name: str
    color: str
    permissions: str
    highlighted: bool


class AdminAccountExtras(TypedDict):
    """Parvis's additions: the account restriction in force and the decision behind it."""

    restriction: str | None
    restriction_features: list[str]
    restriction_ends_at: str | None
    decision_id: str | None


class AdminAccount(TypedDict):
    """Mastodon's Admin::Account entity."""

    id: str
    username: str
    domain: str | None
    created_at: str | None
    email: str
    ip: str | None
    ips: list[dict[str, str]]
    locale: str | None
    invite_request: str | None
    role: AdminRole
    confirmed: bool
    approved: bool
    disabled: bool
    silenced: bool
    sensitized: bool
    suspended: bool
    account: entities.Account
    parvis: AdminAccountExtras


class AdminReportExtras(TypedDict):
    """Parvis's notice behind the report: its DSA category, state, location and outcome."""

    notice_id: str
    dsa_category: str
    state: str
    location: str
    priority: int
    trusted_flagger: bool
    decision_id: str | None
    outcome: str


class AdminReport(TypedDict):
    """Mastodon's Admin::Report entity (one Parvis notice)."""

    id: str
    action_taken: bool
    action_taken_at: str | None
    category: str
    comment: str
    forwarded: bool
    created_at: str | None
    updated_at: str | None
    account: AdminAccount | None
    target_account: AdminAccount | None
    assigned_account: AdminAccount | None
    action_taken_by_account: AdminAccount | None
    statuses: list[entities.Status]
    rules: list[Rule]
    parvis: AdminReportExtras


class AdminDomainBlockExtras(TypedDict):
    """Parvis's list entry: the rule it cites and the decision blocking the domain."""

    list: str
    rule_id: str
    decision_id: str | None


class AdminDomainBlock(TypedDict):
    """Mastodon's Admin::DomainBlock entity (a domain on the hacked-materials list)."""

    id: str
    domain: str
    digest: NotRequired[str]
    created_at: str | None
    severity: str
    reject_media: bool
    reject_reports: bool
    private_comment: str | None
    public_comment: str | None
    obfuscate: bool
    parvis: AdminDomainBlockExtras


def rule(item: RulebookRule) -> Rule:
    """The Rule entity: the rule's title as `text`, its public wording as `hint`."""
    return {"id": item.id, "text": item.title, "hint": item.text}


def admin_account(session: Session, user: User, settings: Settings) -> AdminAccount:
    """The Admin::Account entity: the public Account plus e-mail, role and restriction state."""
    restriction = enforcement.account_restriction(session, user.id)
    action = restriction.action if restriction else None
    return {
        "id": str(user.id),
        "username": user.username,
        "domain": None,
        "created_at": entities.iso(user.created_at),
        "email": user.email,
        "ip": None,
        "ips": [],
        "locale": None,
        "invite_request": None,
        "role": {
            "id": user.role,
            "name": user.role if user.is_moderator else "",
            "color": "",
            "permissions": "0",
            "highlighted": user.is_moderator,
        },
        "confirmed": user.email_verified_at is not None,
        "approved": True,
        "disabled": False,
        "silenced": action == Action.RESTRICT_ACCOUNT.value,
        "sensitized": False,
        "suspended": action in (Action.SUSPEND.value, Action.TERMINATE.value),
        "account": entities.account(user, settings),
        "parvis": {
            "restriction": action,
            "restriction_features": [
                f for f in (restriction.features if restriction else "").split(",") if f
            ],
            "restriction_ends_at": entities.iso(restriction.ends_at) if restriction else None,
            "decision_id": str(restriction.decision_id) if restriction else None,
        },
    }


def report_category(notice: Notice) -> str:
    """Mastodon's coarse category for a notice: `violation` when it cites a rule, `spam` for
    scams, `legal` for other illegal-content categories, else `other`."""
    if notice.rule_id:
        return "violation"
    if notice.category == SCAMS:
        return "spam"
    if notice.category != OTHER_TERMS:
        return "legal"
    return "other"


def domain_block(block: DomainBlock) -> AdminDomainBlock:
    """The Admin::DomainBlock entity: `suspend` while a decision blocks the domain's sharing,
    `noop` while the entry only flags posts for review."""
    entry = block.entry
    return {
        "id": str(entry.id),
        "domain": entry.value,
        "created_at": entities.iso(entry.created_at),
        "severity": "suspend" if block.decision is not None else "noop",
        "reject_media": False,
        "reject_reports": False,
        "private_comment": entry.note or None,
        "public_comment": None,
        "obfuscate": False,
        "parvis": {
            "list": entry.list_name,
            "rule_id": entry.rule_id,
            "decision_id": str(block.decision.id) if block.decision else None,
        },
    }


def admin_report(
    session: Session, notice: Notice, settings: Settings, rules: dict[str, RulebookRule]
) -> AdminReport:
    """The Admin::Report entity for a notice about a post or an account here."""
    cache: dict[int, AdminAccount] = {}

    def account_of(user_id: int | None) -> AdminAccount | None:
        if user_id is None:
            return None
        if user_id not in cache:
            user = session.get(User, user_id)
            if user is None:
                return None
            cache[user_id] = admin_account(session, user, settings)
        return cache[user_id]

    statuses: list[entities.Status] = []
    target_id: int | None = None
    if notice.subject_type == SubjectType.POST.value:
        post = session.get(Post, int(notice.subject_key))
        if post is not None:
            target_id = post.author_id
            if post.deleted_at is None:
                # Moderators see the reported post as the public would, plus its restriction.
                statuses.append(entities.status(build_view(session, ANONYMOUS, post), settings))
    elif notice.subject_type == SubjectType.ACCOUNT.value:
        target_id = int(notice.subject_key)
    assignment = session.get(NoticeAssignment, notice.id)
    moments = [
        notice.created_at,
        notice.resolved_at,
        assignment.assigned_at if assignment else None,
    ]
    cited = rules.get(notice.rule_id) if notice.rule_id else None
    return {
        "id": str(notice.id),
        "action_taken": notice.state != NoticeState.RECEIVED.value,
        "action_taken_at": entities.iso(notice.resolved_at),
        "category": report_category(notice),
        "comment": notice.explanation,
        "forwarded": False,
        "created_at": entities.iso(notice.created_at),
        "updated_at": entities.iso(max(m for m in moments if m is not None)),
        "account": account_of(notice.notifier_user_id),
        "target_account": account_of(target_id),
        "assigned_account": account_of(assignment.moderator_id if assignment else None),
        "action_taken_by_account": account_of(notice.resolved_by_id),
        "statuses": statuses,
        "rules": [rule(cited)] if cited else [],
        "parvis": {
            "notice_id": str(notice.id),
            "dsa_category": notice.category,
            "state": notice.state,
            "location": notice.location,
            "priority": notice.priority,
            "trusted_flagger": notice.trusted_flagger_id is not None,
            "decision_id": str(notice.decision_id) if notice.decision_id else None,
            "outcome": notice.outcome_text,
        },
    }

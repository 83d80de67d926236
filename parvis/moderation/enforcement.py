"""What decisions in force mean for everyone else: the one place the social core asks
"is this post restricted?", "may this member post this?" and "may this link be shared?"."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from html import escape
from typing import TypeVar
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from parvis.errors import NotFound, PermissionDenied
from parvis.moderation.models import (
    AccountRestriction,
    Action,
    BlockedLink,
    Decision,
    PostRestriction,
)
from parvis.storage.base import utcnow
from parvis.storage.hot import HotSQL, Reader, utc

HIDDEN_EVERYWHERE = {Action.REMOVE.value}
TRACKING_PARAMS = ("utm_", "fbclid=", "gclid=", "mc_cid=", "mc_eid=", "ref_src=")
HIDDEN_FROM_DISCOVERY = {Action.REMOVE.value, Action.DEMOTE.value}


@dataclass(frozen=True)
class Restriction:
    """A restriction in force on a post, with what readers are told about it."""

    action: str
    decision_id: int
    rule_id: str

    @property
    def removed(self) -> bool:
        """Removed posts show as a tombstone naming the rule."""
        return self.action in HIDDEN_EVERYWHERE

    @property
    def interstitial(self) -> bool:
        """The post is shown only after a click-through warning."""
        return self.action == Action.INTERSTITIAL.value

    @property
    def labelled(self) -> bool:
        """The post carries a label naming the rule."""
        return self.action == Action.LABEL.value


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in sorted(values))  # enum values, never input


# Asked for every page of posts: hand-written for the hot read path (see `storage.hot`).
_RESTRICTIONS_OF_POSTS = HotSQL(
    "SELECT r.post_id, r.action, r.decision_id, r.ends_at, d.rule_id FROM post_restrictions r"
    " JOIN decisions d ON d.id = r.decision_id WHERE r.post_id IN LIST(:ids)"
)
# Neutral-SQL sub-selects of the posts a feed leaves out (see `social.feeds`): restrictions in
# force at `:now` (one past its end no longer hides the post, even before the expiry loop runs).
_IN_FORCE = "AND (ends_at IS NULL OR ends_at > :now)"
REMOVED_POSTS_SQL = (
    f"SELECT post_id FROM post_restrictions WHERE action IN ({_quoted(HIDDEN_EVERYWHERE)})"
    f" {_IN_FORCE}"
)
UNDISCOVERABLE_POSTS_SQL = (
    f"SELECT post_id FROM post_restrictions WHERE action IN ({_quoted(HIDDEN_FROM_DISCOVERY)})"
    f" {_IN_FORCE}"
)


def post_restrictions(db: Reader, post_ids: Iterable[int]) -> dict[int, Restriction]:
    """Restrictions in force on these posts (expired ones are ignored even before cleanup)."""
    ids = list(post_ids)
    if not ids:
        return {}
    now = utcnow()
    found: dict[int, Restriction] = {}
    for post_id, action, decision_id, ends_at, rule_id in _RESTRICTIONS_OF_POSTS.rows(
        db, {"ids": ids}
    ):
        if ends_at is None or utc(ends_at) > now:
            found[post_id] = Restriction(action, decision_id, rule_id)
    return found


def _in_force() -> ColumnElement[bool]:
    return or_(PostRestriction.ends_at.is_(None), PostRestriction.ends_at > utcnow())


# Accounts a decision suspended or terminated: their posts leave every feed, thread and search
# and answer 404 by link while it lasts. (A suspension's row goes when the expiry loop records
# its end, at most a minute after it: `decisions.expire_due`.)
WITHDRAWN = (Action.SUSPEND.value, Action.TERMINATE.value)
WITHDRAWN_ACTIONS_SQL = "(" + ", ".join(f"'{action}'" for action in WITHDRAWN) + ")"
WITHDRAWN_AUTHORS_SQL = (
    f"SELECT user_id FROM account_restrictions WHERE action IN {WITHDRAWN_ACTIONS_SQL}"
)


def withdrawn_account_ids() -> Select[int]:
    """Sub-select of accounts suspended or terminated by a decision, for feed and search
    queries."""
    return select(AccountRestriction.user_id).where(AccountRestriction.action.in_(WITHDRAWN))


def withdrawal_reason(row: AccountRestriction) -> str:
    """Why an account's posts are out of view, naming the decision (and a suspension's end)."""
    decision = f"by a moderation decision (decision {row.decision_id})"
    if row.action == Action.SUSPEND.value:
        until = f" until {row.ends_at:%Y-%m-%d %H:%M} UTC" if row.ends_at else ""
        return f"This account is suspended{until} {decision}."
    return f"This account was terminated {decision}."


def removed_post_ids() -> Select[int]:
    """Sub-select of posts removed by a decision in force, for feed and search queries."""
    return select(PostRestriction.post_id).where(
        PostRestriction.action.in_(HIDDEN_EVERYWHERE), _in_force()
    )


def undiscoverable_post_ids() -> Select[int]:
    """Sub-select of posts kept out of public feeds, tags and search (removed or demoted)."""
    return select(PostRestriction.post_id).where(
        PostRestriction.action.in_(HIDDEN_FROM_DISCOVERY), _in_force()
    )


_Effect = TypeVar("_Effect", PostRestriction, AccountRestriction)
_EFFECT_EXISTS = {
    PostRestriction: HotSQL("SELECT 1 FROM post_restrictions WHERE post_id = :key"),
    AccountRestriction: HotSQL("SELECT 1 FROM account_restrictions WHERE user_id = :key"),
}


def effect_row(session: Session, model: type[_Effect], key: int) -> _Effect | None:
    """The subject's effect row, if it has one: `session.get` without its ORM query when the
    subject has none (the usual case: a new post's first decision, a member posting).
    `decisions` writes effect rows at once, so the database knows every one the session does
    not hold."""
    if session.identity_map.get(identity_key(model, key)) is None and not _EFFECT_EXISTS[
        model
    ].rows(session, {"key": key}):
        return None
    return session.get(model, key)


def account_restriction(session: Session, user_id: int) -> AccountRestriction | None:
    """The account restriction in force, if any."""
    row = effect_row(session, AccountRestriction, user_id)
    if row is None or (row.ends_at is not None and row.ends_at <= utcnow()):
        return None
    return row


def check_may_post(
    session: Session, user_id: int, *, links: list[str], media: bool, reply: bool
) -> None:
    """Refuse a post the author's account restrictions forbid, naming the decision and its end."""
    row = account_restriction(session, user_id)
    if row is None:
        return
    until = f" until {row.ends_at:%Y-%m-%d %H:%M} UTC" if row.ends_at else ""
    reason = f"(decision {row.decision_id}; you can appeal it)"
    if row.action in (Action.SUSPEND.value, Action.TERMINATE.value):
        state = "suspended" if row.action == Action.SUSPEND.value else "terminated"
        raise PermissionDenied(f"Your account is {state}{until} {reason}.")
    features = set(row.features.split(","))
    if "posting" in features:
        raise PermissionDenied(f"Posting is restricted on your account{until} {reason}.")
    if "links" in features and links:
        raise PermissionDenied(f"Posting links is restricted on your account{until} {reason}.")
    if "media" in features and media:
        raise PermissionDenied(f"Attachments are restricted on your account{until} {reason}.")
    if "replies" in features and reply:
        raise PermissionDenied(f"Replying is restricted on your account{until} {reason}.")


DEFAULT_PORTS = {"http": 80, "https": 443}


def link_keys(url: str) -> list[str]:
    """The block-list keys a link matches: its normalised URL and its host and parent domains."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    path = parts.path or "/"
    # Tracking parameters do not change what a link points at; the fragment never reaches servers.
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and not pair.lower().startswith(TRACKING_PARAMS)
    )
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    keys = [f"url:{scheme}://{netloc}{path}" + (f"?{query}" if query else "")]
    labels = host.split(".")
    keys += [f"domain:{'.'.join(labels[i:])}" for i in range(len(labels) - 1)]
    return keys


_BLOCKED_LINKS = HotSQL(
    "SELECT b.key, b.ends_at, d.id, d.rule_id FROM blocked_links b"
    " JOIN decisions d ON d.id = b.decision_id WHERE b.key IN LIST(:keys)"
)


def blocked_links(db: Reader, urls: Iterable[str]) -> dict[str, tuple[str, int]]:
    """Which of these links are blocked: url -> (rule id, decision id)."""
    urls = list(urls)
    if not urls:
        return {}
    keys = {key: url for url in urls for key in link_keys(url)}
    now = utcnow()
    found: dict[str, tuple[str, int]] = {}
    for key, ends_at, decision_id, rule_id in _BLOCKED_LINKS.rows(db, {"keys": list(keys)}):
        if ends_at is None or utc(ends_at) > now:
            found[keys[key]] = (rule_id, decision_id)
    return found


def disable_links(html: str, blocked: dict[str, tuple[str, int]]) -> str:
    """Replace each blocked link in sanitised post HTML by plain text that says why."""
    for url, (rule_id, decision_id) in blocked.items():
        pattern = re.compile(r'<a href="' + re.escape(escape(url)) + r'"[^>]*>(.*?)</a>', re.S)
        before = (
            f'<span class="link-disabled" title="Link disabled under the rule '
            f"'{rule_id}' (decision {decision_id})\">"
        )
        after = f" [link disabled: {rule_id}]</span>"
        html = pattern.sub(partial(_disabled, before, after), html)
    return html


def _disabled(before: str, after: str, match: re.Match[str]) -> str:
    return before + match.group(1) + after


def normalise_url(url: str) -> str:
    """The form under which a URL is blocked and matched (lower-case scheme and host)."""
    return link_keys(url)[0].removeprefix("url:")


def check_links_allowed(session: Session, links: list[str]) -> None:
    """Refuse a post containing a link whose sharing is blocked by a decision."""
    if not links:
        return
    keys = {key: url for url in links for key in link_keys(url)}
    now = utcnow()
    rows = session.execute(
        select(
            BlockedLink.key,
            BlockedLink.ends_at,
            Decision.id,
            Decision.rule_id,
            Decision.rulebook_version,
        )
        .join(Decision, Decision.id == BlockedLink.decision_id)
        .where(BlockedLink.key.in_(list(keys)))
    ).all()
    for key, ends_at, decision_id, rule_id, version in rows:
        if ends_at is None or ends_at > now:
            raise PermissionDenied(
                f"The link {keys[key]} cannot be shared here: its sharing is blocked under the "
                f"rule '{rule_id}' (decision {decision_id}){_rule_text(session, rule_id, version)}"
                " The rest of your text is unchanged; remove the link to post it."
            )


def _rule_text(session: Session, rule_id: str, version: int) -> str:
    """': "<the rule's public text>".' as the cited rulebook version words it, or '.'."""
    # Imported here: the rulebook's modules import the detectors, which use this module.
    from parvis.moderation import publication

    try:
        rule = publication.parsed(publication.get_version(session, version)).rule(rule_id)
    except (KeyError, NotFound):
        return "."
    return f': "{rule.text.strip()}".'

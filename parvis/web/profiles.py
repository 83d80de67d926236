"""Profile pages, follower lists, and follow / mute / block buttons."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from parvis.accounts import services as accounts
from parvis.accounts.models import User
from parvis.errors import NotFound
from parvis.moderation.enforcement import WITHDRAWN, account_restriction, withdrawal_reason
from parvis.runtime import Runtime, get_runtime
from parvis.social import feeds, graph
from parvis.social.views import build_views
from parvis.web.common import back, next_url, page_query
from parvis.web.session import Page, load_page
from parvis.web.templating import render

router = APIRouter()
TABS = ("posts", "replies", "articles")


@router.get("/@{username}")
def profile(
    request: Request,
    username: str,
    tab: str = "posts",
    max_id: int | None = None,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """A member's profile and posts (nothing of theirs across a block)."""
    tab = tab if tab in TABS else "posts"
    with runtime.db.session() as session:
        user = accounts.get_user_by_username(session, username)
        relationship = graph.relationship(session, page.user.id, user.id) if page.user else None
        hidden_reason = None
        restriction = account_restriction(session, user.id)
        if restriction is not None and restriction.action in WITHDRAWN:
            hidden_reason = withdrawal_reason(restriction)
        elif relationship and relationship.blocking:
            hidden_reason = f"You blocked @{user.username}. Unblock to see their posts."
        elif relationship and relationship.blocked_by:
            hidden_reason = f"@{user.username} blocked you: you cannot see their posts."
        posts = []
        if hidden_reason is None:
            posts = feeds.profile(
                session,
                page.viewer,
                user.id,
                page_query(max_id),
                include_replies=tab == "replies",
                only_articles=tab == "articles",
            )
        base = f"/@{user.username}" + (f"?tab={tab}" if tab != "posts" else "")
        return render(
            request,
            "profile.html",
            {
                "profile": user,
                "relationship": relationship,
                "hidden_reason": hidden_reason,
                "restriction": restriction,
                "tab": tab,
                "views": build_views(session, page.viewer, posts),
                "next_url": next_url(base, posts),
            },
        )


ACCOUNTS_PAGE = 100


@router.get("/@{username}/{which}")
def account_list(
    request: Request,
    username: str,
    which: str,
    max_id: int | None = None,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Followers or followed accounts of a member, a page of `ACCOUNTS_PAGE` at a time."""
    if which not in ("followers", "following"):
        raise NotFound("Not found.")
    with runtime.db.session() as session:
        user = accounts.get_user_by_username(session, username)
        blocked = not page.viewer.can_see_account(user.id)
        listed = (
            []
            if blocked
            else graph.list_accounts(session, user.id, which, max_id=max_id, limit=ACCOUNTS_PAGE)
        )
        users = [u for u in listed if page.viewer.can_see_account(u.id)]
        more = (
            f"/@{user.username}/{which}?max_id={listed[-1].id}"
            if len(listed) == ACCOUNTS_PAGE
            else None
        )
        heading = (
            f"Followers of @{user.username}"
            if which == "followers"
            else (f"Accounts @{user.username} follows")
        )
        notice = "A block stands between you and this account." if blocked else None
        return render(
            request,
            "accounts.html",
            {"heading": heading, "users": users, "notice": notice, "next_url": more},
        )


ACTIONS = {
    "follow": graph.follow,
    "unfollow": graph.unfollow,
    "mute": graph.mute,
    "unmute": graph.unmute,
    "block": graph.block,
    "unblock": graph.unblock,
}


@router.post("/@{username}/{action}")
def relationship_action(
    request: Request,
    username: str,
    action: str,
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Follow, unfollow, mute, unmute, block or unblock an account."""
    if action not in ACTIONS:
        raise NotFound("Unknown action.")
    page.check_csrf(csrf_token)
    user = page.require_user()
    with runtime.db.session() as session:
        target = accounts.get_user_by_username(session, username)
        ACTIONS[action](session, session.get_one(User, user.id), target)
    return back(request, f"/@{username}")

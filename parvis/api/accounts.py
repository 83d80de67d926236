"""Accounts: credentials, profiles, a member's statuses and lists, follow/block/mute."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from parvis.accounts import services as accounts
from parvis.accounts.models import User
from parvis.api import entities
from parvis.api.auth import Caller, caller, optional_caller
from parvis.api.pagination import link_header, page_params
from parvis.api.params import read_params
from parvis.api.responses import status_page
from parvis.errors import NotFound
from parvis.runtime import Runtime, get_runtime
from parvis.social import feeds, graph, search
from parvis.social.feeds import PageQuery
from parvis.social.visibility import ANONYMOUS, load_viewer

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])


def _int_id(value: str) -> int:
    if not value.isdigit():
        raise NotFound("Record not found")
    return int(value)


def _credential_account(user: User, runtime: Runtime) -> dict[str, Any]:
    entity = entities.account(user, runtime.settings)
    entity["source"] = {
        "note": user.bio,
        "fields": [],
        "privacy": "public",
        "sensitive": False,
        "language": None,
        "follow_requests_count": 0,
    }
    return entity


@router.get("/verify_credentials")
def verify_credentials(
    who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> dict[str, Any]:
    """The signed-in member's own account, with its source fields."""
    user = who.member("read:accounts")
    with runtime.db.session() as session:
        return _credential_account(session.get_one(User, user.id), runtime)


@router.patch("/update_credentials")
async def update_credentials(
    request: Request, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> dict[str, Any]:
    """Change display name and bio."""
    user = who.member("write:accounts")
    params = await read_params(request)

    def work() -> dict[str, Any]:
        with runtime.db.session() as session:
            me = session.get_one(User, user.id)
            accounts.update_profile(
                me,
                display_name=params.get("display_name") if params.has("display_name") else None,
                bio=params.get("note") if params.has("note") else None,
            )
            return _credential_account(me, runtime)

    return await run_in_threadpool(work)


@router.get("/relationships")
def relationships(
    request: Request, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> list[dict[str, Any]]:
    """How the member relates to each listed account."""
    user = who.member("read:follows")
    ids = request.query_params.getlist("id[]") + request.query_params.getlist("id")
    with runtime.db.session() as session:
        return [
            entities.relationship(graph.relationship(session, user.id, _int_id(i)))
            for i in ids
            if i.isdigit() and session.get(User, int(i)) is not None
        ]


@router.get("/lookup")
def lookup(
    acct: str = Query(..., description="username or username@domain"),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """Find an account by its handle."""
    username = acct.lstrip("@").split("@")[0]
    with runtime.db.session() as session:
        user = accounts.get_user_by_username(session, username)
        if who and who.user and not load_viewer(session, who.user.id).can_see_account(user.id):
            raise NotFound("Record not found")
        return entities.account(user, runtime.settings)


@router.get("/search")
def search_accounts(
    q: str = "",
    limit: int = Query(40, ge=1, le=80),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> list[dict[str, Any]]:
    """Accounts matching a name."""
    user = who.member("read:accounts")
    with runtime.db.session() as session:
        viewer = load_viewer(session, user.id)
        return [
            entities.account(u, runtime.settings)
            for u in search.search_accounts(session, viewer, q, limit=limit)
        ]


@router.get("/{account_id}")
def get_account(
    account_id: str,
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """One account."""
    with runtime.db.session() as session:
        user = session.get(User, _int_id(account_id))
        if user is None:
            raise NotFound("Record not found")
        return entities.account(user, runtime.settings)


@router.get("/{account_id}/statuses")
def account_statuses(
    request: Request,
    account_id: str,
    exclude_replies: bool = False,
    exclude_reblogs: bool = False,
    page: PageQuery = Depends(page_params),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """A member's statuses, newest first (empty across a block)."""
    with runtime.db.session() as session:
        user = session.get(User, _int_id(account_id))
        if user is None:
            raise NotFound("Record not found")
        viewer = load_viewer(session, who.user.id) if who and who.user else ANONYMOUS
        rows = feeds.profile(
            session,
            viewer,
            user.id,
            page,
            include_replies=not exclude_replies,
            include_reblogs=not exclude_reblogs,
        )
        return status_page(request, session, viewer, rows, runtime.settings)


@router.get("/{account_id}/{which}")
def account_lists(
    request: Request,
    account_id: str,
    which: str,
    limit: int = Query(40, ge=1, le=80),
    max_id: str | None = None,
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Followers or following of an account."""
    if which not in ("followers", "following"):
        raise NotFound("Record not found")
    with runtime.db.session() as session:
        user = session.get(User, _int_id(account_id))
        if user is None:
            raise NotFound("Record not found")
        viewer = load_viewer(session, who.user.id) if who and who.user else ANONYMOUS
        before = int(max_id) if max_id and max_id.isdigit() else None
        users = graph.list_accounts(session, user.id, which, max_id=before, limit=limit)
        body = [
            entities.account(u, runtime.settings) for u in users if viewer.can_see_account(u.id)
        ]
    response = JSONResponse(body)
    link_header(request, response, users)
    return response


ACTIONS = {
    "follow": (graph.follow, "write:follows"),
    "unfollow": (graph.unfollow, "write:follows"),
    "block": (graph.block, "write:blocks"),
    "unblock": (graph.unblock, "write:blocks"),
    "mute": (graph.mute, "write:mutes"),
    "unmute": (graph.unmute, "write:mutes"),
}


@router.post("/{account_id}/{action}")
def relationship_action(
    account_id: str,
    action: str,
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """Follow, unfollow, block, unblock, mute or unmute; returns the new Relationship."""
    if action not in ACTIONS:
        raise NotFound("Record not found")
    function, scope = ACTIONS[action]
    user = who.member(scope)
    with runtime.db.session() as session:
        target = session.get(User, _int_id(account_id))
        if target is None:
            raise NotFound("Record not found")
        function(session, session.get_one(User, user.id), target)
        session.flush()
        return entities.relationship(graph.relationship(session, user.id, target.id))


blocks_router = APIRouter(prefix="/api/v1", tags=["accounts"])


@blocks_router.get("/blocks")
def blocks(
    who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> list[dict[str, Any]]:
    """Accounts the member blocks."""
    user = who.member("read:blocks")
    with runtime.db.session() as session:
        return [
            entities.account(u, runtime.settings)
            for u in graph.list_accounts(session, user.id, "blocks", limit=80)
        ]


@blocks_router.get("/mutes")
def mutes(
    who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> list[dict[str, Any]]:
    """Accounts the member mutes."""
    user = who.member("read:mutes")
    with runtime.db.session() as session:
        return [
            entities.account(u, runtime.settings)
            for u in graph.list_accounts(session, user.id, "mutes", limit=80)
        ]

"""Accounts: sign-up, credentials, profiles, a member's statuses and lists, follow/block/mute."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from parvis.accounts import services as accounts
from parvis.accounts.models import User
from parvis.api import entities
from parvis.api.auth import Caller, caller, optional_caller, require_if_token, viewer_for
from parvis.api.ids import parse_id
from parvis.api.models import OAuthApp
from parvis.api.oauth import issue_token
from parvis.api.pagination import PAGE_OPENAPI, link_header, max_id_param, page_params
from parvis.api.params import Params, read_params
from parvis.api.pins import pinned_page
from parvis.api.responses import status_page
from parvis.config import Settings
from parvis.errors import InvalidInput, NotFound, PermissionDenied
from parvis.moderation.enforcement import WITHDRAWN, account_restriction
from parvis.runtime import Runtime, get_runtime
from parvis.social import feeds, graph, search
from parvis.social.feeds import PageQuery
from parvis.social.visibility import load_viewer

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])


def _shown_account(session: Session, user: User, settings: Settings) -> entities.Account:
    """The Account entity of one account asked for by id or handle, marked `suspended` while a
    decision suspends or terminates it (its statuses are then out of view)."""
    entity = entities.account(user, settings)
    standing = account_restriction(session, user.id)
    if standing is not None and standing.action in WITHDRAWN:
        return entities.marked_suspended(entity)
    return entity


def _account(session: Session, account_id: str) -> User:
    number = parse_id(account_id)
    user = session.get(User, number) if number is not None else None
    if user is None:
        raise NotFound("Record not found")
    return user


@router.post("")
def register(
    params: Params = Depends(read_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.Token:
    """Sign up through an app (its client-credentials token); returns the new member's token.

    The member must confirm their e-mail address (a link is sent) before posting.
    """
    who.require("write:accounts")
    if who.app_id is None:
        raise PermissionDenied("Sign-up needs an app token (client_credentials grant).")
    if not params.boolean("agreement"):
        raise InvalidInput("agreement must be true: accept the server rules.", "agreement")
    with runtime.db.session() as session:
        user = accounts.sign_up(
            session,
            runtime.services,
            params.get("username"),
            params.get("email"),
            params.get("password"),
        )
        app = session.get_one(OAuthApp, who.app_id)
        return issue_token(session, app, user.id, app.scopes)


@router.get("/verify_credentials")
def verify_credentials(
    who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> entities.CredentialAccount:
    """The signed-in member's own account, with its source fields."""
    user = who.member("read:accounts")
    with runtime.db.session() as session:
        return entities.credential_account(session.get_one(User, user.id), runtime.settings)


@router.patch("/update_credentials")
def update_credentials(
    params: Params = Depends(read_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.CredentialAccount:
    """Change display name and bio (`note`, plain text)."""
    user = who.member("write:accounts")
    with runtime.db.session() as session:
        me = session.get_one(User, user.id)
        accounts.update_profile(
            me,
            display_name=params.get("display_name") if params.has("display_name") else None,
            bio=params.get("note") if params.has("note") else None,
        )
        return entities.credential_account(me, runtime.settings)


@router.get("/relationships")
def relationships(
    request: Request, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> list[entities.Relationship]:
    """How the member relates to each listed account (unknown ids are left out)."""
    user = who.member("read:follows")
    raw = request.query_params.getlist("id[]") + request.query_params.getlist("id")
    ids = [n for n in dict.fromkeys(map(parse_id, raw)) if n is not None]
    with runtime.db.session() as session:
        return [
            entities.relationship(graph.relationship(session, user.id, i))
            for i in ids
            if session.get(User, i) is not None
        ]


@router.get("/lookup")
def lookup(
    acct: str = Query(..., description="username or username@domain"),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.Account:
    """Find an account by its handle (404 across a block)."""
    require_if_token(who, "read:accounts")
    username = acct.strip().lstrip("@").split("@")[0]
    with runtime.db.session() as session:
        user = accounts.get_user_by_username(session, username)
        if not viewer_for(session, who).can_see_account(user.id):
            raise NotFound("Record not found")
        return _shown_account(session, user, runtime.settings)


@router.get("/search")
def search_accounts(
    q: str = Query("", max_length=200),
    limit: int = Query(40, ge=1, le=80),
    offset: int = Query(0, ge=0, le=10_000),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> list[entities.Account]:
    """Accounts whose username or display name matches (blocked ones left out)."""
    user = who.member("read:accounts")
    with runtime.db.session() as session:
        viewer = load_viewer(session, user.id)
        found = search.search_accounts(session, viewer, q, limit=limit, offset=offset)
        return [entities.account(u, runtime.settings) for u in found]


@router.get("/{account_id}")
def get_account(
    account_id: str,
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.Account:
    """One account (shown across a block too, as Mastodon does; its statuses are not)."""
    require_if_token(who, "read:accounts")
    with runtime.db.session() as session:
        return _shown_account(session, _account(session, account_id), runtime.settings)


@router.get("/{account_id}/statuses", openapi_extra=PAGE_OPENAPI)
def account_statuses(
    request: Request,
    account_id: str,
    exclude_replies: bool = False,
    exclude_reblogs: bool = False,
    only_media: bool = False,
    pinned: bool = False,
    page: PageQuery = Depends(page_params),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """A member's statuses, newest first (empty across a block); `pinned=true` gives the
    statuses they pinned, most recently pinned first."""
    require_if_token(who, "read:statuses")
    with runtime.db.session() as session:
        user = _account(session, account_id)
        viewer = viewer_for(session, who)
        if pinned:
            return pinned_page(session, viewer, user.id, page, runtime.settings)
        rows = feeds.profile(
            session,
            viewer,
            user.id,
            page,
            include_replies=not exclude_replies,
            include_reblogs=not exclude_reblogs,
            only_media=only_media,
        )
        return status_page(request, session, viewer, rows, runtime.settings, page.limit)


def _account_page(request: Request, body: list[entities.Account], users: list[User]) -> Response:
    response = JSONResponse(body)
    link_header(request, response, users)
    return response


@router.get("/{account_id}/followers")
def followers(
    request: Request,
    account_id: str,
    limit: int = Query(40, ge=1, le=80),
    max_id: int | None = Depends(max_id_param),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Accounts following this one, paged by account id."""
    return _follow_list(request, account_id, "followers", max_id, limit, who, runtime)


@router.get("/{account_id}/following")
def following(
    request: Request,
    account_id: str,
    limit: int = Query(40, ge=1, le=80),
    max_id: int | None = Depends(max_id_param),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Accounts this one follows, paged by account id."""
    return _follow_list(request, account_id, "following", max_id, limit, who, runtime)


def _follow_list(
    request: Request,
    account_id: str,
    which: str,
    max_id: int | None,
    limit: int,
    who: Caller | None,
    runtime: Runtime,
) -> Response:
    require_if_token(who, "read:accounts")
    with runtime.db.session() as session:
        user = _account(session, account_id)
        viewer = viewer_for(session, who)
        users = graph.list_accounts(session, user.id, which, max_id=max_id, limit=limit)
        body = [
            entities.account(u, runtime.settings) for u in users if viewer.can_see_account(u.id)
        ]
    return _account_page(request, body, users)


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
) -> entities.Relationship:
    """Follow, unfollow, block, unblock, mute or unmute; returns the new Relationship."""
    if action not in ACTIONS:
        raise NotFound("Record not found")
    function, scope = ACTIONS[action]
    user = who.member(scope)
    with runtime.db.session() as session:
        target = _account(session, account_id)
        function(session, session.get_one(User, user.id), target)
        session.flush()
        return entities.relationship(graph.relationship(session, user.id, target.id))


lists_router = APIRouter(prefix="/api/v1", tags=["accounts"])


def _own_list(
    request: Request,
    which: str,
    scope: str,
    who: Caller,
    runtime: Runtime,
    limit: int,
    max_id: int | None,
) -> Response:
    user = who.member(scope)
    with runtime.db.session() as session:
        users = graph.list_accounts(session, user.id, which, max_id=max_id, limit=limit)
        body = [entities.account(u, runtime.settings) for u in users]
    return _account_page(request, body, users)


@lists_router.get("/blocks")
def blocks(
    request: Request,
    limit: int = Query(40, ge=1, le=80),
    max_id: int | None = Depends(max_id_param),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Accounts the member blocks, paged by account id."""
    return _own_list(request, "blocks", "read:blocks", who, runtime, limit, max_id)


@lists_router.get("/mutes")
def mutes(
    request: Request,
    limit: int = Query(40, ge=1, le=80),
    max_id: int | None = Depends(max_id_param),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Accounts the member mutes, paged by account id."""
    return _own_list(request, "mutes", "read:mutes", who, runtime, limit, max_id)


@lists_router.get("/preferences")
def preferences(who: Caller = Depends(caller)) -> JSONResponse:
    """The member's posting and reading preferences, as Mastodon apps read them at start-up.
    Everything posted on Parvis is public and there is no per-member default language or
    content warning, so these are the same for everyone."""
    who.member_id("read:accounts")
    return JSONResponse(
        {
            "posting:default:visibility": "public",
            "posting:default:sensitive": False,
            "posting:default:language": None,
            "reading:expand:media": "default",
            "reading:expand:spoilers": False,
        }
    )

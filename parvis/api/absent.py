"""Mastodon endpoints for features Parvis does not have, answered truthfully.

Mastodon apps fetch custom emoji, announcements, lists, direct conversations, follow requests,
followed hashtags, domain blocks, trends, suggestions, scheduled statuses, featured hashtags
and endorsements when they start or open a tab, and several show an error screen when one
answers 404. Parvis has none of these: no custom emoji, no announcements, no lists, no direct
messages (everything said here is public), no locked accounts, no hashtag following, no other
servers whose domains a member could block, nothing ranked or suggested (feeds are
chronological and nothing is injected), no scheduling and no profile showcases. The true
answer to "which are there?" is then the empty list. Creating a list or a domain block is refused
with a message that says so, instead of a 404 that reads like a typo in the path.

Web Push would have the server post to each app vendor's push service; Parvis delivers
notifications over its streaming API instead. Its push-subscription endpoints answer as
Mastodon does for a member with no subscription (404 to read it, an empty object to delete it),
and refuse to create one with a message that names the alternatives.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from parvis.api.auth import Caller, caller
from parvis.errors import InvalidInput, NotFound

router = APIRouter(prefix="/api/v1", tags=["features Parvis does not have"])

# path -> (scope a token needs to read it; None: public, as on Mastodon)
_EMPTY: dict[str, str | None] = {
    "/custom_emojis": None,
    "/announcements": "read",
    "/lists": "read:lists",
    "/conversations": "read:statuses",
    "/follow_requests": "read:follows",
    "/followed_tags": "read:follows",
    "/domain_blocks": "read:blocks",
    "/trends": None,
    "/trends/tags": None,
    "/trends/statuses": None,
    "/trends/links": None,
    "/suggestions": "read",
    "/scheduled_statuses": "read:statuses",
    "/featured_tags": "read:accounts",
    "/endorsements": "read:accounts",
}
_WHY: dict[str, str] = {
    "/lists": "Parvis has no lists: follow accounts and read your home timeline.",
    "/domain_blocks": "Parvis is a single server: there are no other domains to block; block "
    "accounts instead.",
}


def _empty_route(path: str, scope: str | None) -> None:
    if scope is None:

        @router.get(path, summary=f"GET {path}: always empty on Parvis")
        def public_empty() -> JSONResponse:
            return JSONResponse([])

        return

    @router.get(path, summary=f"GET {path}: always empty on Parvis")
    def own_empty(who: Caller = Depends(caller)) -> JSONResponse:
        who.member_id(scope)
        return JSONResponse([])


for _path, _scope in _EMPTY.items():
    _empty_route(_path, _scope)


def _refusing_route(path: str, message: str) -> None:
    @router.post(path, summary=f"POST {path}: refused, Parvis has no such feature")
    def refuse(who: Caller = Depends(caller)) -> JSONResponse:
        who.member_id("write")
        raise InvalidInput(message)


for _path, _message in _WHY.items():
    _refusing_route(_path, _message)


PUSH = "/push/subscription"
NO_PUSH = (
    "Parvis does not send Web Push notifications: open the streaming API "
    "(/api/v1/streaming, stream user:notification) or poll /api/v1/notifications."
)


@router.get(PUSH, summary=f"GET {PUSH}: Parvis has no Web Push subscription")
def push_subscription(who: Caller = Depends(caller)) -> JSONResponse:
    """There is never a subscription to show (Mastodon answers 404 when there is none)."""
    who.member_id("push")
    raise NotFound(NO_PUSH)


@router.post(PUSH, summary=f"POST {PUSH}: refused, Parvis has no Web Push")
@router.put(PUSH, summary=f"PUT {PUSH}: refused, Parvis has no Web Push")
def refuse_push(who: Caller = Depends(caller)) -> JSONResponse:
    """Creating or changing a subscription is refused with the alternatives."""
    who.member_id("push")
    raise InvalidInput(NO_PUSH)


@router.delete(PUSH, summary=f"DELETE {PUSH}: nothing to delete")
def delete_push(who: Caller = Depends(caller)) -> JSONResponse:
    """Deleting succeeds with Mastodon's empty object: afterwards there is no subscription."""
    who.member_id("push")
    return JSONResponse({})

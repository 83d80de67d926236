"""Bearer-token authentication and OAuth scope checks for the JSON API."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.accounts.tokens import hash_token
from parvis.api.models import OAuthToken
from parvis.errors import PermissionDenied, Unauthenticated
from parvis.runtime import Runtime, get_runtime
from parvis.social.visibility import ANONYMOUS, Viewer, load_viewer

SCOPES = ("read", "write", "follow", "push", "admin:read", "admin:write")


@dataclass
class Caller:
    """Who is calling the API: a member (or an app alone) with the token's scopes."""

    user: User | None
    scopes: frozenset[str]
    app_id: int | None

    def allows(self, scope: str) -> bool:
        """True when a granted scope covers `scope` (`read` covers `read:statuses`)."""
        if scope in self.scopes:
            return True
        top = scope.split(":", 1)[0]
        if top == "admin":
            parts = scope.split(":")
            return ":".join(parts[:2]) in self.scopes
        follow_scopes = (
            "read:follows",
            "write:follows",
            "read:blocks",
            "write:blocks",
            "read:mutes",
            "write:mutes",
        )
        if (top == "follow" or scope.startswith(follow_scopes)) and "follow" in self.scopes:
            return True
        return top in self.scopes

    def member(self, scope: str) -> User:
        """The calling member, after checking the token may do `scope`."""
        self.require(scope)
        if self.user is None:
            raise PermissionDenied("This endpoint needs a token that acts for a member.")
        return self.user

    def staff(self, scope: str) -> User:
        """The calling moderator or admin, after checking the token's admin scope and the role:
        both are needed (a member's token with admin scopes is still refused)."""
        user = self.member(scope)
        if not user.is_moderator:
            raise PermissionDenied("This action is not allowed: it needs a moderator or admin.")
        return user

    def require(self, scope: str) -> None:
        """Refuse with 403 when the token lacks `scope`."""
        if not self.allows(scope):
            raise PermissionDenied(f"This action needs the '{scope}' scope.")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


# Built once: every API request with a token runs it. The member comes in the same query.
_TOKEN_AND_USER = (
    select(OAuthToken, User)
    .outerjoin(User, User.id == OAuthToken.user_id)
    .where(OAuthToken.token_hash == bindparam("hash"))
)


async def optional_caller(
    request: Request, runtime: Runtime = Depends(get_runtime)
) -> Caller | None:
    """The caller when a valid token was sent; None when no token was sent at all.

    Runs on the event loop: one indexed lookup is cheaper than a hop to a worker thread.
    """
    raw = _bearer(request)
    if raw is None:
        return None
    with runtime.db.session() as session:
        found = session.execute(_TOKEN_AND_USER, {"hash": hash_token(raw)}).first()
        if found is None or found.OAuthToken.revoked_at is not None:
            raise Unauthenticated("The access token is invalid or was revoked.")
        token, user = found.OAuthToken, found.User
        return Caller(user=user, scopes=frozenset(token.scopes.split()), app_id=token.app_id)


async def caller(found: Caller | None = Depends(optional_caller)) -> Caller:
    """The caller; 401 without a token."""
    if found is None:
        raise Unauthenticated("This method requires an authenticated user (send a Bearer token).")
    return found


def viewer_for(session: Session, who: Caller | None) -> Viewer:
    """The visibility context (blocks, mutes, muted words) of the caller, or the public's."""
    return (
        load_viewer(session, who.user.id) if who is not None and who.user is not None else ANONYMOUS
    )

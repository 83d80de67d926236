"""Bearer-token authentication and OAuth scope checks for the JSON API."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from parvis.accounts.models import Role, User
from parvis.accounts.tokens import hash_token
from parvis.errors import PermissionDenied, Unauthenticated
from parvis.runtime import Runtime
from parvis.social.visibility import ANONYMOUS, Viewer, load_viewer
from parvis.storage.hot import HotSQL, Reader

SCOPES = ("read", "write", "follow", "push", "admin:read", "admin:write")


class Caller:
    """Who is calling the API: a member (or an app alone) with the token's scopes.

    The member's full record is loaded only when a handler asks for it (`user`, `member`,
    `staff`): the hottest endpoints need only the id and role, which come with the token.
    """

    def __init__(
        self,
        user: User | None,
        scopes: frozenset[str],
        app_id: int | None,
        *,
        user_id: int | None = None,
        role: str | None = None,
        load_user: Callable[[int], User | None] | None = None,
    ) -> None:
        self._user = user
        self.user_id = user.id if user is not None else user_id
        self.role = user.role if user is not None else role
        self.scopes = scopes
        self.app_id = app_id
        self._load_user = load_user

    @property
    def user(self) -> User | None:
        """The calling member's record (None for an app acting alone)."""
        if self._user is None and self.user_id is not None and self._load_user is not None:
            self._user = self._load_user(self.user_id)
        return self._user

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
        self.member_id(scope)
        user = self.user
        if user is None:
            raise PermissionDenied("This endpoint needs a token that acts for a member.")
        return user

    def member_id(self, scope: str) -> int:
        """The calling member's id, after checking the token may do `scope` (no loading)."""
        self.require(scope)
        if self.user_id is None:
            raise PermissionDenied("This endpoint needs a token that acts for a member.")
        return self.user_id

    def staff(self, scope: str) -> User:
        """The calling moderator or admin, after checking the token's admin scope and the role:
        both are needed (a member's token with admin scopes is still refused)."""
        self.member_id(scope)
        if self.role not in (Role.MODERATOR.value, Role.ADMIN.value):
            raise PermissionDenied("This action is not allowed: it needs a moderator or admin.")
        return self.member(scope)

    def require(self, scope: str) -> None:
        """Refuse with 403 when the token lacks `scope`."""
        if not self.allows(scope):
            raise PermissionDenied(f"This action needs the '{scope}' scope.")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


# Hand-written (see `storage.hot`): every API request with a token runs it. The member's role
# comes in the same query; the rest of the member only when a handler asks.
_TOKEN = HotSQL(
    "SELECT t.user_id, t.app_id, t.scopes, t.revoked_at, u.role FROM oauth_tokens t"
    " LEFT JOIN users u ON u.id = t.user_id WHERE t.token_hash = :hash"
)


async def optional_caller(request: Request) -> Caller | None:
    """The caller when a valid token was sent; None when no token was sent at all.

    Runs on the event loop: one indexed lookup is cheaper than a hop to a worker thread. Takes
    the runtime from the app rather than as a dependency: every API request resolves this.
    """
    runtime: Runtime = request.app.state.runtime
    raw = _bearer(request)
    if raw is None:
        return None
    with runtime.db.read() as db:
        found = _TOKEN.rows(db, {"hash": hash_token(raw)})
    if not found or found[0][3] is not None:
        raise Unauthenticated("The access token is invalid or was revoked.")
    user_id, app_id, scopes, _revoked, role = found[0]

    def load_user(member_id: int) -> User | None:
        with runtime.db.session(read_only=True) as session:
            return session.get(User, member_id)

    return Caller(
        None,
        frozenset(scopes.split()),
        app_id,
        user_id=user_id,
        role=role,
        load_user=load_user,
    )


async def caller(request: Request) -> Caller:
    """The caller; 401 without a token. (Calls `optional_caller` itself rather than depending
    on it: one dependency less to solve on every signed-in request.)"""
    found = await optional_caller(request)
    if found is None:
        raise Unauthenticated("This method requires an authenticated user (send a Bearer token).")
    return found


def require_if_token(who: Caller | None, scope: str) -> None:
    """Public reads need no token, but a token that is sent must allow the read (Mastodon's
    `authorize_if_got_token!`): a write-only token is refused with 403."""
    if who is not None:
        who.require(scope)


def viewer_for(db: Reader, who: Caller | None) -> Viewer:
    """The visibility context (blocks, mutes, muted words) of the caller, or the public's."""
    return (
        load_viewer(db, who.user_id) if who is not None and who.user_id is not None else ANONYMOUS
    )

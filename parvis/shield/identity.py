"""Who is signed in, cheaply, before any routing: the session cookie or bearer token of a request
resolved to an account, with a short-lived in-process cache.

The shield needs this for per-account limits and for priorities, not for authorisation: the
handlers still check the cookie or token themselves. A cached answer can therefore be a little
stale (a logged-out session keeps its member's priority for up to `TTL_SECONDS`) without
letting anyone do anything. Only SHA-256 hashes of the secrets are looked up and cached, as in
the tables. Unknown secrets are cached too, so repeating a forged cookie costs one dictionary
lookup; an attacker inventing new ones each time runs into a per-address budget of lookups
(`ratelimit.CREDENTIAL_LOOKUPS`), after which their credentials count as anonymous.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.requests import cookie_parser
from starlette.types import Scope

from parvis.accounts.models import Role
from parvis.accounts.tokens import hash_token
from parvis.runtime import Runtime
from parvis.storage.base import utcnow
from parvis.storage.hot import HotSQL, utc
from parvis.web.session import SESSION_COOKIE

TTL_SECONDS = 30.0
CACHE_SIZE = 20_000

# Hand-written (`storage.hot`), run in a read transaction on the event loop: every request
# with unknown credentials runs one of these.
_SESSION = HotSQL(
    "SELECT s.user_id, u.role, s.expires_at FROM web_sessions s"
    " JOIN users u ON u.id = s.user_id WHERE s.token_hash = :hash"
)
_TOKEN = HotSQL(
    "SELECT t.user_id, t.app_id, u.role FROM oauth_tokens t LEFT JOIN users u"
    " ON u.id = t.user_id WHERE t.token_hash = :hash AND t.revoked_at IS NULL"
)


@dataclass(frozen=True, slots=True)
class Identity:
    """The signed-in party of a request, as far as the shield cares."""

    account_key: str | None = None  # "u<id>" for a member, "app<id>" for an app-only token
    is_admin: bool = False
    bearer: bool = False  # a valid API token was sent: never challenged

    @property
    def signed_in(self) -> bool:
        """True for a member's session or token (app-only tokens are not members)."""
        return self.account_key is not None and self.account_key.startswith("u")


ANONYMOUS = Identity()


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a request presents: the hash of its session cookie or of its bearer token."""

    session_hash: str | None
    token_hash: str | None

    @property
    def present(self) -> bool:
        """True when there is anything to look up."""
        return self.session_hash is not None or self.token_hash is not None


def credentials(scope: Scope) -> Credentials:
    """The secrets a request carries (hashed), without touching the database."""
    session_hash = token_hash = None
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            raw = cookie_parser(value.decode("latin-1")).get(SESSION_COOKIE)
            if raw:
                session_hash = hash_token(raw)
        elif name == b"authorization":
            text = value.decode("latin-1")
            if text[:7].lower() == "bearer " and text[7:].strip():
                token_hash = hash_token(text[7:].strip())
    return Credentials(session_hash, token_hash)


class IdentityCache:
    """Resolves credentials to an Identity, remembering answers for a few seconds."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._cache: OrderedDict[str, tuple[float, Identity]] = OrderedDict()

    def cached(self, creds: Credentials) -> Identity | None:
        """The remembered identity for these credentials, or None when it must be looked up."""
        key = creds.token_hash or creds.session_hash
        if key is None:
            return ANONYMOUS
        found = self._cache.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    async def resolve(self, creds: Credentials) -> Identity:
        """The identity behind these credentials (one indexed query when not cached)."""
        known = self.cached(creds)
        if known is not None:
            return known
        identity = await self.runtime.read(lambda: self._lookup(creds))
        key = creds.token_hash or creds.session_hash
        assert key is not None
        self._cache[key] = (time.monotonic() + TTL_SECONDS, identity)
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return identity

    def _lookup(self, creds: Credentials) -> Identity:
        with self.runtime.db.read() as db:
            if creds.token_hash is not None:
                tokens = _TOKEN.rows(db, {"hash": creds.token_hash})
                if not tokens:
                    return ANONYMOUS
                user_id, app_id, role = tokens[0]
                if user_id is None:
                    return Identity(account_key=f"app{app_id}", bearer=True)
                return Identity(
                    account_key=f"u{user_id}", is_admin=role == Role.ADMIN.value, bearer=True
                )
            sessions = _SESSION.rows(db, {"hash": creds.session_hash})
            if not sessions or utc(sessions[0][2]) < utcnow():
                return ANONYMOUS
            user_id, role, _expires = sessions[0]
            return Identity(account_key=f"u{user_id}", is_admin=role == Role.ADMIN.value)

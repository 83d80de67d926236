"""The signed-in browser: session cookie, the member behind it, and CSRF protection.

Cookie contract (shared with the OAuth consent page): `parvis_session` holds the raw token from
`accounts.services.start_web_session`. Signed-in forms carry the session's CSRF token;
anonymous forms (log in, sign up, reset) carry a signed, timestamped copy of a random nonce kept
in the `parvis_csrf` cookie (double submit): a forger can neither read the cookie nor sign.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from parvis.accounts import services as accounts
from parvis.accounts.models import User, WebSession
from parvis.config import Settings
from parvis.errors import PermissionDenied, Unauthenticated
from parvis.runtime import Runtime
from parvis.social import notifications
from parvis.social.visibility import ANONYMOUS, Viewer, load_viewer

SESSION_COOKIE = "parvis_session"
CSRF_COOKIE = "parvis_csrf"
ANONYMOUS_TOKEN_SECONDS = 6 * 3600
CSRF_FAILED = (
    "This form expired or did not come from this site (CSRF check failed). "
    "Go back, reload the page and try again."
)


@dataclass
class Page:
    """Who is looking at a page, and the token their forms must send back."""

    settings: Settings
    user: User | None = None
    web_session: WebSession | None = None
    viewer: Viewer = ANONYMOUS
    unread: int = 0
    csrf_nonce: str = ""
    set_nonce_cookie: bool = False
    clear_session: bool = False

    @property
    def csrf_token(self) -> str:
        """The token every POST form of this page carries."""
        if self.web_session is not None:
            return self.web_session.csrf_token
        return _anonymous_token(self.settings, self.csrf_nonce)

    def require_user(self) -> User:
        """The signed-in member, or a 401 page inviting them to log in."""
        if self.user is None:
            raise Unauthenticated("Log in to do this.")
        return self.user

    def check_csrf(self, token: str) -> None:
        """Refuse a form whose CSRF token is missing, forged, stale or from another browser."""
        if self.web_session is not None:
            expected = self.web_session.csrf_token
            if not token or not hmac.compare_digest(token, expected):
                raise PermissionDenied(CSRF_FAILED)
            return
        if not token or not self.csrf_nonce or self.set_nonce_cookie:
            raise PermissionDenied(CSRF_FAILED)
        try:
            nonce = _serializer(self.settings).loads(token, max_age=ANONYMOUS_TOKEN_SECONDS)
        except BadSignature as exc:
            raise PermissionDenied(CSRF_FAILED) from exc
        if not isinstance(nonce, str) or not hmac.compare_digest(nonce, self.csrf_nonce):
            raise PermissionDenied(CSRF_FAILED)

    def finish(self, response: Response) -> None:
        """Set the cookies this page decided on."""
        secure = self.settings.secure_cookies
        if self.set_nonce_cookie:
            response.set_cookie(
                CSRF_COOKIE, self.csrf_nonce, httponly=True, samesite="lax", secure=secure
            )
        if self.clear_session:
            response.delete_cookie(SESSION_COOKIE)


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret(), salt="parvis.web.csrf")


def _anonymous_token(settings: Settings, nonce: str) -> str:
    return _serializer(settings).dumps(nonce) if nonce else ""


def load_page(request: Request) -> Page:
    """FastAPI dependency: resolve the session cookie once per request."""
    runtime: Runtime = request.app.state.runtime
    page = Page(settings=runtime.settings)
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        with runtime.db.session(read_only=True) as session:  # every page: takes no write lock
            resolved = accounts.resolve_web_session(session, raw)
            if resolved is not None:
                page.web_session, page.user = resolved
                page.viewer = load_viewer(session, page.user.id)
                page.unread = notifications.unread_count(session, page.viewer)
            else:
                page.clear_session = True
    if page.user is None:
        page.csrf_nonce = request.cookies.get(CSRF_COOKIE, "")
        if len(page.csrf_nonce) < 16:
            page.csrf_nonce = secrets.token_urlsafe(24)
            page.set_nonce_cookie = True
    request.state.page = page
    return page


def set_session_cookie(response: Response, raw: str, settings: Settings) -> None:
    """Give the browser its session cookie (HttpOnly, SameSite=Lax, Secure behind HTTPS)."""
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def client_address(request: Request) -> str:
    """The client address as the shield resolved it (forwarded-for believed only from trusted
    proxies), else the peer address."""
    resolved = request.scope.get("parvis.client")  # parvis.shield.middleware.SCOPE_CLIENT
    if resolved is not None:
        return str(resolved.host)
    return request.client.host if request.client else "unknown"

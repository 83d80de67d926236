"""The signed-in browser: session cookie, the member behind it, and CSRF protection.

Cookie contract (shared with the OAuth consent page): `parvis_session` holds the raw token from
`accounts.services.start_web_session`. Signed-in forms carry the session's CSRF token;
anonymous forms carry an HMAC of a random nonce kept in the `parvis_csrf` cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from fastapi import Request
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
    cookies_to_set: dict[str, str] = field(default_factory=dict)
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
        """Refuse a form whose CSRF token is missing or wrong."""
        expected = self.csrf_token
        if not token or not expected or not hmac.compare_digest(token, expected):
            raise PermissionDenied(CSRF_FAILED)

    def finish(self, response: Response) -> None:
        """Set the cookies this page decided on."""
        secure = self.settings.secure_cookies
        if self.set_nonce_cookie:
            response.set_cookie(
                CSRF_COOKIE, self.csrf_nonce, httponly=True, samesite="lax", secure=secure
            )
        for name, value in self.cookies_to_set.items():
            response.set_cookie(
                name,
                value,
                max_age=self.settings.session_days * 86400,
                httponly=True,
                samesite="lax",
                secure=secure,
            )
        if self.clear_session:
            response.delete_cookie(SESSION_COOKIE)


def _anonymous_token(settings: Settings, nonce: str) -> str:
    if not nonce:
        return ""
    return hmac.new(settings.secret().encode(), nonce.encode(), hashlib.sha256).hexdigest()


def load_page(request: Request) -> Page:
    """FastAPI dependency: resolve the session cookie once per request."""
    runtime: Runtime = request.app.state.runtime
    page = Page(settings=runtime.settings)
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        with runtime.db.session() as session:
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


def client_address(request: Request) -> str:
    """The peer address (forwarded-for headers are not trusted here)."""
    return request.client.host if request.client else "unknown"

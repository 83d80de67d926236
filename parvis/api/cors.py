"""Cross-origin access to the JSON API, for Mastodon apps that run in a browser.

Web clients such as Elk, Phanpy or Pinafore are served from their own origins and call the
instance's API with a bearer token; without CORS headers the browser hides every answer from
them. Parvis allows what Mastodon allows: any origin may call the API, the OAuth token and
revocation endpoints and the discovery documents, without credentials, so cookies are never
sent and a page on another site can do nothing a signed-in member's session could. HTML pages
(and the consent page, `/oauth/authorize`) get no CORS headers.

It is Starlette's `CORSMiddleware`, applied to those paths only, and placed outermost so that
the shield's refusals (429, 503) are readable by the app that was refused.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

CROSS_ORIGIN_PATHS = ("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/", "/nodeinfo/")
EXPOSED = ["Link", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"]


class ApiCors:
    """CORS for the API paths; every other request passes through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["*"],
            allow_credentials=False,
            expose_headers=EXPOSED,
            max_age=86400,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(CROSS_ORIGIN_PATHS):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)

"""OAuth 2 for Mastodon clients: app registration, authorization codes (with PKCE), tokens
(authorization code, password and client-credentials grants) and revocation.

The consent page itself is HTML and lives in `parvis.web.oauth_consent`; it calls the
service functions here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from parvis.accounts import services as accounts
from parvis.accounts.models import User
from parvis.accounts.tokens import hash_token, new_token
from parvis.api.auth import SCOPES, Caller, caller
from parvis.api.models import OAuthApp, OAuthCode, OAuthToken
from parvis.errors import InvalidInput, NotFound, RateLimited
from parvis.runtime import Runtime, get_runtime
from parvis.storage.base import utcnow

router = APIRouter()
OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)


class OAuthError(Exception):
    """An RFC 6749 error: `error` code, a description, and the HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def parse_scopes(requested: str, allowed: str | None = None) -> str:
    """Normalise a scope string, refusing unknown scopes or ones the app was not granted."""
    scopes = requested.replace("+", " ").split() or ["read"]
    for scope in scopes:
        if scope.split(":")[0] not in ("read", "write", "follow", "push", "admin"):
            raise InvalidInput(f"Unknown scope '{scope}'. Known: {', '.join(SCOPES)}.", "scopes")
    if allowed is not None:
        granted = set(allowed.split())
        for scope in scopes:
            if scope not in granted and scope.split(":")[0] not in granted:
                raise InvalidInput(f"The app was not registered for the '{scope}' scope.", "scope")
    return " ".join(dict.fromkeys(scopes))


def register_app(
    session: Session, name: str, redirect_uris: str, scopes: str, website: str | None
) -> tuple[OAuthApp, str]:
    """Register a client app; returns it and its client secret (shown once)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("client_name is required (at most 100 characters).", "client_name")
    uris = [u.strip() for u in redirect_uris.replace(",", "\n").split("\n") if u.strip()]
    if not uris:
        raise InvalidInput(
            "redirect_uris is required (use urn:ietf:wg:oauth:2.0:oob).", "redirect_uris"
        )
    for uri in uris:
        if uri != OOB and "://" not in uri:
            raise InvalidInput(f"redirect_uri '{uri}' must be an absolute URI.", "redirect_uris")
    client_id, _ = new_token(24)
    secret, secret_hash = new_token(32)
    app = OAuthApp(
        name=name,
        website=website or None,
        client_id=client_id,
        client_secret_hash=secret_hash,
        redirect_uris="\n".join(uris),
        scopes=parse_scopes(scopes),
    )
    session.add(app)
    session.flush()
    return app, secret


def app_entity(app: OAuthApp, secret: str | None = None) -> dict[str, Any]:
    """The Application entity (with credentials right after registration)."""
    uris = app.redirect_uris.split("\n")
    entity: dict[str, Any] = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes.split(),
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        "vapid_key": "",
    }
    if secret is not None:
        entity.update(client_id=app.client_id, client_secret=secret, client_secret_expires_at=0)
    return entity


def find_app(session: Session, client_id: str) -> OAuthApp:
    """The app with this client id, or NotFound."""
    app = session.scalar(select(OAuthApp).where(OAuthApp.client_id == client_id))
    if app is None:
        raise NotFound("Unknown client_id: register the app with POST /api/v1/apps first.")
    return app


def issue_code(
    session: Session,
    app: OAuthApp,
    user: User,
    redirect_uri: str,
    scopes: str,
    challenge: str | None,
    method: str | None,
) -> str:
    """Create a single-use authorization code for a member's consent."""
    if redirect_uri not in app.redirect_uris.split("\n"):
        raise InvalidInput(
            "redirect_uri does not match one registered for the app.", "redirect_uri"
        )
    if challenge and (method or "plain") not in ("S256", "plain"):
        raise InvalidInput("code_challenge_method must be S256 or plain.", "code_challenge_method")
    raw, digest = new_token()
    session.add(
        OAuthCode(
            code_hash=digest,
            app_id=app.id,
            user_id=user.id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            code_challenge=challenge or None,
            code_challenge_method=(method or "plain") if challenge else None,
            expires_at=utcnow() + CODE_LIFETIME,
        )
    )
    return raw


def _issue_token(
    session: Session, app: OAuthApp, user_id: int | None, scopes: str
) -> dict[str, Any]:
    raw, digest = new_token()
    session.add(OAuthToken(token_hash=digest, app_id=app.id, user_id=user_id, scopes=scopes))
    return {
        "access_token": raw,
        "token_type": "Bearer",
        "scope": scopes,
        "created_at": int(time.time()),
    }


def _pkce_ok(code: OAuthCode, verifier: str) -> bool:
    if code.code_challenge is None:
        return True
    if not verifier:
        return False
    if code.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        computed = verifier
    return hmac.compare_digest(computed, code.code_challenge)


def exchange(
    session: Session, runtime: Runtime, form: dict[str, str], address: str
) -> dict[str, Any]:
    """Handle POST /oauth/token for every supported grant."""
    grant = form.get("grant_type", "")
    client_id = form.get("client_id", "")
    app = session.scalar(select(OAuthApp).where(OAuthApp.client_id == client_id))
    secret = form.get("client_secret", "")
    if app is None or (
        secret and not hmac.compare_digest(hash_token(secret), app.client_secret_hash)
    ):
        raise OAuthError("invalid_client", "Unknown client or wrong client secret.", 401)
    needs_secret = grant in ("client_credentials", "password")
    if needs_secret and not secret:
        raise OAuthError("invalid_client", "client_secret is required for this grant.", 401)
    if grant == "authorization_code":
        code = session.scalar(
            select(OAuthCode).where(OAuthCode.code_hash == hash_token(form.get("code", "")))
        )
        if code is None or code.app_id != app.id:
            raise OAuthError("invalid_grant", "The authorization code is not valid.")
        if code.used_at is not None:
            raise OAuthError("invalid_grant", "The authorization code was already used.")
        if code.expires_at < utcnow():
            raise OAuthError("invalid_grant", "The authorization code has expired.")
        if form.get("redirect_uri", code.redirect_uri) != code.redirect_uri:
            raise OAuthError(
                "invalid_grant", "redirect_uri differs from the authorization request."
            )
        if not secret and code.code_challenge is None:
            raise OAuthError(
                "invalid_client", "client_secret or a PKCE code_verifier is required.", 401
            )
        if not _pkce_ok(code, form.get("code_verifier", "")):
            raise OAuthError("invalid_grant", "The PKCE code_verifier does not match.")
        code.used_at = utcnow()
        return _issue_token(session, app, code.user_id, code.scopes)
    if grant == "password":
        try:
            scopes = parse_scopes(form.get("scope", "read"), app.scopes)
            user = accounts.authenticate(
                session,
                runtime.settings,
                form.get("username", ""),
                form.get("password", ""),
                address,
            )
        except RateLimited as exc:
            raise OAuthError("invalid_grant", exc.message, 429) from exc
        except InvalidInput as exc:
            raise OAuthError("invalid_scope", exc.message) from exc
        if user is None:
            session.commit()  # keep the failed attempt for login throttling
            raise OAuthError("invalid_grant", accounts.WRONG_CREDENTIALS)
        return _issue_token(session, app, user.id, scopes)
    if grant == "client_credentials":
        try:
            scopes = parse_scopes(form.get("scope", "read"), app.scopes)
        except InvalidInput as exc:
            raise OAuthError("invalid_scope", exc.message) from exc
        return _issue_token(session, app, None, scopes)
    raise OAuthError(
        "unsupported_grant_type",
        "grant_type must be authorization_code, password or client_credentials.",
    )


async def _read_form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError as exc:
            raise InvalidInput("The request body is not valid JSON.") from exc
        if not isinstance(data, dict):
            raise InvalidInput("The request body must be a JSON object.")
        return {str(k): str(v) for k, v in data.items() if v is not None}
    form = await request.form()
    values = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    values.update({k: v for k, v in request.query_params.items() if k not in values})
    return values


@router.post("/api/v1/apps", tags=["apps"])
async def create_app(request: Request, runtime: Runtime = Depends(get_runtime)) -> dict[str, Any]:
    """Register a client application (Mastodon's POST /api/v1/apps)."""
    form = await _read_form(request)

    def work() -> dict[str, Any]:
        with runtime.db.session() as session:
            app, secret = register_app(
                session,
                form.get("client_name", ""),
                form.get("redirect_uris", ""),
                form.get("scopes", "read"),
                form.get("website"),
            )
            return app_entity(app, secret)

    return await run_in_threadpool(work)


@router.get("/api/v1/apps/verify_credentials", tags=["apps"])
def verify_app(
    who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> dict[str, Any]:
    """The app behind the token."""
    with runtime.db.session() as session:
        if who.app_id is None:
            raise NotFound("This token belongs to no app.")
        return app_entity(session.get_one(OAuthApp, who.app_id))


@router.post("/oauth/token", tags=["oauth"])
async def token(request: Request, runtime: Runtime = Depends(get_runtime)) -> Response:
    """Exchange a grant for a bearer token (RFC 6749 errors on failure)."""
    form = await _read_form(request)
    address = request.client.host if request.client else "unknown"

    def work() -> Response:
        try:
            with runtime.db.session() as session:
                return JSONResponse(exchange(session, runtime, form, address))
        except OAuthError as exc:
            headers = (
                {"Retry-After": str(runtime.settings.login_window_seconds)}
                if exc.status == 429
                else {}
            )
            return JSONResponse(
                {"error": exc.error, "error_description": exc.description},
                status_code=exc.status,
                headers=headers,
            )

    return await run_in_threadpool(work)


@router.post("/oauth/revoke", tags=["oauth"])
async def revoke(request: Request, runtime: Runtime = Depends(get_runtime)) -> dict[str, Any]:
    """Revoke a token (always answers {} as RFC 7009 asks, even for unknown tokens)."""
    form = await _read_form(request)

    def work() -> None:
        with runtime.db.session() as session:
            row = session.scalar(
                select(OAuthToken).where(OAuthToken.token_hash == hash_token(form.get("token", "")))
            )
            app = session.scalar(
                select(OAuthApp).where(OAuthApp.client_id == form.get("client_id", ""))
            )
            if row is not None and app is not None and row.app_id == app.id:
                row.revoked_at = utcnow()

    await run_in_threadpool(work)
    return {}

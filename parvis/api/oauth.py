"""OAuth 2 for Mastodon clients: authorization codes (with PKCE), tokens (authorization code,
password and client-credentials grants) and revocation (RFC 6749, 7009, 7636).

The consent page (GET/POST /oauth/authorize) is HTML and lives in `parvis.web.oauth_consent`,
next to the session cookie it needs; it calls `find_app`, `parse_scopes` and `issue_code` here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from parvis.accounts import services as accounts
from parvis.accounts.models import User
from parvis.accounts.tokens import hash_token, new_token
from parvis.api import entities
from parvis.api.auth import SCOPES
from parvis.api.models import OAuthApp, OAuthCode, OAuthToken
from parvis.api.params import read_form
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
            parts = scope.split(":")
            # A granted scope covers its sub-scopes: `admin:read` covers `admin:read:reports`.
            if not any(":".join(parts[:n]) in granted for n in range(1, len(parts) + 1)):
                raise InvalidInput(f"The app was not registered for the '{scope}' scope.", "scope")
    return " ".join(dict.fromkeys(scopes))


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


def issue_token(
    session: Session, app: OAuthApp, user_id: int | None, scopes: str
) -> entities.Token:
    """Create a bearer token (only its hash is stored) and return the Token entity, once."""
    raw, digest = new_token()
    session.add(OAuthToken(token_hash=digest, app_id=app.id, user_id=user_id, scopes=scopes))
    return entities.token(raw, scopes, int(time.time()))


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


def _client(session: Session, form: dict[str, str], grant: str) -> OAuthApp:
    """The calling app, checked against its secret (required by the grants that skip PKCE)."""
    app = session.scalar(select(OAuthApp).where(OAuthApp.client_id == form.get("client_id", "")))
    secret = form.get("client_secret", "")
    if app is None or (
        secret and not hmac.compare_digest(hash_token(secret), app.client_secret_hash)
    ):
        raise OAuthError("invalid_client", "Unknown client or wrong client secret.", 401)
    if grant in ("client_credentials", "password") and not secret:
        raise OAuthError("invalid_client", "client_secret is required for this grant.", 401)
    return app


def password_grant(runtime: Runtime, form: dict[str, str], address: str) -> entities.Token:
    """The resource-owner password grant: checks the credentials outside any write
    transaction (see `accounts.authenticate`), then issues the token in a short one."""
    with runtime.db.session(read_only=True) as session:
        app = _client(session, form, "password")
        app_id = app.id
        try:
            scopes = parse_scopes(form.get("scope", "read"), app.scopes)
        except InvalidInput as exc:
            raise OAuthError("invalid_scope", exc.message) from exc
    try:
        user_id = accounts.authenticate(
            runtime.db,
            runtime.settings,
            form.get("username", ""),
            form.get("password", ""),
            address,
        )
    except RateLimited as exc:
        raise OAuthError("invalid_grant", exc.message, 429) from exc
    if user_id is None:
        raise OAuthError("invalid_grant", accounts.WRONG_CREDENTIALS)
    with runtime.db.session() as session:
        return issue_token(session, session.get_one(OAuthApp, app_id), user_id, scopes)


def exchange(session: Session, form: dict[str, str]) -> entities.Token:
    """Handle POST /oauth/token for the authorization-code and client-credentials grants."""
    grant = form.get("grant_type", "")
    app = _client(session, form, grant)
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
        if not form.get("client_secret") and code.code_challenge is None:
            raise OAuthError(
                "invalid_client", "client_secret or a PKCE code_verifier is required.", 401
            )
        if not _pkce_ok(code, form.get("code_verifier", "")):
            raise OAuthError("invalid_grant", "The PKCE code_verifier does not match.")
        code.used_at = utcnow()
        return issue_token(session, app, code.user_id, code.scopes)
    if grant == "client_credentials":
        try:
            scopes = parse_scopes(form.get("scope", "read"), app.scopes)
        except InvalidInput as exc:
            raise OAuthError("invalid_scope", exc.message) from exc
        return issue_token(session, app, None, scopes)
    raise OAuthError(
        "unsupported_grant_type",
        "grant_type must be authorization_code, password or client_credentials.",
    )


def _oauth_error(exc: OAuthError, runtime: Runtime) -> Response:
    headers = (
        {"Retry-After": str(runtime.settings.login_window_seconds)} if exc.status == 429 else {}
    )
    body: entities.Error = {"error": exc.error, "error_description": exc.description}
    return JSONResponse(body, status_code=exc.status, headers=headers)


@router.post("/oauth/token", tags=["oauth"])
def token(
    request: Request,
    form: dict[str, str] = Depends(read_form),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Exchange a grant for a bearer token; failures use RFC 6749's error codes."""
    address = request.client.host if request.client else "unknown"
    try:
        if form.get("grant_type") == "password":
            issued = password_grant(runtime, form, address)
        else:
            with runtime.db.session() as session:
                issued = exchange(session, form)
    except OAuthError as exc:
        return _oauth_error(exc, runtime)
    return JSONResponse(issued)


@router.post("/oauth/revoke", tags=["oauth"])
def revoke(
    form: dict[str, str] = Depends(read_form), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Revoke a token of the calling app (answers {} even for unknown tokens, per RFC 7009)."""
    with runtime.db.session() as session:
        app = session.scalar(
            select(OAuthApp).where(OAuthApp.client_id == form.get("client_id", ""))
        )
        secret = form.get("client_secret", "")
        if app is None or not hmac.compare_digest(hash_token(secret), app.client_secret_hash):
            return _oauth_error(
                OAuthError("invalid_client", "Unknown client or wrong client secret.", 401),
                runtime,
            )
        row = session.scalar(
            select(OAuthToken).where(OAuthToken.token_hash == hash_token(form.get("token", "")))
        )
        if row is not None and row.app_id == app.id and row.revoked_at is None:
            row.revoked_at = utcnow()
    return JSONResponse({})

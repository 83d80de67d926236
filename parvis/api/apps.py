"""Client applications: POST /api/v1/apps registers one, verify_credentials shows it."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from parvis.accounts.tokens import new_token
from parvis.api import entities
from parvis.api.auth import Caller, caller
from parvis.api.models import OAuthApp
from parvis.api.oauth import OOB, parse_scopes
from parvis.api.params import Params, read_params
from parvis.errors import InvalidInput, NotFound
from parvis.runtime import Runtime, get_runtime

router = APIRouter(prefix="/api/v1/apps", tags=["apps"])


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


def app_entity(app: OAuthApp, secret: str | None = None) -> entities.Application:
    """The Application entity (with its credentials right after registration only)."""
    uris = app.redirect_uris.split("\n")
    entity: entities.Application = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes.split(),
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        "vapid_key": "",
    }
    if secret is not None:
        entity["client_id"] = app.client_id
        entity["client_secret"] = secret
        entity["client_secret_expires_at"] = 0
    return entity


@router.post("")
def create_app(
    params: Params = Depends(read_params), runtime: Runtime = Depends(get_runtime)
) -> entities.Application:
    """Register a client application; the client secret is shown this once.

    `redirect_uris` may be one string (newline separated) or an array, as Mastodon 4.3 allows.
    """
    with runtime.db.session() as session:
        app, secret = register_app(
            session,
            params.get("client_name"),
            "\n".join(params.list("redirect_uris")),
            params.get("scopes", "read"),
            params.get("website") or None,
        )
        return app_entity(app, secret)


@router.get("/verify_credentials")
def verify_app(
    who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> entities.Application:
    """The app behind the token (any valid token may ask)."""
    with runtime.db.session() as session:
        app = session.get(OAuthApp, who.app_id) if who.app_id is not None else None
        if app is None:
            raise NotFound("This token belongs to no app.")
        return app_entity(app)

"""The OAuth consent page (GET/POST /oauth/authorize): a signed-in member approves an app."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from parvis.accounts.models import User
from parvis.api import oauth
from parvis.errors import InvalidInput
from parvis.runtime import Runtime, get_runtime
from parvis.web.common import redirect
from parvis.web.session import Page, load_page
from parvis.web.templating import render

router = APIRouter()


@router.get("/oauth/authorize")
def consent_page(
    request: Request,
    client_id: str = "",
    redirect_uri: str = "",
    response_type: str = "code",
    scope: str = "read",
    state: str = "",
    code_challenge: str = "",
    code_challenge_method: str = "",
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Ask the member whether the app may act for them (log in first if needed)."""
    if response_type != "code":
        raise InvalidInput("response_type must be 'code'.", "response_type")
    with runtime.db.session() as session:
        app = oauth.find_app(session, client_id)
        scopes = oauth.parse_scopes(scope, app.scopes)
        if redirect_uri not in app.redirect_uris.split("\n"):
            raise InvalidInput("redirect_uri does not match one registered for the app.")
    if page.user is None:
        return redirect("/login?next=" + _quote(str(request.url.path) + "?" + request.url.query))
    return render(
        request,
        "oauth_consent.html",
        {
            "app": app,
            "scopes": scopes.split(),
            "values": {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": scopes,
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": code_challenge_method,
            },
        },
    )


def _quote(value: str) -> str:
    return urlencode({"x": value})[2:]


@router.post("/oauth/authorize")
def consent(
    request: Request,
    client_id: str = Form(""),
    redirect_uri: str = Form(""),
    scope: str = Form("read"),
    state: str = Form(""),
    code_challenge: str = Form(""),
    code_challenge_method: str = Form(""),
    decision: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Record the member's answer and send the browser back to the app."""
    page.check_csrf(csrf_token)
    user = page.require_user()
    with runtime.db.session() as session:
        app = oauth.find_app(session, client_id)
        scopes = oauth.parse_scopes(scope, app.scopes)
        if decision != "approve":
            if redirect_uri == oauth.OOB or redirect_uri not in app.redirect_uris.split("\n"):
                return render(
                    request,
                    "message.html",
                    {"heading": "Access denied", "message": f"{app.name} was not given access."},
                )
            return redirect(
                redirect_uri + "?" + urlencode({"error": "access_denied", "state": state})
            )
        code = oauth.issue_code(
            session,
            app,
            session.get_one(User, user.id),
            redirect_uri,
            scopes,
            code_challenge or None,
            code_challenge_method or None,
        )
    if redirect_uri == oauth.OOB:
        return render(
            request,
            "message.html",
            {"heading": "Authorization code", "message": f"Copy this code into {app.name}: {code}"},
        )
    query = {"code": code, **({"state": state} if state else {})}
    return redirect(redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(query))

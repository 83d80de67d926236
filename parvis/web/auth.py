"""Sign-up, e-mail verification, log in and out, forgotten passwords."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from parvis.accounts import services as accounts
from parvis.errors import ParvisError, RateLimited
from parvis.runtime import Runtime, get_runtime
from parvis.web.common import errors_of, redirect, safe_next
from parvis.web.session import (
    SESSION_COOKIE,
    Page,
    client_address,
    load_page,
    set_session_cookie,
)
from parvis.web.templating import render

router = APIRouter()

SIGNUP_FIELDS: list[dict[str, Any]] = [
    {
        "name": "username",
        "label": "Username",
        "required": True,
        "autocomplete": "username",
        "help": "3 to 30 letters, digits or underscores. It is public.",
    },
    {
        "name": "email",
        "label": "E-mail",
        "type": "email",
        "required": True,
        "autocomplete": "email",
        "help": "We send a link to confirm it. Never shown publicly.",
    },
    {
        "name": "password",
        "label": "Password",
        "type": "password",
        "required": True,
        "autocomplete": "new-password",
        "help": "At least 10 characters; a phrase of unrelated words works well.",
    },
]
LOGIN_FIELDS: list[dict[str, Any]] = [
    {
        "name": "username",
        "label": "Username or e-mail",
        "required": True,
        "autocomplete": "username",
    },
    {
        "name": "password",
        "label": "Password",
        "type": "password",
        "required": True,
        "autocomplete": "current-password",
    },
]


def _form(
    request: Request,
    heading: str,
    action: str,
    fields: list[dict[str, Any]],
    submit: str,
    status: int = 200,
    **extra: Any,
) -> Response:
    context = {"heading": heading, "action": action, "fields": fields, "submit": submit, **extra}
    return render(request, "form_page.html", context, status_code=status)


def _message(
    request: Request,
    heading: str,
    message: str,
    status: int = 200,
    link: str | None = None,
    link_label: str = "",
) -> Response:
    return render(
        request,
        "message.html",
        {"heading": heading, "message": message, "link": link, "link_label": link_label},
        status_code=status,
    )


@router.get("/signup")
def signup_form(request: Request, page: Page = Depends(load_page)) -> Response:
    """The sign-up form."""
    if page.user:
        return redirect("/")
    return _form(
        request,
        "Join the square",
        "/signup",
        SIGNUP_FIELDS,
        "Create account",
        after='Already a member? <a href="/login">Log in</a>.',
    )


@router.post("/signup")
def signup(
    request: Request,
    username: str = Form(""),
    email: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Create an unverified account and send the verification e-mail."""
    page.check_csrf(csrf_token)
    try:
        with runtime.db.session() as session:
            user = accounts.sign_up(session, runtime.services, username, email, password)
            raw, _row = accounts.start_web_session(
                session, runtime.settings, user, request.headers.get("user-agent", "")
            )
    except ParvisError as exc:
        return _form(
            request,
            "Join the square",
            "/signup",
            SIGNUP_FIELDS,
            "Create account",
            status=exc.status_code,
            errors=errors_of(exc),
            values={"username": username, "email": email},
        )
    response = redirect("/welcome")
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=runtime.settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=runtime.settings.secure_cookies,
    )
    return response


@router.get("/welcome")
def welcome(request: Request, page: Page = Depends(load_page)) -> Response:
    """Where sign-up lands: asks the new member to open the link we e-mailed."""
    user = page.require_user()
    if user.email_verified_at is not None:
        return redirect("/")
    return _message(
        request,
        "Check your e-mail",
        f"Welcome, @{user.username}! We sent a link to {user.email}. Open it to confirm your "
        "address; then you can post, reply and vote.",
        link="/",
        link_label="Go to the square",
    )


@router.get("/verify-email")
def verify_email(
    request: Request,
    token: str = "",
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Landing page of the verification link."""
    try:
        with runtime.db.session() as session:
            user = accounts.verify_email(session, token)
    except ParvisError as exc:
        return _message(
            request,
            "Link not valid",
            exc.message,
            status=exc.status_code,
            link="/settings/profile" if page.user else "/login",
            link_label="Ask for a new link" if page.user else "Log in",
        )
    return _message(
        request,
        "Address confirmed",
        f"Thank you, @{user.username}: your e-mail address is confirmed.",
        link="/",
        link_label="Start posting",
    )


@router.post("/verify-email/resend")
def resend_verification(
    request: Request,
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Send a fresh verification link to the signed-in member."""
    page.check_csrf(csrf_token)
    user = page.require_user()
    with runtime.db.session() as session:
        accounts.send_verification(session, runtime.services, accounts.get_user(session, user.id))
    return redirect("/settings/profile?done=link-sent")


@router.get("/login")
def login_form(
    request: Request, next: str = "/", done: str = "", page: Page = Depends(load_page)
) -> Response:
    """The log-in form (after a password reset, with a confirmation)."""
    if page.user:
        return redirect(safe_next(next))
    fields = [*LOGIN_FIELDS, {"name": "next", "type": "hidden", "value": safe_next(next)}]
    flash = ""
    if done == "password-reset":
        flash = "Password changed and every session logged out. Log in with your new password."
    return _form(
        request,
        "Log in",
        "/login",
        fields,
        "Log in",
        flash=flash,
        after='<a href="/forgot-password">Forgot your password?</a> · '
        '<a href="/signup">Create an account</a>',
    )


@router.post("/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Check credentials (throttled per address and account) and open a session."""
    page.check_csrf(csrf_token)
    fields = [*LOGIN_FIELDS, {"name": "next", "type": "hidden", "value": safe_next(next)}]
    headers: dict[str, str] = {}
    try:
        user_id = accounts.authenticate(
            runtime.db, runtime.settings, username, password, client_address(request)
        )
        raw = None
        if user_id is not None:
            with runtime.db.session() as session:
                user = accounts.get_user(session, user_id)
                raw, _row = accounts.start_web_session(
                    session, runtime.settings, user, request.headers.get("user-agent", "")
                )
    except RateLimited as exc:
        errors, status = {"_form": exc.message}, 429
        headers["Retry-After"] = str(exc.retry_after)
    else:
        if raw is not None:
            response = redirect(safe_next(next))
            set_session_cookie(response, raw, runtime.settings)
            return response
        errors, status = {"_form": accounts.WRONG_CREDENTIALS}, 422
    failed = _form(
        request,
        "Log in",
        "/login",
        fields,
        "Log in",
        status=status,
        errors=errors,
        values={"username": username},
    )
    failed.headers.update(headers)
    return failed


@router.post("/logout")
def logout(
    request: Request,
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """End this browser's session."""
    page.check_csrf(csrf_token)
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        with runtime.db.session() as session:
            accounts.end_web_session(session, raw)
    response = redirect("/public")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/forgot-password")
def forgot_form(request: Request, page: Page = Depends(load_page)) -> Response:
    """Ask for a password reset link."""
    fields = [
        {"name": "email", "label": "Your account's e-mail", "type": "email", "required": True}
    ]
    return _form(
        request,
        "Forgot your password?",
        "/forgot-password",
        fields,
        "Send me a link",
        intro="We will e-mail you a link to choose a new password.",
    )


@router.post("/forgot-password")
def forgot(
    request: Request,
    email: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Send the reset link (the answer is the same whether or not the address is known)."""
    page.check_csrf(csrf_token)
    with runtime.db.session() as session:
        accounts.request_password_reset(session, runtime.services, email)
    return redirect("/forgot-password/sent")


@router.get("/forgot-password/sent")
def forgot_sent(
    request: Request, page: Page = Depends(load_page), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """The same answer whether or not the address is known (no account probing)."""
    return _message(
        request,
        "Check your e-mail",
        "If an account uses this address, a reset "
        f"link is on its way. It works once, for {runtime.settings.password_reset_minutes}"
        " minutes.",
    )


RESET_FIELDS: list[dict[str, Any]] = [
    {
        "name": "password",
        "label": "New password",
        "type": "password",
        "required": True,
        "autocomplete": "new-password",
        "help": "At least 10 characters.",
    },
]


@router.get("/reset-password")
def reset_form(
    request: Request,
    token: str = "",
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The new-password form, if the link is still good."""
    try:
        with runtime.db.session() as session:
            accounts.check_reset_token(session, token)
    except ParvisError as exc:
        return _message(
            request,
            "Link not valid",
            exc.message,
            status=exc.status_code,
            link="/forgot-password",
            link_label="Ask for a new link",
        )
    fields = [*RESET_FIELDS, {"name": "token", "type": "hidden", "value": token}]
    return _form(request, "Choose a new password", "/reset-password", fields, "Save password")


@router.post("/reset-password")
def reset(
    request: Request,
    token: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Set the new password; every session of the account ends."""
    page.check_csrf(csrf_token)
    try:
        accounts.reset_password(runtime.db, runtime.settings, token, password)
    except ParvisError as exc:
        fields = [*RESET_FIELDS, {"name": "token", "type": "hidden", "value": token}]
        return _form(
            request,
            "Choose a new password",
            "/reset-password",
            fields,
            "Save password",
            status=exc.status_code,
            errors=errors_of(exc),
        )
    return redirect("/login?done=password-reset")

"""Settings pages: profile and avatar, muted words, blocked and muted accounts, password."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from starlette.responses import Response

from parvis.accounts import services as accounts
from parvis.accounts.models import User
from parvis.errors import InvalidInput, NotFound, ParvisError
from parvis.runtime import Runtime, get_runtime
from parvis.social import graph, media
from parvis.web.common import errors_of, redirect
from parvis.web.session import Page, load_page
from parvis.web.templating import render

router = APIRouter(prefix="/settings")

PROFILE_FIELDS = [
    {"name": "display_name", "label": "Display name", "help": "Up to 60 characters."},
    {"name": "bio", "label": "Bio", "type": "textarea", "rows": 4},
    {
        "name": "avatar",
        "label": "Avatar (JPEG, PNG, GIF or WebP)",
        "type": "file",
        "accept": "image/jpeg,image/png,image/gif,image/webp",
    },
]


def _profile_page(
    request: Request,
    user: User,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    flash: str = "",
) -> Response:
    unverified = user.email_verified_at is None
    return render(
        request,
        "settings_profile.html",
        {
            "tab": "profile",
            "fields": PROFILE_FIELDS,
            "errors": errors,
            "flash": flash,
            "values": values or {"display_name": user.display_name, "bio": user.bio},
            "unverified": unverified,
        },
        status_code=status,
    )


PROFILE_FLASHES = {
    "saved": "Profile saved.",
    "link-sent": "We sent a new confirmation link to your e-mail address.",
}


@router.get("/profile")
def profile_form(request: Request, done: str = "", page: Page = Depends(load_page)) -> Response:
    """Edit display name, bio and avatar."""
    return _profile_page(request, page.require_user(), flash=PROFILE_FLASHES.get(done, ""))


@router.post("/profile")
def profile_save(
    request: Request,
    display_name: str = Form(""),
    bio: str = Form(""),
    avatar: UploadFile | None = File(None),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Save the profile; an avatar must be an image (metadata is stripped)."""
    page.check_csrf(csrf_token)
    user = page.require_user()
    try:
        with runtime.db.session() as session:
            me = session.get_one(User, user.id)
            avatar_key = None
            if avatar is not None and avatar.filename:
                stored = media.store_upload(
                    session, runtime.settings, me, filename=avatar.filename, data=avatar.file.read()
                )
                if stored.kind != "image":
                    raise InvalidInput("An avatar must be an image, not a document.", "avatar")
                avatar_key = stored.storage_key
            accounts.update_profile(me, display_name=display_name, bio=bio, avatar_path=avatar_key)
            user = me
    except ParvisError as exc:
        errors = errors_of(exc)
        if "file" in errors:
            errors["avatar"] = errors.pop("file")
        return _profile_page(
            request, user, errors, {"display_name": display_name, "bio": bio}, exc.status_code
        )
    return redirect("/settings/profile?done=saved")


@router.get("/muted-words")
def muted_words(
    request: Request, page: Page = Depends(load_page), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """List and add muted words."""
    user = page.require_user()
    with runtime.db.session() as session:
        words = graph.muted_words(session, session.get_one(User, user.id))
        return render(request, "muted_words.html", {"tab": "words", "words": words})


@router.post("/muted-words")
def add_muted_word(
    request: Request,
    phrase: str = Form(""),
    whole_word: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Mute a word or phrase."""
    page.check_csrf(csrf_token)
    user = page.require_user()
    try:
        with runtime.db.session() as session:
            graph.add_muted_word(session, session.get_one(User, user.id), phrase, bool(whole_word))
    except ParvisError as exc:
        with runtime.db.session() as session:
            words = graph.muted_words(session, session.get_one(User, user.id))
        return render(
            request,
            "muted_words.html",
            {"tab": "words", "words": words, "errors": errors_of(exc)},
            status_code=exc.status_code,
        )
    return redirect("/settings/muted-words")


@router.post("/muted-words/{word_id}/delete")
def remove_muted_word(
    word_id: int,
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Unmute a word."""
    page.check_csrf(csrf_token)
    user = page.require_user()
    with runtime.db.session() as session:
        graph.remove_muted_word(session, session.get_one(User, user.id), word_id)
    return redirect("/settings/muted-words")


@router.get("/{which}")
def account_lists(
    request: Request,
    which: str,
    done: str = "",
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Blocked or muted accounts, with a button to undo (and the password form)."""
    user = page.require_user()
    if which == "password":
        return _password_page(request, flash="Password changed." if done == "changed" else "")
    if which not in ("blocks", "mutes"):
        raise NotFound("No such settings page.")
    with runtime.db.session() as session:
        users = graph.list_accounts(session, user.id, which, limit=500)
        return render(
            request,
            "settings_accounts.html",
            {
                "tab": which,
                "users": users,
                "undo": "unblock" if which == "blocks" else "unmute",
                "heading": "Blocked accounts" if which == "blocks" else "Muted accounts",
            },
        )


PASSWORD_FIELDS = [
    {
        "name": "current_password",
        "label": "Current password",
        "type": "password",
        "required": True,
        "autocomplete": "current-password",
    },
    {
        "name": "new_password",
        "label": "New password",
        "type": "password",
        "required": True,
        "autocomplete": "new-password",
        "help": "At least 10 characters.",
    },
]


def _password_page(
    request: Request, errors: dict[str, str] | None = None, status: int = 200, flash: str = ""
) -> Response:
    return render(
        request,
        "settings_password.html",
        {
            "tab": "password",
            "fields": PASSWORD_FIELDS,
            "errors": errors,
            "flash": flash,
        },
        status_code=status,
    )


@router.post("/password")
def change_password(
    request: Request,
    current_password: str = Form(""),
    new_password: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Change the password, knowing the current one."""
    page.check_csrf(csrf_token)
    user = page.require_user()
    try:
        accounts.change_password(
            runtime.db,
            runtime.settings,
            user.id,
            current_password,
            new_password,
            keep_session_id=page.web_session.id if page.web_session else None,
        )
    except ParvisError as exc:
        errors = errors_of(exc)
        if "password" in errors:
            errors["new_password"] = errors.pop("password")
        return _password_page(request, errors, exc.status_code)
    return redirect("/settings/password?done=changed")

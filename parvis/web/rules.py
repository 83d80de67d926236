"""The public rulebook: the current version, earlier ones, and the diff between any two."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from parvis.accounts.models import User
from parvis.errors import InvalidInput, PermissionDenied
from parvis.moderation import publication
from parvis.moderation.rulebook import RulebookError, diff, load_rulebook
from parvis.runtime import Runtime, get_runtime
from parvis.web.common import redirect
from parvis.web.session import Page, load_page
from parvis.web.templating import render

router = APIRouter()


@router.get("/rules")
def current_rules(
    request: Request, page: Page = Depends(load_page), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """The rules in force, with links to every earlier version."""
    return _rules_page(request, runtime, None)


@router.get("/rules/diff")
def rules_diff(
    request: Request,
    old: int,
    new: int,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """What changed between two published versions."""
    if old == new:
        raise InvalidInput("Choose two different versions to compare.")
    with runtime.db.session() as session:
        before = publication.get_version(session, old)
        after = publication.get_version(session, new)
        lines = diff(before.content, after.content, f"version {old}", f"version {new}")
        return render(
            request,
            "rules_diff.html",
            {
                "old": before,
                "new": after,
                "lines": lines,
                "versions": publication.versions(session),
            },
        )


@router.get("/rules/publish")
def publish_form(
    request: Request, page: Page = Depends(load_page), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Admins: edit the rulebook as text and publish it as the next version."""
    _admin(page)
    with runtime.db.session() as session:
        current = publication.get_version(session)
        text = re.sub(
            r"^version\s*=\s*\d+",
            f"version = {current.version + 1}",
            current.content,
            count=1,
            flags=re.MULTILINE,
        )
        return render(
            request, "rules_publish.html", {"text": text, "problems": [], "current": current}
        )


@router.post("/rules/publish")
def publish(
    request: Request,
    text: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Check and publish; problems are listed with their line and nothing is stored."""
    page.check_csrf(csrf_token)
    admin = _admin(page)
    try:
        load_rulebook(text)
    except RulebookError as exc:
        with runtime.db.session() as session:
            current = publication.get_version(session)
        return render(
            request,
            "rules_publish.html",
            {"text": text, "problems": exc.problems, "current": current},
            status_code=422,
        )
    with runtime.db.session() as session:
        row = publication.publish(session, text, session.get_one(User, admin.id))
        version = row.version
    return redirect(f"/rules/{version}")


def _admin(page: Page) -> User:
    user = page.require_user()
    if not user.is_admin:
        raise PermissionDenied("Only admins publish the rulebook.")
    return user


@router.get("/rules/{version}")
def rules_version(
    request: Request,
    version: int,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """One published version."""
    return _rules_page(request, runtime, version)


def _rules_page(request: Request, runtime: Runtime, version: int | None) -> Response:
    with runtime.db.session() as session:
        row = publication.get_version(session, version)
        all_versions = publication.versions(session)
        return render(
            request,
            "rules.html",
            {
                "row": row,
                "rulebook": publication.parsed(row),
                "versions": all_versions,
                "current": all_versions[0].version,
            },
        )

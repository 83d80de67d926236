"""The public rulebook: the current version, earlier ones, and the diff between any two."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from parvis.errors import InvalidInput
from parvis.moderation import publication
from parvis.moderation.rulebook import diff
from parvis.runtime import Runtime, get_runtime
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

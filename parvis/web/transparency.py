"""The public transparency report (page and downloads) and the moderators' consistency report."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from starlette.responses import Response

from parvis.errors import InvalidInput, PermissionDenied
from parvis.runtime import Runtime, get_runtime
from parvis.storage.base import utcnow
from parvis.transparency import consistency, render
from parvis.transparency.period import Period, parse_period
from parvis.transparency.report import build_report
from parvis.web.session import Page, load_page
from parvis.web.templating import render as render_page
from parvis.web.templating import templates

router = APIRouter()
STATIC_DIR = Path(__file__).parent / "static"
DOWNLOADS = [("md", "Markdown"), ("html", "HTML"), ("csv", "CSV"), ("json", "JSON")]
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}


def _presets(today: date) -> list[tuple[str, str, str]]:
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    return [
        ("last 30 days", (today - timedelta(days=29)).isoformat(), today.isoformat()),
        ("this month", month_start.isoformat(), today.isoformat()),
        ("last month", last_month_end.replace(day=1).isoformat(), last_month_end.isoformat()),
        ("this year", today.replace(month=1, day=1).isoformat(), today.isoformat()),
    ]


def _period(request: Request) -> tuple[Period, str]:
    """The period asked for, or the default one with the reason the request was refused."""
    try:
        return parse_period(request.query_params.get("from"), request.query_params.get("to")), ""
    except InvalidInput as exc:
        return parse_period(None, None), exc.message


def standalone_html(report_html_context: dict[str, object]) -> str:
    """A report as one self-contained HTML document (styles inlined, charts as SVG)."""
    css = (STATIC_DIR / "transparency.css").read_text("utf-8")
    template = templates.env.get_template("transparency/standalone.html")
    return template.render(**report_html_context, css=Markup(css))  # noqa: S704 - our own file


@router.get("/transparency")
def transparency_page(
    request: Request, page: Page = Depends(load_page), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """The report for a chosen period, with charts; public, no sign-in needed."""
    period, error = _period(request)
    with runtime.db.session() as session:
        report = build_report(session, period, runtime.settings.instance_name)
    return render_page(
        request,
        "transparency/report.html",
        {
            "report": report,
            "period": period,
            "error": error,
            "charts": [Markup(svg) for svg in render.report_charts(report)],  # noqa: S704 - escaped in charts.py
            "presets": _presets(utcnow().date()),
            "downloads": DOWNLOADS,
        },
        status_code=422 if error else 200,
    )


@router.get("/transparency/report.{fmt}")
def transparency_download(
    fmt: str, request: Request, runtime: Runtime = Depends(get_runtime)
) -> Response:
    """The same report as a file: Markdown, HTML, CSV or JSON."""
    if fmt not in MEDIA_TYPES:
        raise InvalidInput(f"Formats: {', '.join(MEDIA_TYPES)}.", "format")
    period = parse_period(request.query_params.get("from"), request.query_params.get("to"))
    with runtime.db.session() as session:
        report = build_report(session, period, runtime.settings.instance_name)
    if fmt == "html":
        body = standalone_html(
            {
                "report": report,
                "charts": [Markup(svg) for svg in render.report_charts(report)],  # noqa: S704
            }
        )
    else:
        body = {"md": render.to_markdown, "csv": render.to_csv, "json": render.to_json}[fmt](report)
    name = f"transparency-{period.first.isoformat()}-{period.last.isoformat()}.{fmt}"
    return Response(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.get("/moderation/consistency")
def consistency_page(
    request: Request, page: Page = Depends(load_page), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Same content treated differently, and action rates by audience size and account age;
    for moderators and admins only."""
    user = page.require_user()
    if not user.is_moderator:
        raise PermissionDenied("Only moderators and admins can open the consistency report.")
    period, error = _period(request)
    with runtime.db.session() as session:
        found = consistency.build_consistency(session, period)
    return render_page(
        request,
        "transparency/consistency.html",
        {"result": found, "period": period, "error": error},
        status_code=422 if error else 200,
    )

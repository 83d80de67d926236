"""The notice form (DSA Art. 16): anyone reports a post, account or address."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy import select
from starlette.responses import Response

from parvis.accounts.models import User
from parvis.errors import NotFound, ParvisError
from parvis.moderation import notice_appeals, notices
from parvis.moderation.dsa import CATEGORIES
from parvis.moderation.models import Appeal, Notice
from parvis.runtime import Runtime, get_runtime
from parvis.web.common import errors_of, redirect
from parvis.web.session import Page, load_page
from parvis.web.templating import render

router = APIRouter()

CATEGORY_LABELS = {
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": "Illegal or harmful speech (hate, defamation)",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE": "Harassment, stalking, threats",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN": "Cyber violence against women",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS": "Private information (doxxing)",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD": "Scams, fraud, impersonation",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": "Protection of minors",
    "STATEMENT_CATEGORY_VIOLENCE": "Violence",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY": "Terrorism or risk to public security",
    "STATEMENT_CATEGORY_SELF_HARM": "Self-harm",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS": "Intellectual property",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS": "Elections",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION": "Consumer information",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS": "Unsafe or prohibited products",
    "STATEMENT_CATEGORY_ANIMAL_WELFARE": "Animal welfare",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC": "Breaks this instance's rules (not illegal)",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE": "Illegal, of another kind",
}
assert set(CATEGORY_LABELS) == set(CATEGORIES)


def _form(
    request: Request,
    page: Page,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "report.html",
        {"values": values, "errors": errors, "categories": CATEGORY_LABELS},
        status_code=status,
    )


@router.get("/report")
def report_form(request: Request, url: str = "", page: Page = Depends(load_page)) -> Response:
    """The notice form, with the reported address filled in when coming from a post."""
    values = {
        "location": url,
        "name": page.user.name if page.user else "",
        "email": page.user.email if page.user else "",
    }
    return _form(request, page, values)


@router.post("/report")
def report(
    request: Request,
    location: str = Form(""),
    category: str = Form(""),
    explanation: str = Form(""),
    name: str = Form(""),
    email: str = Form(""),
    good_faith: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Record the notice and acknowledge it at once."""
    page.check_csrf(csrf_token)
    values = {
        "location": location,
        "category": category,
        "explanation": explanation,
        "name": name,
        "email": email,
        "good_faith": good_faith,
    }
    try:
        with runtime.db.session() as session:
            notifier = session.get(User, page.user.id) if page.user else None
            notice = notices.submit_notice(
                session,
                runtime.services,
                location=location,
                category=category,
                explanation=explanation,
                good_faith=bool(good_faith),
                notifier=notifier,
                name=name,
                email=email,
            )
            notice_id = notice.id
    except ParvisError as exc:
        return _form(request, page, values, errors_of(exc), exc.status_code)
    return render(
        request,
        "message.html",
        {
            "heading": f"Notice #{notice_id} received",
            "message": "Thank you. A moderator will review it; "
            + ("we sent an acknowledgement to your e-mail and " if email or page.user else "")
            + "we will tell you the outcome and the reasons for it.",
            "link": "/",
            "link_label": "Back to the square",
        },
    )


@router.get("/notices/{notice_id}")
def notice_page(
    request: Request,
    notice_id: int,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """A member's own notice: its state, the outcome and, when closed without action, an appeal."""
    user = page.require_user()
    with runtime.db.session() as session:
        notice = session.get(Notice, notice_id)
        if notice is None or notice.notifier_user_id != user.id:
            raise NotFound("No such notice of yours.")
        appeal = session.scalar(select(Appeal).where(Appeal.notice_id == notice.id))
        return render(
            request,
            "notice.html",
            {
                "notice": notice,
                "appeal": appeal,
                "category": CATEGORY_LABELS.get(notice.category, notice.category),
            },
        )


@router.post("/notices/{notice_id}/appeal")
def notice_appeal(
    notice_id: int,
    reason: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Appeal a decision not to act on one's notice."""
    page.check_csrf(csrf_token)
    user = page.require_user()
    with runtime.db.session() as session:
        notice_appeals.file(session, session.get_one(User, user.id), notice_id, reason)
    return redirect(f"/notices/{notice_id}")

"""Statements of reasons: one public page per decision, and the affected member's appeal form."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy import select
from starlette.responses import Response

from parvis.accounts.models import User
from parvis.errors import NotFound, ParvisError
from parvis.moderation import appeals, automated_review
from parvis.moderation.appeals import appeal_deadline
from parvis.moderation.models import Appeal, Decision, DecisionState
from parvis.moderation.services import rule_wording, what_happened
from parvis.runtime import Runtime, get_runtime
from parvis.web.common import errors_of, redirect
from parvis.web.session import Page, load_page
from parvis.web.templating import render

router = APIRouter()

# The Transparency Database's fields in the order of its documentation, so the page lists the
# statement as a regulator reads it (fields a statement leaves out are not shown).
DSA_FIELDS = (
    "decision_visibility",
    "decision_visibility_other",
    "decision_monetary",
    "decision_monetary_other",
    "decision_provision",
    "decision_account",
    "account_type",
    "decision_ground",
    "decision_ground_reference_url",
    "illegal_content_legal_ground",
    "illegal_content_explanation",
    "incompatible_content_ground",
    "incompatible_content_explanation",
    "incompatible_content_illegal",
    "content_type",
    "content_type_other",
    "category",
    "category_addition",
    "category_specification",
    "category_specification_other",
    "territorial_scope",
    "content_language",
    "content_date",
    "application_date",
    "end_date_visibility_restriction",
    "end_date_monetary_restriction",
    "end_date_service_restriction",
    "end_date_account_restriction",
    "decision_facts",
    "source_type",
    "source_identity",
    "automated_detection",
    "automated_decision",
    "puid",
    "content_id",
)


def dsa_rows(statement: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, value as text) for every field the statement carries, in the documented order."""
    rows = []
    for name in (*DSA_FIELDS, *sorted(set(statement) - set(DSA_FIELDS))):
        if name not in statement:
            continue
        value = statement[name]
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        rows.append((name, shown))
    return rows


def _page(
    request: Request,
    runtime: Runtime,
    page: Page,
    decision_id: int,
    errors: dict[str, str] | None = None,
    status: int = 200,
    reason: str = "",
) -> Response:
    with runtime.db.session() as session:
        decision = session.get(Decision, decision_id)
        if decision is None or decision.state == DecisionState.PROPOSED.value:
            raise NotFound("No such statement of reasons.")
        statement = json.loads(decision.statement_json) if decision.statement_json else None
        own = page.user is not None and page.user.id == decision.affected_user_id
        open_appeals = []
        if own:
            open_appeals = list(
                session.scalars(select(Appeal).where(Appeal.decision_id == decision.id))
            )
        return render(
            request,
            "statement.html",
            {
                "decision": decision,
                "statement": statement,
                "dsa_rows": dsa_rows(statement) if statement else [],
                "rule": rule_wording(session, decision),
                "deadline": appeal_deadline(decision),
                "awaits_review": automated_review.awaits_review(decision),
                "what": what_happened(decision, public=True),
                "own": own,
                "appeals": open_appeals,
                "errors": errors,
                "reason": reason,
            },
            status_code=status,
        )


@router.get("/statements/{decision_id}")
def statement_page(
    request: Request,
    decision_id: int,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The statement of reasons of a decision (public: it holds no personal data)."""
    return _page(request, runtime, page, decision_id)


@router.post("/statements/{decision_id}/appeal")
def appeal(
    request: Request,
    decision_id: int,
    reason: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """File an appeal (internal complaint) against a decision that affected the member."""
    page.check_csrf(csrf_token)
    user = page.require_user()
    try:
        with runtime.db.session() as session:
            appeals.file_appeal(session, session.get_one(User, user.id), decision_id, reason)
    except ParvisError as exc:
        if exc.status_code == 404:
            raise
        return _page(request, runtime, page, decision_id, errors_of(exc), exc.status_code, reason)
    return redirect(f"/statements/{decision_id}")

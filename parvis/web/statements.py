"""Statements of reasons: one public page per decision, and the affected member's appeal form."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy import select
from starlette.responses import Response

from parvis.accounts.models import User
from parvis.errors import NotFound, ParvisError
from parvis.moderation import appeals
from parvis.moderation.models import Appeal, Decision, DecisionState
from parvis.moderation.services import what_happened
from parvis.runtime import Runtime, get_runtime
from parvis.web.common import errors_of, redirect
from parvis.web.session import Page, load_page
from parvis.web.templating import render

router = APIRouter()


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

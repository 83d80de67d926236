"""POST /api/v1/reports: a Mastodon report becomes a DSA notice (one per reported status)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from parvis.accounts.models import User
from parvis.api import entities
from parvis.api.auth import Caller, caller
from parvis.api.ids import parse_id
from parvis.api.params import read_params
from parvis.errors import InvalidInput, NotFound
from parvis.moderation import dsa, notices
from parvis.runtime import Runtime, get_runtime
from parvis.social.models import Post

router = APIRouter(prefix="/api/v1", tags=["reports"])
# Mastodon's coarse categories, mapped to DSA categories; `dsa_category` (a Parvis extension)
# names one exactly.
CATEGORIES = {
    "spam": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "legal": "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "violation": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "other": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
}


@router.post("/reports")
async def create_report(
    request: Request, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> dict[str, Any]:
    """Report an account and optionally some of its statuses; the notifier is acknowledged."""
    user = who.member("write:reports")
    params = await read_params(request)
    account_id = params.integer("account_id")
    if account_id is None:
        raise InvalidInput("account_id is required.", "account_id")
    category = params.get("dsa_category") or CATEGORIES.get(params.get("category") or "other", "")
    if category not in dsa.CATEGORIES:
        raise InvalidInput(
            "category must be spam, legal, violation or other "
            "(or give dsa_category, a STATEMENT_CATEGORY_* code).",
            "category",
        )
    status_ids = [n for n in map(parse_id, params.list("status_ids")) if n is not None]
    comment = params.get("comment")
    rule_id = next(iter(params.list("rule_ids")), None)

    def work() -> dict[str, Any]:
        with runtime.db.session() as session:
            target = session.get(User, account_id)
            if target is None:
                raise NotFound("Record not found")
            me = session.get_one(User, user.id)
            locations = []
            for status_id in status_ids:
                post = session.get(Post, status_id)
                if post is None or post.author_id != target.id:
                    raise InvalidInput(
                        f"Status {status_id} is not by the reported account.", "status_ids"
                    )
                locations.append(f"/@{target.username}/{post.id}")
            created = [
                notices.submit_notice(
                    session,
                    runtime.services,
                    location=location,
                    category=category,
                    explanation=comment,
                    good_faith=True,
                    notifier=me,
                    rule_id=rule_id,
                )
                for location in (locations or [f"/@{target.username}"])
            ]
            first = created[0]
            return {
                "id": str(first.id),
                "action_taken": False,
                "action_taken_at": None,
                "category": params.get("category") or "other",
                "comment": comment,
                "forwarded": False,
                "created_at": entities.iso(first.created_at),
                "status_ids": [str(i) for i in status_ids] or None,
                "rule_ids": params.list("rule_ids") or None,
                "target_account": entities.account(target, runtime.settings),
                "parvis": {"notice_ids": [str(n.id) for n in created], "dsa_category": category},
            }

    return await run_in_threadpool(work)

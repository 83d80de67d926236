"""POST /api/v1/reports: a Mastodon report becomes a DSA notice (one per reported status).

The category maps onto a DSA category (`dsa_category`, a Parvis extension, names one
exactly). `rule_ids` must be rules in force (GET /api/v1/instance/rules); a notice cites one
rule, the first given, and the Report entity returned lists the rule it cites.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from typing_extensions import TypedDict

from parvis.accounts.models import User
from parvis.api import entities
from parvis.api.auth import Caller, caller
from parvis.api.instance import rules_in_force
from parvis.api.params import Params, read_params
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


class ReportExtras(TypedDict):
    """The notices the report became (one per reported status) and their DSA category."""

    notice_ids: list[str]
    dsa_category: str


class Report(TypedDict):
    """Mastodon's Report entity."""

    id: str
    action_taken: bool
    action_taken_at: str | None
    category: str
    comment: str
    forwarded: bool
    created_at: str | None
    status_ids: list[str] | None
    rule_ids: list[str] | None
    target_account: entities.Account
    parvis: ReportExtras


def _category(params: Params, cites_rule: bool) -> tuple[str, str]:
    """Mastodon's category (`violation` when a rule is cited) and the notice's DSA category."""
    given = params.get("category") or ("violation" if cites_rule else "other")
    category = "violation" if cites_rule else given
    dsa_category = params.get("dsa_category") or CATEGORIES.get(given, "")
    if dsa_category not in dsa.CATEGORIES:
        raise InvalidInput(
            "category must be spam, legal, violation or other "
            "(or give dsa_category, a STATEMENT_CATEGORY_* code).",
            "category",
        )
    return category, dsa_category


def _cited_rule(runtime: Runtime, rule_ids: list[str]) -> str | None:
    """The rule the notice cites: the first of `rule_ids`, all of which must be in force."""
    if not rule_ids:
        return None
    with runtime.db.session() as session:
        known = [r["id"] for r in rules_in_force(session)]
    unknown = [r for r in rule_ids if r not in known]
    if unknown:
        raise InvalidInput(
            f"Unknown rule '{unknown[0][:60]}': rule_ids are the ids of "
            f"GET /api/v1/instance/rules ({', '.join(known) or 'none published yet'}).",
            "rule_ids",
        )
    return rule_ids[0]


@router.post("/reports")
async def create_report(
    request: Request, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> Report:
    """Report an account and optionally some of its statuses (`status_ids[]`) under a
    category and the rules broken (`rule_ids[]`); the notifier is acknowledged."""
    user = who.member("write:reports")
    params = await read_params(request)
    account_id = params.integer("account_id")
    if account_id is None:
        raise InvalidInput("account_id is required.", "account_id")
    status_ids = params.ids("status_ids")
    comment = params.get("comment")
    rule_ids = [r.strip() for r in params.list("rule_ids") if r.strip()]
    rule_id = await run_in_threadpool(_cited_rule, runtime, rule_ids)
    category, dsa_category = _category(params, rule_id is not None)

    def work() -> Report:
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
                    category=dsa_category,
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
                "category": category,
                "comment": comment,
                "forwarded": False,
                "created_at": entities.iso(first.created_at),
                "status_ids": [str(i) for i in status_ids] or None,
                "rule_ids": [rule_id] if rule_id else None,
                "target_account": entities.account(target, runtime.settings),
                "parvis": {
                    "notice_ids": [str(n.id) for n in created],
                    "dsa_category": dsa_category,
                },
            }

    return await run_in_threadpool(work)

"""The public /log page: the latest signed head, the key, the newest leaves, how to check."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from parvis.audit import keys, log
from parvis.audit.heads import b64
from parvis.runtime import Runtime, get_runtime
from parvis.web.session import Page, load_page
from parvis.web.templating import render

router = APIRouter()
PER_PAGE = 50


def describe(fields: dict[str, Any]) -> tuple[str, str | None]:
    """A leaf in words, and a link to the public page of what it records."""
    kind = fields.get("kind")
    if kind == "decision":
        what = f"{fields.get('action', '?').replace('_', ' ')} under rule {fields.get('rule_id')}"
        version = fields.get("rulebook_version")
        return f"Decision {fields.get('decision_id')}: {what} (rulebook v{version})", (
            f"/statements/{fields.get('decision_id')}"
        )
    if kind == "appeal":
        about = (
            f"decision {fields['decision_id']}"
            if fields.get("decision_id")
            else f"notice {fields.get('notice_id')}"
        )
        return f"Appeal {fields.get('appeal_id')} about {about}: {fields.get('outcome')}", None
    if kind == "rulebook":
        return (
            f"Rulebook version {fields.get('version')} published "
            f"(SHA-256 {str(fields.get('content_hash'))[:16]}…)",
            f"/rules/{fields.get('version')}",
        )
    if kind == "list":
        change = "added to" if fields.get("change") == "add" else "removed from"
        return (
            f"List entry {fields.get('entry_id')} ({fields.get('entry_kind')}) {change} "
            f"{fields.get('list')}, rule {fields.get('rule_id')}",
            None,
        )
    if kind == "role":
        return (
            f"@{fields.get('username')} became {fields.get('role')}",
            f"/@{fields.get('username')}",
        )
    return str(kind), None


@router.get("/log")
def log_page(
    request: Request,
    before: Annotated[int | None, Query(ge=0)] = None,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The provable moderation log, newest entries first."""
    key = keys.signing_key(runtime.settings)
    with runtime.db.session() as session:
        head = log.latest_head(session, key)
        end = head.tree_size if before is None else min(before, head.tree_size)
        start = max(0, end - PER_PAGE)
        rows = list(reversed(log.leaf_range(session, start, end)))
        entries = []
        for row in rows:
            fields = json.loads(row.data)
            text, link = describe(fields)
            entries.append(
                {"index": row.leaf_index, "text": text, "link": link, "at": row.created_at}
            )
    public = keys.public_key_bytes(key)
    return render(
        request,
        "log.html",
        {
            "head": head,
            "root_hex": head.root_hash.hex(),
            "signature": b64(head.signature),
            "signed_at": datetime.fromtimestamp(head.timestamp_ms / 1000, UTC),
            "public_key": b64(public),
            "entries": entries,
            "older": start if start > 0 else None,
        },
    )

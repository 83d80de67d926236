"""Parvis's moderation lists over the API, under /api/parvis/v1/lists: hacked materials (URLs,
domains, document fingerprints) and watched words. Moderators only, with admin scopes; every
entry cites a rule, and adding one returns the decisions it proposed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from parvis.accounts.models import User
from parvis.api.auth import Caller, caller
from parvis.api.ids import MAX_ID
from parvis.api.params import read_params
from parvis.errors import InvalidInput, PermissionDenied
from parvis.moderation import lists
from parvis.moderation.models import ListEntry
from parvis.runtime import Runtime, get_runtime

router = APIRouter(prefix="/api/parvis/v1/lists", tags=["parvis: moderation lists"])


def _moderator(who: Caller, scope: str) -> User:
    user = who.member(scope)
    if not user.is_moderator:
        raise PermissionDenied("Only moderators manage moderation lists.")
    return user


def _entry(entry: ListEntry) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "list": entry.list_name,
        "kind": entry.kind,
        "value": entry.value,
        "fingerprint": entry.fingerprint or None,
        "rule_id": entry.rule_id,
        "note": entry.note,
        "added_by_id": str(entry.added_by_id) if entry.added_by_id else None,
        "created_at": entry.created_at.isoformat().replace("+00:00", "Z"),
    }


@router.get("/{list_name}")
async def list_entries(
    list_name: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> list[dict[str, Any]]:
    """The entries of `hacked-materials` or `watched-words`, newest first."""
    _moderator(who, "admin:read")

    def work() -> list[dict[str, Any]]:
        with runtime.db.session() as session:
            return [_entry(e) for e in lists.entries(session, list_name)]

    return await run_in_threadpool(work)


@router.post("/{list_name}")
async def add_list_entry(
    list_name: str,
    request: Request,
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """Add an entry (`kind`, `value`, `rule_id`, optional `note`); returns it with the ids of
    the decisions it proposed for review (blocking the link, warnings on posts)."""
    user = _moderator(who, "admin:write")
    params = await read_params(request)
    kind, value, rule_id = params.get("kind"), params.get("value"), params.get("rule_id")
    if not (kind and value and rule_id):
        raise InvalidInput("kind, value and rule_id are all required.", "kind")

    def work() -> dict[str, Any]:
        with runtime.db.session() as session:
            entry, proposals = lists.add_entry(
                session,
                session.get_one(User, user.id),
                kind=kind,
                value=value,
                rule_id=rule_id,
                note=params.get("note") or "",
                list_name=list_name,
            )
            return {**_entry(entry), "proposed_decision_ids": [str(d.id) for d in proposals]}

    return await run_in_threadpool(work)


@router.delete("/{list_name}/{entry_id}")
async def remove_list_entry(
    list_name: str,
    entry_id: int = Path(..., ge=1, le=MAX_ID),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """Take an entry off the list; decisions already taken stay until reversed."""
    user = _moderator(who, "admin:write")

    def work() -> dict[str, Any]:
        with runtime.db.session() as session:
            entry = lists.remove_entry(session, session.get_one(User, user.id), entry_id)
            if entry.list_name != list_name:
                raise InvalidInput(f"Entry {entry_id} is on the {entry.list_name} list.", "id")
            return _entry(entry)

    return await run_in_threadpool(work)
